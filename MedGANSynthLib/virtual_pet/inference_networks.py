"""Inference-only copies of the virtual-PET networks: same outputs (float32 rounding), faster on the CPU.

Measured with Testing/Benchmarks/bench_virtual_pet.py (bundled model, one thread, interleaved A/B in one run):

* channels_last: oneDNN convolves NHWC directly instead of reordering NCHW maps to its blocked layout and back
  around every convolution; 1.7x on both networks (1.3-1.6x on the transposed-convolution U-Net, with BN fold).
* resize-convolutions as sub-pixel convolutions (networks/subpixel.py): 2.5x on the resize-upsampling U-Net.
* BatchNorm folded into the preceding convolution: one pass over each activation less; ~5 % on the U-Net.

The trained modules are never changed: everything happens on a deep copy, in eval mode.
"""

from __future__ import annotations

import copy

import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

from MedGANSynthLib.networks.subpixel import SubpixelConv, is_resize_conv


class InferenceNetwork(nn.Module):
    """Runs ``network`` on channels_last inputs; exposes its ``config`` as the inference code expects."""

    def __init__(self, network: nn.Module) -> None:
        super().__init__()
        self.network = network
        self.config = getattr(network, "config", None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # A no-op when the caller already built the slab channels_last (inference shares one for both networks).
        return self.network(x.contiguous(memory_format=torch.channels_last))


def inference_copy(model: nn.Module) -> InferenceNetwork:
    """A faster eval-mode copy of ``model`` for forward passes only (no training, no gradients)."""
    model = copy.deepcopy(model).eval()
    fold_batch_norms(model)
    replace_resize_convs(model)
    return InferenceNetwork(model.to(memory_format=torch.channels_last))


CONVOLUTIONS = (nn.Conv2d, nn.ConvTranspose2d)


def fold_batch_norms(model: nn.Module) -> None:
    """In place: every eval-mode BatchNorm2d that directly follows a convolution in a Sequential (also one that
    ends a nested Sequential, as resize-convolutions do) becomes part of that convolution's weights and bias."""
    for sequence in [module for module in model.modules() if isinstance(module, nn.Sequential)]:
        for index in range(1, len(sequence)):
            norm = sequence[index]
            holder, position = _conv_before(sequence, index)
            if holder is None or not _foldable(norm):
                continue
            conv = holder[position]
            holder[position] = fuse_conv_bn_eval(conv, norm, transpose=isinstance(conv, nn.ConvTranspose2d))
            sequence[index] = nn.Identity()


def _conv_before(sequence: nn.Sequential, index: int) -> tuple[nn.Sequential | None, int]:
    """(Sequential, position) of the convolution right before ``sequence[index]``: the layer before it, or the
    last layer of a nested Sequential there; (None, 0) when that is no plain convolution."""
    holder, position = sequence, index - 1
    if isinstance(holder[position], nn.Sequential) and len(holder[position]) > 0:
        holder = holder[position]
        position = len(holder) - 1
    return (holder, position) if type(holder[position]) in CONVOLUTIONS else (None, 0)


def _foldable(norm: nn.Module) -> bool:
    # Without running statistics BatchNorm normalises by the batch even in eval mode: nothing fixed to fold.
    return isinstance(norm, nn.BatchNorm2d) and not norm.training and norm.running_mean is not None


def replace_resize_convs(model: nn.Module) -> None:
    """In place: every nearest-x2 + 3x3 conv Sequential becomes the equivalent SubpixelConv."""
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if is_resize_conv(child):
                setattr(parent, name, SubpixelConv(child[1]))
