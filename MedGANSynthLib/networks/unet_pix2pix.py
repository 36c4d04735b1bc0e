"""The pix2pix U-Net generator of the virtual-PET conditional GAN (Ben-Cohen et al.; Isola et al.).

Paper layout (Ck = Conv-BatchNorm-ReLU with k filters, CDk = the same with 50 % dropout, all convs 4x4 stride 2):
encoder C64-C128-C256-C512-C512-C512-C512-C512 (LeakyReLU 0.2, no BatchNorm on the first layer), decoder
CD512-CD512-CD512-C512-C512-C256-C128-C64 (ReLU), each decoder output concatenated with the mirrored encoder
activation. How the eight decoder entries map to layers: with eight x2 down-samplings there are eight x2
up-samplings; entry k is the width of the map the k-th up-sampling consumes from the stage below it (512 from
the bottleneck, ... , 64 into the last one), so the up-sampling blocks emit 512, 512, 512, 512, 256, 128, 64
channels (mirroring the encoder) and a last transposed convolution emits the output channel. This equals the
reference pix2pix implementation's layer count. Dropout follows the paper's list (the first three up-samplings,
CD512 x 3); the reference code instead puts it on the three after the innermost one.

One deliberate difference: the innermost (bottleneck) encoder layer has no BatchNorm, as in the reference code,
because at 1x1 spatial size with batch 1 BatchNorm would zero the activation.

``width`` scales the channel counts and ``depth`` sets the number of down-samplings, so a CPU-sized model exists;
inputs whose sides are not multiples of 2**depth are zero-padded at the bottom/right and the output cropped back.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.networks.layers import check_upsampling, resize_conv

PAPER_ENCODER = (64, 128, 256, 512, 512, 512, 512, 512)
OUTPUT_ACTIVATIONS = ("tanh", "sigmoid", "none")


@dataclass
class UNetConfig:
    in_channels: int = 1
    out_channels: int = 1
    depth: int = 8
    """Number of x2 down-samplings (paper: 8, for 256x256 inputs)."""
    width: float = 1.0
    base_filters: int = 64
    max_filters: int = 512
    dropout: float = 0.5
    dropout_blocks: int = 3
    """The first ``dropout_blocks`` decoder blocks use dropout (the paper's CD512 x 3)."""
    output_activation: str = "tanh"
    """"tanh" for normalised SUV in [-1, 1] (pix2pix), "sigmoid" for [0, 1], "none" for raw regression."""
    upsampling: str = "transposed"
    """"transposed": the paper's 4x4 stride-2 transposed convolutions. "resize": nearest-neighbour x2 then a 3x3
    convolution (Odena et al. 2016, "Deconvolution and checkerboard artifacts"): a 4x4 stride-2 transposed conv
    paints each output pixel from an alternating subset of its weights, and on the phantoms that checkerboard
    became speckle above SUV 2.5, i.e. thousands of false lesion candidates. Same parameter count per layer
    except 3x3 instead of 4x4 kernels."""

    def encoder_channels(self) -> list[int]:
        return [max(1, int(round(min(self.base_filters * 2**i, self.max_filters) * self.width)))
                for i in range(self.depth)]

    def validate(self) -> None:
        if self.depth < 1 or self.width <= 0 or self.in_channels < 1 or self.out_channels < 1:
            raise InputError("The U-Net needs depth >= 1, width > 0 and at least one input and output channel.")
        if self.output_activation not in OUTPUT_ACTIVATIONS:
            raise InputError(f"Unknown output activation '{self.output_activation}'; use one of {OUTPUT_ACTIVATIONS}.")
        check_upsampling(self.upsampling, "U-Net")

    @property
    def output_range(self) -> tuple[float, float]:
        """The interval the network's output maps onto SUV [0, 20]."""
        return (-1.0, 1.0) if self.output_activation == "tanh" else (0.0, 1.0)


def _down(in_channels: int, out_channels: int, batch_norm: bool) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Conv2d(in_channels, out_channels, 4, stride=2, padding=1, bias=not batch_norm)]
    if batch_norm:
        layers.append(nn.BatchNorm2d(out_channels))
    layers.append(nn.LeakyReLU(0.2, inplace=True))
    return nn.Sequential(*layers)


def _upsample_conv(in_channels: int, out_channels: int, mode: str, bias: bool) -> nn.Module:
    """x2 up-sampling: the paper's transposed conv, or nearest resize + 3x3 conv (see UNetConfig.upsampling)."""
    if mode == "resize":
        return resize_conv(in_channels, out_channels, bias)
    return nn.ConvTranspose2d(in_channels, out_channels, 4, stride=2, padding=1, bias=bias)


def _up(in_channels: int, out_channels: int, dropout: float, mode: str) -> nn.Sequential:
    layers: list[nn.Module] = [_upsample_conv(in_channels, out_channels, mode, bias=False),
                               nn.BatchNorm2d(out_channels)]
    if dropout > 0:
        layers.append(nn.Dropout(dropout))
    layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class UNetGenerator(nn.Module):
    def __init__(self, config: UNetConfig | None = None) -> None:
        super().__init__()
        self.config = config or UNetConfig()
        self.config.validate()
        cfg = self.config
        channels = cfg.encoder_channels()
        last = cfg.depth - 1
        self.encoder = nn.ModuleList(
            _down(cfg.in_channels if i == 0 else channels[i - 1], channels[i], batch_norm=0 < i < last)
            for i in range(cfg.depth)
        )
        # Decoder block b turns the stage below (bottleneck, or block b-1 concatenated with its skip) into the
        # channels of encoder layer depth-2-b, so that concatenation mirrors the encoder.
        decoder = []
        for block in range(cfg.depth - 1):
            below = channels[last] if block == 0 else 2 * channels[last - block]
            dropout = cfg.dropout if block < cfg.dropout_blocks else 0.0
            decoder.append(_up(below, channels[last - 1 - block], dropout, cfg.upsampling))
        self.decoder = nn.ModuleList(decoder)
        below = channels[last] if cfg.depth == 1 else 2 * channels[0]
        self.final = _upsample_conv(below, cfg.out_channels, cfg.upsampling, bias=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        height, width = x.shape[-2:]
        multiple = 2**self.config.depth
        x = F.pad(x, (0, (-width) % multiple, 0, (-height) % multiple))
        skips = []
        for layer in self.encoder:
            x = layer(x)
            skips.append(x)
        for block, layer in enumerate(self.decoder):
            x = layer(x)
            x = torch.cat([x, skips[-2 - block]], dim=1)
        x = self.final(x)[..., :height, :width]
        if self.config.output_activation == "tanh":
            return torch.tanh(x)
        if self.config.output_activation == "sigmoid":
            return torch.sigmoid(x)
        return x


def enable_mc_dropout(model: nn.Module) -> None:
    """Put only the dropout layers in training mode (BatchNorm keeps its running statistics): MC-dropout sampling."""
    model.eval()
    for module in model.modules():
        if isinstance(module, nn.Dropout | nn.Dropout2d):
            module.train()
