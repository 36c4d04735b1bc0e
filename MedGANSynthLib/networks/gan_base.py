"""The contract every GAN of the library keeps, so training, sampling and weights I/O never special-case a network.

A generator maps a latent batch ``(N, latent_dim)`` (plus class labels when conditional) to images ``(N, C, H, W)``.
A discriminator maps images (plus labels) to raw logits ``(N,)``: no sigmoid, because the losses use
``BCEWithLogits``, which equals the papers' sigmoid + binary cross-entropy but stays finite under mixed precision.
"""

from __future__ import annotations

import abc

import torch
from torch import Tensor, nn

from MedGANSynthLib.errors import InputError

LATENT_DISTRIBUTIONS = ("normal", "uniform")


def draw_latent(
    shape: tuple[int, ...],
    distribution: str,
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
) -> Tensor:
    """Latent noise of ``shape`` = (n, ...): N(0, 1) or U(-1, 1).

    Drawn on the CPU and then moved, so one seed gives the same latent (and the same image) on every device. Drawn
    one sample at a time, because torch's vectorised CPU samplers fill a tensor in size-dependent blocks: this way
    sample ``i`` of a seed is the same whether 1 or 1000 samples are drawn.
    """
    if distribution not in LATENT_DISTRIBUTIONS:
        raise InputError(f"Unknown latent distribution '{distribution}'; choose one of {LATENT_DISTRIBUTIONS}.")
    draw = torch.randn if distribution == "normal" else _uniform_minus_one_to_one
    rows = [draw(shape[1:], generator=generator) for _ in range(shape[0])]
    noise = torch.stack(rows) if rows else torch.empty(shape)
    return noise.to(device) if device is not None else noise


def _uniform_minus_one_to_one(shape: tuple[int, ...], generator: torch.Generator | None = None) -> Tensor:
    return torch.rand(shape, generator=generator) * 2.0 - 1.0


class GANGenerator(nn.Module, abc.ABC):
    """Base class: latent (and label) to image. Subclasses set the attributes below in ``__init__``."""

    latent_dim: int
    num_classes: int  # 0 = unconditional
    image_shape: tuple[int, int, int]  # (C, H, W) of the output
    latent_distribution: str  # "normal" or "uniform"
    output_range: tuple[float, float]  # nominal range of the output (tanh: (-1, 1))

    @property
    def conditional(self) -> bool:
        return self.num_classes > 0

    def sample_latent(
        self, n: int, generator: torch.Generator | None = None, device: torch.device | str | None = None
    ) -> Tensor:
        """``n`` latent vectors ``(n, latent_dim)`` from the model's latent distribution."""
        return draw_latent((int(n), self.latent_dim), self.latent_distribution, generator, device)

    def check_labels(self, labels: Tensor | None, batch: int) -> None:
        """Refuse a missing label on a conditional model, a label on an unconditional one, or a bad class index."""
        if not self.conditional:
            if labels is not None:
                raise InputError("This generator is unconditional: do not pass class labels.")
            return
        if labels is None:
            raise InputError(f"This generator is conditional: pass a class label (0..{self.num_classes - 1}).")
        if labels.shape != (batch,):
            raise InputError(f"Expected {batch} class labels, got a tensor of shape {tuple(labels.shape)}.")
        if labels.numel() and (int(labels.min()) < 0 or int(labels.max()) >= self.num_classes):
            raise InputError(f"Class labels must lie in 0..{self.num_classes - 1}.")

    def embed_labels(self, labels: Tensor) -> Tensor:
        """Label embedding vectors (conditional networks only); latent walks interpolate these between classes."""
        raise InputError(f"{type(self).__name__} has no label embedding (it is unconditional).")

    @abc.abstractmethod
    def forward_embedded(self, z: Tensor, embedding: Tensor | None) -> Tensor:
        """Forward pass from an already computed (possibly interpolated) label embedding."""

    @abc.abstractmethod
    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        """Images (N, C, H, W) in the output range from latents (and class labels when conditional)."""


class GANDiscriminator(nn.Module, abc.ABC):
    """Base class: image (and label) to one raw real/fake logit per image."""

    num_classes: int
    image_shape: tuple[int, int, int]

    @property
    def conditional(self) -> bool:
        return self.num_classes > 0

    @abc.abstractmethod
    def forward(self, images: Tensor, labels: Tensor | None = None) -> Tensor:
        """One raw real/fake logit per image (N,); the losses apply the sigmoid."""

    def check_images(self, images: Tensor) -> None:
        """Refuse an image batch whose (C, H, W) is not the one this (size-specific) discriminator was built for."""
        if images.dim() != 4 or tuple(images.shape[1:]) != tuple(self.image_shape):
            raise InputError(
                f"The discriminator expects images of shape (N, {', '.join(map(str, self.image_shape))}), "
                f"got {tuple(images.shape)}."
            )
