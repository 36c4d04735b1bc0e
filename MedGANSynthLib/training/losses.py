"""Adversarial losses by name: ``"bce"`` (the source papers), ``"wgan-gp"`` and ``"hinge"``.

Discriminators return raw logits (no sigmoid). The papers put a sigmoid on the discriminator and train with binary
cross-entropy (RadioGAN, brain-PET DCGAN, CT GAN; seeds 000, 001, 004); computing BCE from logits is the same loss,
numerically stable. The generator uses the non-saturating form -log D(G(z)) that the brain-PET paper describes
("maximises log D(G(z))"). Wasserstein losses (the GAN primer for radiologists, Wolterink et al.) are offered against mode collapse.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from MedGANSynthLib.errors import InputError

GRADIENT_PENALTY_WEIGHT = 10.0  # λ of Gulrajani et al. 2017 (WGAN-GP)


def bce_d_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """-log D(x) - log(1 - D(G(z))), averaged over each batch and summed (the papers' two half-batches)."""
    real = F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
    fake = F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
    return real + fake


def bce_g_loss(fake_logits: Tensor) -> Tensor:
    """Non-saturating generator loss -log D(G(z))."""
    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))


def wgan_d_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """Critic loss E[D(G(z))] - E[D(x)] (the gradient penalty is added separately)."""
    return fake_logits.mean() - real_logits.mean()


def wgan_g_loss(fake_logits: Tensor) -> Tensor:
    return -fake_logits.mean()


def hinge_d_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """E[max(0, 1 - D(x))] + E[max(0, 1 + D(G(z)))]."""
    return F.relu(1.0 - real_logits).mean() + F.relu(1.0 + fake_logits).mean()


def hinge_g_loss(fake_logits: Tensor) -> Tensor:
    return -fake_logits.mean()


def gradient_penalty(
    discriminator: nn.Module,
    real: Tensor,
    fake: Tensor,
    labels: Tensor | None = None,
    generator: torch.Generator | None = None,
) -> Tensor:
    """WGAN-GP penalty E[(||∇D(x̂)||₂ - 1)²] at x̂ = εx + (1-ε)G(z), ε ~ U[0, 1] per sample.

    Batch-norm in the critic is discouraged with WGAN-GP: the penalty is defined per sample, and batch-norm makes
    each output depend on the whole batch (Gulrajani et al. suggest layer-norm or no normalisation instead).
    """
    # Drawn on the CPU (like the latent noise) so one seed gives the same weights on every device.
    epsilon = torch.rand((real.shape[0],) + (1,) * (real.dim() - 1), generator=generator)
    epsilon = epsilon.to(device=real.device, dtype=real.dtype)
    interpolates = (epsilon * real.detach() + (1.0 - epsilon) * fake.detach()).requires_grad_(True)
    logits = discriminator(interpolates, labels) if labels is not None else discriminator(interpolates)
    (gradients,) = torch.autograd.grad(logits.sum(), interpolates, create_graph=True)
    norms = gradients.flatten(1).norm(2, dim=1)
    return ((norms - 1.0) ** 2).mean()


@dataclass(frozen=True)
class AdversarialLoss:
    """A named pair of losses; ``gradient_penalty_weight`` > 0 asks the task to add the WGAN-GP penalty."""

    name: str
    d_loss: Callable[[Tensor, Tensor], Tensor]
    g_loss: Callable[[Tensor], Tensor]
    gradient_penalty_weight: float = 0.0


ADVERSARIAL_LOSSES = {
    "bce": AdversarialLoss("bce", bce_d_loss, bce_g_loss),
    "wgan-gp": AdversarialLoss("wgan-gp", wgan_d_loss, wgan_g_loss, GRADIENT_PENALTY_WEIGHT),
    "hinge": AdversarialLoss("hinge", hinge_d_loss, hinge_g_loss),
}


def adversarial_loss(name: str) -> AdversarialLoss:
    """The loss called ``name`` (bce, wgan-gp or hinge)."""
    key = (name or "").strip().lower()
    if key not in ADVERSARIAL_LOSSES:
        raise InputError(f"Unknown GAN loss '{name}'; choose one of {', '.join(ADVERSARIAL_LOSSES)}.")
    return ADVERSARIAL_LOSSES[key]
