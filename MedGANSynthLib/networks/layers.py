"""Small layer factories shared by the GANs: Keras-style "same" convolutions translated exactly to PyTorch."""

from __future__ import annotations

from torch import nn

from MedGANSynthLib.errors import InputError


def same_transposed_conv(in_channels: int, out_channels: int, kernel_size: int, stride: int) -> nn.ConvTranspose2d:
    """Keras ``Conv2DTranspose(padding="same")``: the output is exactly ``stride`` times the input size.

    PyTorch gives ``(n - 1) * s - 2 p + k + output_padding``; with ``p = (k - 1) // 2`` and
    ``output_padding = s + 2 p - k`` that is ``s * n`` for every ``n``.
    """
    padding = (kernel_size - 1) // 2
    output_padding = stride + 2 * padding - kernel_size
    if not 0 <= output_padding < stride or output_padding < 0:
        raise InputError(f"A {kernel_size}x{kernel_size} transposed conv cannot upsample by exactly {stride}.")
    return nn.ConvTranspose2d(
        in_channels, out_channels, kernel_size, stride=stride, padding=padding, output_padding=output_padding
    )


def same_conv(in_channels: int, out_channels: int, kernel_size: int, stride: int | tuple[int, int] = 1) -> nn.Conv2d:
    """Keras ``Conv2D(padding="same")`` for odd kernels: output size ``ceil(n / stride)``."""
    if kernel_size % 2 != 1:
        raise InputError(f"'same' convolutions here need an odd kernel size, got {kernel_size}.")
    return nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride, padding=kernel_size // 2)


def activation(name: str, negative_slope: float = 0.2) -> nn.Module:
    """``relu`` or ``leaky_relu`` by name (generators follow DCGAN's ReLU unless a paper says LeakyReLU)."""
    if name == "relu":
        return nn.ReLU()
    if name == "leaky_relu":
        return nn.LeakyReLU(negative_slope)
    raise InputError(f"Unknown activation '{name}'; choose relu or leaky_relu.")
