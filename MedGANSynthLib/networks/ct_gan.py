"""Simple CT GAN (a proof of concept on lung CT from LIDC): a fully convolutional generator that scales to larger images.

From the paper: generator of six 3 x 3 transposed convolutions (256 stride 2, 128 stride 2, 64, 32, 16, output),
BatchNorm (Keras momentum 0.9 = PyTorch 0.1) + LeakyReLU 0.2 on all but the last, linear output; intensities scaled
to [0, 2]; 40 x 40 training images; 100 latent numbers from U(-1, 1); weights N(0, 0.02); discriminator of four
3 x 3 convolutions (256 stride 2, then 128, 64, 32) with LeakyReLU 0.2 and Dropout 0.6, Dense 128, Dense 1 (+ sigmoid
in the paper; a raw logit here). The paper's Fig. 3 shows the *same* generator making 64 x 64 images.

How that works here: the generator has no dense layer, so its input is a latent *map* of shape
(latent_channels, H / 4, W / 4) -- the two stride-2 layers make it 4x larger. With one latent channel, 40 x 40
needs exactly the paper's 100 numbers (a 10 x 10 map); a 16 x 16 map of the same U(-1, 1) noise gives 64 x 64 from
the same weights. ``forward`` takes either flat latents ``(N, latent_dim)`` for the configured size or a map
``(N, latent_channels, h, w)`` of any size. The discriminator ends in a Dense layer whose input is
32 * (H / 2) * (W / 2), so it is size-specific: one discriminator per training size, while the generator is not.
The paper's output has 3 channels (grey CT stored as RGB); CT is one channel here (``channels`` is configurable).

Not in the paper, off by default: ``latent_coordinates`` appends two channels holding each latent cell's row and
column position, scaled to [-1, 1] over the map, to the noise map (CoordConv, Liu et al. 2018). Each output pixel
of this generator sees only about 5 x 5 of the 10 x 10 latent cells, so without positions it can only paint a
stationary texture, while a chest slice needs a layout (body outline, two lungs, spine at the back). The positions
span [-1, 1] at every map size, so a 64 x 64 image keeps the same layout on a finer grid.
``generator_upsampling="resize"`` (off by default) replaces the two stride-2 transposed convolutions with nearest x2 +
3 x 3 convolution: a 3 x 3 kernel at stride 2 overlaps unevenly, so the paper's layers paint a 2-pixel grid, which
at 64 x 64 covered the whole body (session 22, picture in HISTORY.md).
``global_latent_channels`` (also off by default) adds latent numbers that are the same in every cell of the map, so
what must agree across the whole image (body size, how much air around it) has a source every pixel sees. Both keep
the generator fully convolutional: flat latents are the map's numbers followed by the global ones.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.networks.config_checks import (
    require_fraction,
    require_positive_int,
    require_positive_ints,
)
from MedGANSynthLib.networks.gan_base import LATENT_DISTRIBUTIONS, GANDiscriminator, GANGenerator, draw_latent
from MedGANSynthLib.networks.init import initialise_weights
from MedGANSynthLib.networks.layers import (
    append_minibatch_stddev,
    check_discriminator_norm,
    check_minibatch_std,
    check_upsampling,
    resize_conv,
    same_conv,
    same_transposed_conv,
    spectrally_normalise,
)

UPSAMPLING = 4  # two stride-2 transposed convs


@dataclass
class CTGANConfig:
    image_height: int = 40
    image_width: int = 40
    channels: int = 1
    latent_channels: int = 1
    latent_distribution: str = "uniform"
    generator_channels: tuple[int, ...] = (256, 128, 64, 32, 16)
    kernel_size: int = 3
    discriminator_channels: tuple[int, ...] = (256, 128, 64, 32)
    discriminator_dense: int = 128
    discriminator_dropout: float = 0.6
    leaky_slope: float = 0.2
    batchnorm_momentum: float = 0.1  # PyTorch convention; Keras momentum 0.9
    output_low: float = 0.0  # the paper scales CT intensities to [0, 2]; the output layer is linear
    output_high: float = 2.0
    weight_init: str = "dcgan"
    discriminator_norm: str = "none"  # the paper has no normalisation in D; "spectral" is available
    minibatch_std: bool = False  # not the paper: batch-spread feature before the Dense (layers.append_minibatch_stddev)
    latent_coordinates: bool = False  # not the paper: row/column position channels beside the noise (see above)
    global_latent_channels: int = 0  # not the paper: latent numbers shared by every cell of the map (see above)
    generator_upsampling: str = "transposed"  # the paper; "resize" = nearest x2 + 3x3 conv (layers.UPSAMPLINGS)

    def __post_init__(self) -> None:
        self.generator_channels = tuple(self.generator_channels)
        self.discriminator_channels = tuple(self.discriminator_channels)
        for name in ("image_height", "image_width", "channels", "latent_channels", "kernel_size", "discriminator_dense"):
            require_positive_int(name, getattr(self, name))
        require_positive_ints("generator_channels", self.generator_channels, min_length=2)
        require_positive_ints("discriminator_channels", self.discriminator_channels, min_length=1)
        if not isinstance(self.global_latent_channels, int) or self.global_latent_channels < 0:
            raise InputError(f"global_latent_channels must be 0 or more, got {self.global_latent_channels!r}.")
        check_minibatch_std(self.minibatch_std, self.discriminator_dropout)
        require_fraction("discriminator_dropout", self.discriminator_dropout)
        require_fraction("batchnorm_momentum", self.batchnorm_momentum, allow_zero=False)
        check_discriminator_norm(self.discriminator_norm)
        check_upsampling(self.generator_upsampling, "CT GAN generator")
        if self.discriminator_norm == "batch":
            raise InputError("The CT GAN discriminator has no BatchNorm in the paper; use discriminator_norm none or spectral.")
        if self.latent_distribution not in LATENT_DISTRIBUTIONS:
            raise InputError(f"latent_distribution must be one of {LATENT_DISTRIBUTIONS}, got '{self.latent_distribution}'.")
        if self.image_height % UPSAMPLING or self.image_width % UPSAMPLING:
            raise InputError(f"CT GAN image sizes must be multiples of 4, got {self.image_height} x {self.image_width}.")
        if not self.output_low < self.output_high:
            raise InputError("CT GAN output_low must be below output_high.")

    @property
    def latent_dim(self) -> int:
        cells = (self.image_height // UPSAMPLING) * (self.image_width // UPSAMPLING)
        return self.latent_channels * cells + self.global_latent_channels

    @property
    def map_channels(self) -> int:
        """Channels of a latent map: the per-cell noise, then the global numbers repeated in every cell."""
        return self.latent_channels + self.global_latent_channels

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return (self.channels, self.image_height, self.image_width)


class CTGANGenerator(GANGenerator):
    """Latent map (c, H/4, W/4) -> 6 transposed 3 x 3 convs -> linear output (C, H, W), at any H, W multiple of 4."""

    def __init__(self, config: CTGANConfig) -> None:
        super().__init__()
        self.config = config
        self.latent_dim = config.latent_dim
        self.num_classes = 0
        self.image_shape = config.image_shape
        self.latent_distribution = config.latent_distribution
        self.output_range = (config.output_low, config.output_high)
        layers: list[nn.Module] = []
        channels = config.map_channels + (2 if config.latent_coordinates else 0)
        for index, out in enumerate(config.generator_channels):
            stride = 2 if index < 2 else 1
            resize = stride == 2 and config.generator_upsampling == "resize"
            layers += [
                resize_conv(channels, out) if resize else
                same_transposed_conv(channels, out, config.kernel_size, stride=stride),
                nn.BatchNorm2d(out, momentum=config.batchnorm_momentum),
                nn.LeakyReLU(config.leaky_slope),
            ]
            channels = out
        layers.append(same_transposed_conv(channels, config.channels, config.kernel_size, stride=1))  # linear
        self.layers = nn.Sequential(*layers)
        initialise_weights(self, config.weight_init)

    def latent_map_shape(self, height: int, width: int) -> tuple[int, int, int]:
        """Latent map shape that yields a ``height`` x ``width`` image (both multiples of 4)."""
        if height % UPSAMPLING or width % UPSAMPLING or height <= 0 or width <= 0:
            raise InputError(f"The CT generator makes sizes that are multiples of 4, not {height} x {width}.")
        return (self.config.map_channels, height // UPSAMPLING, width // UPSAMPLING)

    def sample_latent_map(
        self, n: int, height: int, width: int, generator: torch.Generator | None = None, device=None
    ) -> Tensor:
        """Latent maps ``(n, c, height/4, width/4)`` for images of any size, from the same distribution."""
        _, h, w = self.latent_map_shape(height, width)
        flat = draw_latent((int(n), self.config.latent_channels * h * w + self.config.global_latent_channels),
                           self.latent_distribution, generator, device)
        return self._as_map(flat, h, w)

    def _as_map(self, flat: Tensor, h: int, w: int) -> Tensor:
        """Flat latents (per-cell numbers, then global ones) -> (N, map_channels, h, w)."""
        per_cell = self.config.latent_channels * h * w
        cells = flat[:, :per_cell].reshape(flat.shape[0], self.config.latent_channels, h, w)
        shared = flat[:, per_cell:, None, None].expand(-1, -1, h, w)
        return torch.cat([cells, shared], dim=1)

    def forward_embedded(self, z: Tensor, embedding: Tensor | None) -> Tensor:
        if z.dim() == 2:
            if z.shape[1] != self.latent_dim:
                raise InputError(f"Flat CT latents must have {self.latent_dim} numbers, got {z.shape[1]}.")
            _, h, w = self.latent_map_shape(self.config.image_height, self.config.image_width)
            z = self._as_map(z, h, w)
        elif z.dim() != 4 or z.shape[1] != self.config.map_channels:
            raise InputError(
                f"CT latents must be (N, {self.latent_dim}) or (N, {self.config.map_channels}, h, w); got {tuple(z.shape)}."
            )
        if self.config.latent_coordinates:
            z = torch.cat([z, _coordinate_channels(z)], dim=1)
        return self.layers(z)

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        self.check_labels(labels, z.shape[0])
        return self.forward_embedded(z, None)


def _coordinate_channels(latent_map: Tensor) -> Tensor:
    """(N, 2, h, w): each cell's row and column position, -1 at the first cell and +1 at the last."""
    n, _, h, w = latent_map.shape
    rows = torch.linspace(-1.0, 1.0, h, device=latent_map.device, dtype=latent_map.dtype)
    cols = torch.linspace(-1.0, 1.0, w, device=latent_map.device, dtype=latent_map.dtype)
    grid = torch.stack(torch.meshgrid(rows, cols, indexing="ij"))
    return grid.unsqueeze(0).expand(n, -1, -1, -1)


