"""CycleGAN's losses (Zhu et al. 2017, section 3 and 4; the reference code's weights).

* Least-squares GAN (Mao et al. 2017), which the paper uses instead of the log-likelihood "for more stable
  training": the generator minimises E[(D(G(x)) - 1)^2]; the discriminator minimises E[(D(y) - 1)^2] +
  E[D(G(x))^2], halved "to slow down the rate at which D learns relative to G" (section 4, training details).
* Cycle consistency: L1 between an image and its round trip, weighted by lambda = 10.
* Identity: L1 between G_AB(b) and b (and G_BA(a) and a), weighted by 0.5 x lambda (section 5.2, "photo generation
  from paintings"; the reference code's --lambda_identity 0.5 is a fraction of lambda).
"""

from __future__ import annotations

import torch
from torch import Tensor

CYCLE_WEIGHT = 10.0
IDENTITY_FRACTION = 0.5


def lsgan_discriminator_loss(real_scores: Tensor, fake_scores: Tensor) -> Tensor:
    """0.5 * (mean((D(real) - 1)^2) + mean(D(fake)^2))."""
    return 0.5 * (((real_scores - 1.0) ** 2).mean() + (fake_scores**2).mean())


def lsgan_generator_loss(fake_scores: Tensor) -> Tensor:
    """mean((D(G(x)) - 1)^2)."""
    return ((fake_scores - 1.0) ** 2).mean()


def l1(image: Tensor, target: Tensor) -> Tensor:
    """Mean absolute difference (the cycle and identity losses)."""
    return (image - target).abs().mean()


def generator_objective(adversarial_ab: Tensor, adversarial_ba: Tensor, cycle_a: Tensor, cycle_b: Tensor,
                        identity_a: Tensor | None, identity_b: Tensor | None, cycle_weight: float = CYCLE_WEIGHT,
                        identity_fraction: float = IDENTITY_FRACTION) -> Tensor:
    """adv_AB + adv_BA + lambda (cyc_A + cyc_B) + identity_fraction * lambda (idt_A + idt_B)."""
    total = adversarial_ab + adversarial_ba + cycle_weight * (cycle_a + cycle_b)
    if identity_fraction > 0 and identity_a is not None and identity_b is not None:
        total = total + identity_fraction * cycle_weight * (identity_a + identity_b)
    return total


def zero() -> Tensor:
    return torch.zeros(())
