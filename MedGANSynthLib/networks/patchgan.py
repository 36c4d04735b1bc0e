"""The 70x70 PatchGAN discriminator of pix2pix, as used for virtual PET (Ben-Cohen et al.).

C64-C128-C256-C512-C1, all 4x4 convolutions; the first three downsample by 2, the last two have stride 1
(Isola et al.). No BatchNorm on the first layer, LeakyReLU 0.2. The input is the CT channels concatenated with
a PET (real or generated); the output is a map of logits, one per 70x70 input patch.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from MedGANSynthLib.errors import InputError

KERNEL = 4


@dataclass
class PatchGANConfig:
    ct_channels: int = 1
    pet_channels: int = 1
    base_filters: int = 64
    n_strided: int = 3
    """Stride-2 layers (3 gives the 70x70 receptive field)."""
    width: float = 1.0
    max_filters: int = 512

    def layer_channels(self) -> list[int]:
        """Filters of C64-C128-C256-C512 (the final C1 excluded)."""
        return [max(1, int(round(min(self.base_filters * 2**i, self.max_filters) * self.width)))
                for i in range(self.n_strided + 1)]

    def layer_strides(self) -> list[int]:
        return [2] * self.n_strided + [1, 1]


def receptive_field(config: PatchGANConfig) -> int:
    """Input pixels (per side) that one output logit sees: r <- (r - 1) * stride + kernel from the output back."""
    field = 1
    for stride in reversed(config.layer_strides()):
        field = (field - 1) * stride + KERNEL
    return field


def patch_layers(config: PatchGANConfig, in_channels: int, norm: type[nn.Module], bias_after_first: bool) -> nn.Sequential:
    """C64-C128-C256-C512-C1 of ``config`` on ``in_channels``: 4x4 convolutions, ``norm`` after all but the first,
    LeakyReLU 0.2. ``bias_after_first``: whether the normalised convolutions keep a bias (BatchNorm's shift makes
    it redundant; the CycleGAN reference keeps it with InstanceNorm)."""
    layers: list[nn.Module] = []
    previous = in_channels
    for index, (filters, stride) in enumerate(zip(config.layer_channels(), config.layer_strides()[:-1], strict=True)):
        layers.append(nn.Conv2d(previous, filters, KERNEL, stride=stride, padding=1,
                                bias=index == 0 or bias_after_first))
        if index > 0:
            layers.append(norm(filters))
        layers.append(nn.LeakyReLU(0.2, inplace=True))
        previous = filters
    layers.append(nn.Conv2d(previous, 1, KERNEL, stride=1, padding=1))
    return nn.Sequential(*layers)


class PatchGANDiscriminator(nn.Module):
    def __init__(self, config: PatchGANConfig | None = None) -> None:
        super().__init__()
        self.config = config or PatchGANConfig()
        cfg = self.config
        if cfg.ct_channels < 1 or cfg.pet_channels < 1 or cfg.n_strided < 1 or cfg.width <= 0:
            raise InputError("The PatchGAN needs CT and PET channels, at least one strided layer and width > 0.")
        self.model = patch_layers(cfg, cfg.ct_channels + cfg.pet_channels, nn.BatchNorm2d, bias_after_first=False)

    def forward(self, ct: torch.Tensor, pet: torch.Tensor) -> torch.Tensor:
        return self.model(torch.cat([ct, pet], dim=1))
