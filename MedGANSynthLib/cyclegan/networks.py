"""The four networks of a CycleGAN: generators G_AB (A -> B) and G_BA (B -> A), discriminators D_A and D_B.

Generators: the paper's ResNet generator (networks/resnet_generator.py) or the pix2pix U-Net (the paper's other
choice, networks/unet_pix2pix.py, with its BatchNorm and dropout and a tanh output). Discriminators: the 70x70
PatchGAN with InstanceNorm (networks/image_patchgan.py). Both domains have the same channels (2c+1 with 2.5-D
input), so the identity loss can feed a B image to G_AB. The defaults are the paper's networks for 256-pixel
images (9 residual blocks, width 1).
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.networks.image_patchgan import ImagePatchGAN
from MedGANSynthLib.networks.patchgan import PatchGANConfig
from MedGANSynthLib.networks.resnet_generator import ResNetGenerator, ResNetGeneratorConfig
from MedGANSynthLib.networks.unet_pix2pix import UNetConfig, UNetGenerator

GENERATORS = ("resnet", "unet")


@dataclass
class CycleGANNetworkSettings:
    channels: int = 1
    generator: str = "resnet"
    residual_blocks: int = 9
    width: float = 1.0
    """Channel factor of all four networks (0.25 = a CPU-sized model)."""
    unet_depth: int = 8
    upsampling: str = "transposed"
    discriminator_strided: int = 3
    """Stride-2 layers of the PatchGAN (3: 70x70 patches)."""

    def validate(self) -> None:
        if self.generator not in GENERATORS:
            raise InputError(f"Unknown CycleGAN generator '{self.generator}'; use one of {', '.join(GENERATORS)}.")
        if self.channels < 1 or self.channels % 2 == 0:
            raise InputError(f"A CycleGAN needs an odd number of channels (2 x context slices + 1); got {self.channels}.")
        if not 0 < self.width <= 4:
            raise InputError(f"--width must be a factor above 0 and at most 4 (got {self.width}).")
        if self.residual_blocks < 0:
            raise InputError(f"--residual-blocks must be 0 or more (got {self.residual_blocks}).")
        if not 1 <= self.unet_depth <= 8:
            raise InputError(f"--unet-depth must be 1 to 8 (got {self.unet_depth}).")
        if not 1 <= self.discriminator_strided <= 5:
            raise InputError(f"The PatchGAN needs 1 to 5 strided layers (got {self.discriminator_strided}).")

    def generator_config(self) -> ResNetGeneratorConfig | UNetConfig:
        if self.generator == "resnet":
            return ResNetGeneratorConfig(in_channels=self.channels, out_channels=self.channels,
                                         residual_blocks=self.residual_blocks, width=self.width,
                                         upsampling=self.upsampling)
        return UNetConfig(in_channels=self.channels, out_channels=self.channels, depth=self.unet_depth,
                          width=self.width, output_activation="tanh", upsampling=self.upsampling)

    def discriminator_config(self) -> PatchGANConfig:
        return PatchGANConfig(ct_channels=self.channels, pet_channels=1, width=self.width,
                              n_strided=self.discriminator_strided)


def build_generator(settings: CycleGANNetworkSettings) -> nn.Module:
    settings.validate()
    config = settings.generator_config()
    return ResNetGenerator(config) if isinstance(config, ResNetGeneratorConfig) else UNetGenerator(config)


def build_cyclegan(settings: CycleGANNetworkSettings) -> dict[str, nn.Module]:
    """{"g_ab", "g_ba", "d_a", "d_b"}: fresh networks (draws from torch's global RNG: seed it first)."""
    settings.validate()
    return {"g_ab": build_generator(settings), "g_ba": build_generator(settings),
            "d_a": ImagePatchGAN(settings.discriminator_config()), "d_b": ImagePatchGAN(settings.discriminator_config())}
