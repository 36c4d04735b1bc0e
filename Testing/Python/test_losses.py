"""Adversarial losses against hand arithmetic on tiny tensors."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.training.losses import (
    GRADIENT_PENALTY_WEIGHT,
    adversarial_loss,
    bce_d_loss,
    bce_g_loss,
    gradient_penalty,
    hinge_d_loss,
    hinge_g_loss,
    wgan_d_loss,
    wgan_g_loss,
)

REAL = [2.0, -0.5, 0.25]
FAKE = [-1.5, 0.75, 3.0]


def _log_sigmoid(x: float) -> float:
    return -math.log1p(math.exp(-x))


def test_bce_losses_equal_the_log_sigmoid_formula():
    expected_d = -sum(_log_sigmoid(x) for x in REAL) / 3 - sum(math.log1p(-1 / (1 + math.exp(-x))) for x in FAKE) / 3
    expected_g = -sum(_log_sigmoid(x) for x in FAKE) / 3
    assert float(bce_d_loss(torch.tensor(REAL), torch.tensor(FAKE))) == pytest.approx(expected_d, rel=1e-6)
    assert float(bce_g_loss(torch.tensor(FAKE))) == pytest.approx(expected_g, rel=1e-6)


def test_bce_is_finite_for_extreme_logits():
    loss = bce_d_loss(torch.tensor([200.0]), torch.tensor([-200.0]))
    assert torch.isfinite(loss) and float(loss) == pytest.approx(0.0, abs=1e-30)
    assert float(bce_g_loss(torch.tensor([-200.0]))) == pytest.approx(200.0)


def test_hinge_losses_by_hand():
    # relu(1-2)=0, relu(1.5)=1.5, relu(0.75)=0.75 -> mean 0.75; relu(1-1.5)=0, relu(1.75), relu(4) -> mean 1.9166..
    assert float(hinge_d_loss(torch.tensor(REAL), torch.tensor(FAKE))) == pytest.approx(0.75 + 5.75 / 3)
    assert float(hinge_g_loss(torch.tensor(FAKE))) == pytest.approx(-(2.25 / 3))


def test_wasserstein_losses_by_hand():
    assert float(wgan_d_loss(torch.tensor(REAL), torch.tensor(FAKE))) == pytest.approx(2.25 / 3 - 1.75 / 3)
    assert float(wgan_g_loss(torch.tensor(FAKE))) == pytest.approx(-0.75)


class _LinearCritic(nn.Module):
    """D(x) = <w, x> + b: its input gradient is w everywhere, so the penalty is (||w|| - 1)^2 exactly."""

    def __init__(self, weights: torch.Tensor) -> None:
        super().__init__()
        self.linear = nn.Linear(weights.numel(), 1)
        with torch.no_grad():
            self.linear.weight.copy_(weights.reshape(1, -1))
            self.linear.bias.fill_(0.3)

    def forward(self, images, labels=None):
        return self.linear(images.flatten(1)).squeeze(1)


@pytest.mark.parametrize("weights", [[3.0, 4.0, 0.0, 0.0], [0.6, 0.0, 0.8, 0.0], [0.1, 0.1, 0.1, 0.1]])
def test_gradient_penalty_of_a_linear_critic(weights):
    w = torch.tensor(weights)
    critic = _LinearCritic(w)
    real = torch.randn(5, 1, 2, 2, generator=torch.Generator().manual_seed(1))
    fake = torch.randn(5, 1, 2, 2, generator=torch.Generator().manual_seed(2))
    penalty = gradient_penalty(critic, real, fake, generator=torch.Generator().manual_seed(3))
    norm = math.sqrt(sum(x * x for x in weights))
    assert float(penalty.detach()) == pytest.approx((norm - 1.0) ** 2, rel=1e-5, abs=1e-7)


def test_gradient_penalty_is_differentiable_with_respect_to_the_critic():
    critic = _LinearCritic(torch.tensor([3.0, 4.0, 0.0, 0.0]))
    real, fake = torch.ones(2, 1, 2, 2), torch.zeros(2, 1, 2, 2)
    gradient_penalty(critic, real, fake).backward()
    # d/dw (||w|| - 1)^2 = 2 (||w|| - 1) w / ||w|| = 2 * 4 * (0.6, 0.8)
    assert torch.allclose(critic.linear.weight.grad.flatten(), torch.tensor([4.8, 6.4, 0.0, 0.0]), atol=1e-5)


def test_losses_by_name():
    assert adversarial_loss("WGAN-GP").gradient_penalty_weight == GRADIENT_PENALTY_WEIGHT == 10.0
    assert adversarial_loss("bce").gradient_penalty_weight == 0.0
    assert adversarial_loss("hinge").d_loss is hinge_d_loss
    with pytest.raises(InputError, match="Unknown GAN loss 'lsgan'"):
        adversarial_loss("lsgan")
