"""The ResNet generator of CycleGAN (Zhu et al. 2017, appendix 7.2; Johnson et al. 2016 for the layout).

Layers, in the paper's notation: c7s1-64, d128, d256, R256 x n, u128, u64, c7s1-out.
``c7s1-k``: 7x7 convolution, stride 1, k filters, InstanceNorm, ReLU; ``dk``: 3x3 convolution, stride 2,
InstanceNorm, ReLU; ``Rk``: a residual block of two 3x3 convolutions (InstanceNorm, ReLU between them, no ReLU
after the sum); ``uk``: 3x3 fractionally strided (transposed) convolution, stride 1/2, InstanceNorm, ReLU. Padding
is reflection padding, as the paper says ("reflection padding was used to reduce artifacts"). The last c7s1 has no
norm and ends in tanh (images in [-1, 1]). The paper uses 9 blocks for 256 x 256 images and 6 for 128 x 128.

``width`` scales every channel count, so a CPU-sized generator exists; ``upsampling="resize"`` replaces the
transposed convolutions by nearest resize + 3x3 convolution (no checkerboard; networks/layers.py). Inputs whose
sides are not multiples of 4 are reflection-padded at the bottom/right and the output cropped back.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.networks.layers import check_upsampling

DOWNSAMPLINGS = 2


@dataclass
class ResNetGeneratorConfig:
    in_channels: int = 1
    out_channels: int = 1
    base_filters: int = 64
    residual_blocks: int = 9
    width: float = 1.0
    upsampling: str = "transposed"

    def channels(self) -> list[int]:
        """Filters of c7s1-64, d128, d256 (the residual blocks keep the last)."""
        return [max(1, int(round(self.base_filters * 2**i * self.width))) for i in range(DOWNSAMPLINGS + 1)]

    def validate(self) -> None:
        if self.in_channels < 1 or self.out_channels < 1 or self.base_filters < 1:
            raise InputError("The ResNet generator needs at least one input channel, output channel and filter.")
        if self.residual_blocks < 0 or not self.width > 0:
            raise InputError(f"The ResNet generator needs residual_blocks >= 0 and width > 0 (got "
                             f"{self.residual_blocks}, {self.width}).")
        check_upsampling(self.upsampling, "ResNet generator")


def _conv_norm_relu(in_channels: int, out_channels: int, kernel: int, stride: int) -> list[nn.Module]:
    """Reflection padding (stride 1) or zero padding 1 (the stride-2 d-layers, as in the reference code)."""
    if stride == 1:
        return [nn.ReflectionPad2d(kernel // 2), nn.Conv2d(in_channels, out_channels, kernel),
                nn.InstanceNorm2d(out_channels), nn.ReLU(inplace=True)]
    return [nn.Conv2d(in_channels, out_channels, kernel, stride=stride, padding=kernel // 2),
            nn.InstanceNorm2d(out_channels), nn.ReLU(inplace=True)]


class ResidualBlock(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), nn.InstanceNorm2d(channels), nn.ReLU(inplace=True),
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), nn.InstanceNorm2d(channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


def _up(in_channels: int, out_channels: int, mode: str) -> list[nn.Module]:
    if mode == "resize":
        conv: list[nn.Module] = [nn.Upsample(scale_factor=2, mode="nearest"), nn.ReflectionPad2d(1),
                                 nn.Conv2d(in_channels, out_channels, 3)]
    else:
        conv = [nn.ConvTranspose2d(in_channels, out_channels, 3, stride=2, padding=1, output_padding=1)]
    return [*conv, nn.InstanceNorm2d(out_channels), nn.ReLU(inplace=True)]


class ResNetGenerator(nn.Module):
    def __init__(self, config: ResNetGeneratorConfig | None = None) -> None:
        super().__init__()
        self.config = config or ResNetGeneratorConfig()
        self.config.validate()
        cfg = self.config
        c64, c128, c256 = cfg.channels()
        layers: list[nn.Module] = [*_conv_norm_relu(cfg.in_channels, c64, 7, 1),
                                   *_conv_norm_relu(c64, c128, 3, 2), *_conv_norm_relu(c128, c256, 3, 2)]
        layers += [ResidualBlock(c256) for _ in range(cfg.residual_blocks)]
        layers += [*_up(c256, c128, cfg.upsampling), *_up(c128, c64, cfg.upsampling),
                   nn.ReflectionPad2d(3), nn.Conv2d(c64, cfg.out_channels, 7), nn.Tanh()]
        self.model = nn.Sequential(*layers)

    @property
    def output_range(self) -> tuple[float, float]:
        return (-1.0, 1.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        height, width = x.shape[-2:]
        multiple = 2**DOWNSAMPLINGS
        pad_h, pad_w = (-height) % multiple, (-width) % multiple
        if pad_h or pad_w:
            x = F.pad(x, (0, pad_w, 0, pad_h), mode="reflect" if min(height, width) > max(pad_h, pad_w) else "replicate")
        return self.model(x)[..., :height, :width]