class CTGANDiscriminator(GANDiscriminator):
    """(C, H, W) -> 4 convs 3 x 3 (first stride 2), LeakyReLU + Dropout 0.6 -> Dense 128 -> Dense 1 logit."""

    def __init__(self, config: CTGANConfig) -> None:
        super().__init__()
        self.config = config
        self.num_classes = 0
        self.image_shape = config.image_shape
        layers: list[nn.Module] = []
        channels = config.channels
        for index, out in enumerate(config.discriminator_channels):
            layers += [
                same_conv(channels, out, config.kernel_size, stride=2 if index == 0 else 1),
                nn.LeakyReLU(config.leaky_slope),
                nn.Dropout(config.discriminator_dropout),
            ]
            channels = out
        self.features = nn.Sequential(*layers)
        # The Dense input depends on the image size: this discriminator only takes its configured size.
        flat = channels * math.ceil(config.image_height / 2) * math.ceil(config.image_width / 2)
        self.classify = nn.Sequential(
            nn.Linear(flat + int(config.minibatch_std), config.discriminator_dense), nn.LeakyReLU(config.leaky_slope),
            nn.Linear(config.discriminator_dense, 1),
        )
        initialise_weights(self, config.weight_init)
        if config.discriminator_norm == "spectral":
            spectrally_normalise(self)

    def forward(self, images: Tensor, labels: Tensor | None = None) -> Tensor:
        self.check_images(images)
        if labels is not None:
            raise InputError("The CT GAN is unconditional: do not pass class labels.")
        features = self.features(images).flatten(1)
        if self.config.minibatch_std:
            features = append_minibatch_stddev(features)
        return self.classify(features).squeeze(1)
