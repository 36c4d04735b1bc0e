"""Brain FDG-PET DCGAN (Islam & Zhang): one unconditional GAN per Alzheimer stage (NC, MCI, AD).

From the paper: 100 latent numbers from U(-1, 1) -> fully connected layer -> five strided transposed convolutions,
each with BatchNorm and ReLU except the last (tanh) -> a 128 x 128 x 3 image (here three adjacent axial slices as
channels). Discriminator: five 5 x 5 strided convolutions with BatchNorm and LeakyReLU 0.2, then a fully connected
layer (+ sigmoid in the paper; a raw logit here). All weights N(0, 0.02) (BatchNorm scales N(1, 0.02)).

Chosen here (configurable): 5 x 5 transposed kernels to match the discriminator's (TensorFlow DCGAN style);
generator widths 128 -> 64 -> 32 -> 16 -> 8 -> 3 and discriminator widths 16 -> 32 -> 64 -> 96 -> 128, narrower
than Radford's 1024-wide DCGAN so that three stage models stay a few MB each; BatchNorm momentum 0.1 (the TensorFlow
DCGAN's decay 0.9). The paper puts BatchNorm on every discriminator conv; Radford's rule would drop it on the first
layer (``discriminator_first_batchnorm=False``).
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor, nn

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.networks.config_checks import (
    require_fraction,
    require_positive_int,
    require_positive_ints,
)
from MedGANSynthLib.networks.gan_base import LATENT_DISTRIBUTIONS, GANDiscriminator, GANGenerator
from MedGANSynthLib.networks.init import initialise_weights
from MedGANSynthLib.networks.layers import (
    append_minibatch_stddev,
    check_discriminator_norm,
    check_upsampling,
    resize_conv,
    same_transposed_conv,
    spectrally_normalise,
)

LAYERS = 5  # five transposed convs in G, five strided convs in D (the paper)


@dataclass
class BrainDCGANConfig:
    image_size: int = 128
    channels: int = 3
    latent_dim: int = 100
    latent_distribution: str = "uniform"
    generator_base_channels: int = 128
    generator_kernel_size: int = 5
    discriminator_channels: tuple[int, ...] = (16, 32, 64, 96, 128)
    discriminator_kernel_size: int = 5
    discriminator_first_batchnorm: bool = True
    leaky_slope: float = 0.2
    batchnorm_momentum: float = 0.1
    weight_init: str = "dcgan"
    discriminator_norm: str = "batch"  # the paper; "spectral" for the bundled models (see layers.spectrally_normalise)
    minibatch_std: bool = False  # not the paper: batch-spread feature before the Dense (layers.append_minibatch_stddev)
    generator_upsampling: str = "transposed"  # the paper; "resize" = nearest x2 + 3x3 conv (layers.UPSAMPLINGS)

    def __post_init__(self) -> None:
        self.discriminator_channels = tuple(self.discriminator_channels)
        for name in ("image_size", "channels", "latent_dim", "generator_base_channels", "generator_kernel_size",
                     "discriminator_kernel_size"):
            require_positive_int(name, getattr(self, name))
        require_positive_ints("discriminator_channels", self.discriminator_channels, min_length=LAYERS)
        if len(self.discriminator_channels) != LAYERS:
            raise InputError(f"The brain DCGAN discriminator has {LAYERS} conv layers; give {LAYERS} channel counts.")
        require_fraction("batchnorm_momentum", self.batchnorm_momentum, allow_zero=False)
        check_discriminator_norm(self.discriminator_norm)
        check_upsampling(self.generator_upsampling, "brain DCGAN generator")
        if self.latent_distribution not in LATENT_DISTRIBUTIONS:
            raise InputError(f"latent_distribution must be one of {LATENT_DISTRIBUTIONS}, got '{self.latent_distribution}'.")
        if self.image_size % (1 << LAYERS):
            raise InputError(f"Brain DCGAN image size must be a multiple of {1 << LAYERS}, got {self.image_size}.")
        if self.generator_base_channels >> (LAYERS - 1) < 1:
            raise InputError("generator_base_channels must be at least 16 (it halves four times).")

    @property
    def base_size(self) -> int:
        return self.image_size >> LAYERS

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return (self.channels, self.image_size, self.image_size)


class BrainDCGANGenerator(GANGenerator):
    """z ~ U(-1, 1)^100 -> FC -> (base, 4, 4) -> 5 transposed convs -> tanh, (3, 128, 128)."""

    def __init__(self, config: BrainDCGANConfig) -> None:
        super().__init__()
        self.config = config
        self.latent_dim = config.latent_dim
        self.num_classes = 0
        self.image_shape = config.image_shape
        self.latent_distribution = config.latent_distribution
        self.output_range = (-1.0, 1.0)
        base, size = config.generator_base_channels, config.base_size
        self.project = nn.Linear(config.latent_dim, base * size * size)
        self.project_norm = nn.Sequential(nn.BatchNorm2d(base, momentum=config.batchnorm_momentum), nn.ReLU())
        blocks: list[nn.Module] = []
        channels = base
        for step in range(LAYERS):
            last = step == LAYERS - 1
            out = config.channels if last else base >> (step + 1)
            blocks.append(resize_conv(channels, out) if config.generator_upsampling == "resize" else
                          same_transposed_conv(channels, out, config.generator_kernel_size, stride=2))
            blocks += [nn.Tanh()] if last else [nn.BatchNorm2d(out, momentum=config.batchnorm_momentum), nn.ReLU()]
            channels = out
        self.upsample = nn.Sequential(*blocks)
        initialise_weights(self, config.weight_init)

    def forward_embedded(self, z: Tensor, embedding: Tensor | None) -> Tensor:
        size = self.config.base_size
        x = self.project(z).view(z.shape[0], self.config.generator_base_channels, size, size)
        return self.upsample(self.project_norm(x))

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        self.check_labels(labels, z.shape[0])
        return self.forward_embedded(z, None)


class BrainDCGANDiscriminator(GANDiscriminator):
    """(3, 128, 128) -> 5 strided 5 x 5 convs (BatchNorm, LeakyReLU 0.2) -> FC -> one logit."""

    def __init__(self, config: BrainDCGANConfig) -> None:
        super().__init__()
        self.config = config
        self.num_classes = 0
        self.image_shape = config.image_shape
        kernel = config.discriminator_kernel_size
        layers: list[nn.Module] = []
        channels = config.channels
        for index, out in enumerate(config.discriminator_channels):
            layers.append(nn.Conv2d(channels, out, kernel, stride=2, padding=(kernel - 1) // 2))
            if config.discriminator_norm == "batch" and (index > 0 or config.discriminator_first_batchnorm):
                layers.append(nn.BatchNorm2d(out, momentum=config.batchnorm_momentum))
            layers.append(nn.LeakyReLU(config.leaky_slope))
            channels = out
        self.features = nn.Sequential(*layers)
        self.classify = nn.Linear(channels * config.base_size * config.base_size + int(config.minibatch_std), 1)
        initialise_weights(self, config.weight_init)
        if config.discriminator_norm == "spectral":
            spectrally_normalise(self)

    def forward(self, images: Tensor, labels: Tensor | None = None) -> Tensor:
        self.check_images(images)
        if labels is not None:
            raise InputError("The brain DCGAN is unconditional (one model per stage): do not pass class labels.")
        features = self.features(images).flatten(1)
        if self.config.minibatch_std:
            features = append_minibatch_stddev(features)
        return self.classify(features).squeeze(1)
