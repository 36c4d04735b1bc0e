"""layers.Dropout draws exactly torch's dropout masks (same seed, same outputs, gradients and generator state)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from MedGANSynthLib.networks.layers import Dropout


def _dropout_pass(layer: nn.Module, x: torch.Tensor, seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Output, input gradient and the default generator's next draw after one training pass of ``layer``."""
    x = x.detach().clone().requires_grad_(True)
    torch.manual_seed(seed)
    output = layer.train()(x)
    following = torch.rand(3)
    output.backward(torch.arange(output.numel(), dtype=x.dtype).view_as(output))
    return output.detach(), x.grad, following


@pytest.mark.parametrize("p", [0.25, 0.6])
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_same_masks_as_torch_dropout(p, dtype):
    x = torch.randn(3, 5, 7, 4).to(dtype)
    expected = _dropout_pass(nn.Dropout(p), x, seed=7)
    assert all(torch.equal(a, e) for a, e in zip(_dropout_pass(Dropout(p), x, seed=7), expected, strict=True))


def test_channels_last_input_gets_the_masks_of_its_nchw_order():
    # torch's own dropout draws in memory order, so an NHWC copy of the same tensor would get other masks.
    x = torch.randn(4, 6, 5, 3)
    expected = _dropout_pass(nn.Dropout(0.25), x, seed=3)
    actual = _dropout_pass(Dropout(0.25), x.contiguous(memory_format=torch.channels_last), seed=3)
    assert all(torch.equal(a, e) for a, e in zip(actual, expected, strict=True))


def test_mask_is_a_float64_uniform_below_the_keep_probability():
    x = torch.ones(2, 3, 4, 4)
    torch.manual_seed(11)
    output = Dropout(0.4).train()(x)
    torch.manual_seed(11)
    kept = torch.rand(x.shape, dtype=torch.float64) < 0.6
    assert torch.equal(output, torch.where(kept, torch.tensor(1.0) / 0.6, torch.tensor(0.0)))


def test_evaluation_mode_and_p_zero_pass_the_input_through():
    x = torch.randn(2, 3, 4, 4)
    assert torch.equal(Dropout(0.3).eval()(x), x)
    assert torch.equal(Dropout(0.0).train()(x), x)
