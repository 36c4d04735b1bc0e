"""Resize-convolution rewritten exactly as a sub-pixel convolution, for fast inference.

A nearest-neighbour x2 resize followed by a 3x3 "same" convolution (layers.resize_conv) paints each 2x2 block
of its output from the 3x3 neighbourhood of one input pixel, with one folded kernel per position in the block.
So the same result comes from one 3x3 convolution on the small map with four times the output channels (one
per block position), then ``pixel_shuffle`` to lay them out. Same FLOPs, but the x4 larger resized map is never
made; measured on the bundled virtual-PET U-Net (CPU, one thread, channels_last), 2.5x faster.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def _phase_taps() -> torch.Tensor:
    """(phase, offset, tap): 1 where 3x3 tap ``tap`` of output row 2j+phase reads input row j+offset-1.

    The tap reads resized row 2j+phase+tap-1, which is input row j + floor((phase+tap-1)/2)."""
    taps = torch.zeros(2, 3, 3)
    for phase in range(2):
        for tap in range(3):
            taps[phase, (phase + tap - 1) // 2 + 1, tap] = 1.0
    return taps


class SubpixelConv(nn.Module):
    """Equals ``nn.Sequential(nn.Upsample(scale_factor=2), conv)`` for a 3x3, stride-1, padding-1 ``conv``."""

    def __init__(self, conv: nn.Conv2d) -> None:
        super().__init__()
        out_channels, in_channels = conv.weight.shape[:2]
        self.conv = nn.Conv2d(in_channels, 4 * out_channels, 3, padding=1, bias=conv.bias is not None)
        taps = _phase_taps().to(conv.weight)
        # kernel[o, row phase, column phase, i, row offset, column offset]; pixel_shuffle wants o-major channels.
        kernel = torch.einsum("pak,qbl,oikl->opqiab", taps, taps, conv.weight.detach())
        with torch.no_grad():
            self.conv.weight.copy_(kernel.reshape(4 * out_channels, in_channels, 3, 3))
            if conv.bias is not None:
                self.conv.bias.copy_(conv.bias.detach().repeat_interleave(4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.pixel_shuffle(self.conv(x), 2)


def is_resize_conv(module: nn.Module) -> bool:
    """True for exactly the layers.resize_conv shape SubpixelConv can replace."""
    if not (isinstance(module, nn.Sequential) and len(module) == 2):
        return False
    resize, conv = module
    return (isinstance(resize, nn.Upsample) and resize.mode == "nearest" and resize.size is None
            and resize.scale_factor in (2, 2.0, (2, 2), (2.0, 2.0))
            and type(conv) is nn.Conv2d and conv.kernel_size == (3, 3) and conv.stride == (1, 1)
            and conv.padding == (1, 1) and conv.dilation == (1, 1) and conv.groups == 1
            and conv.padding_mode == "zeros")
