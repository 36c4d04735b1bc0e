"""The CycleGAN training task on the shared engine (training/engine.py), seed 003 (Zhu et al. 2017).

Per step, as the reference code: one update of both generators together (Adam over G_AB and G_BA) on
LSGAN(D_B(G_AB(a))) + LSGAN(D_A(G_BA(b))) + lambda (|G_BA(G_AB(a)) - a| + |G_AB(G_BA(b)) - b|)
+ 0.5 lambda (|G_AB(b) - b| + |G_BA(a) - a|), with the discriminators frozen; then one update of both
discriminators together on real images against generated ones drawn through each direction's image pool
(cyclegan/image_pool.py). Adam, lr 2e-4, betas (0.5, 0.999); the rate of both optimisers follows
cyclegan/schedule.py, set from the epoch before every step (so a resumed run gets the same rates). The pools
travel in the checkpoint; their random draws come from the engine's seeded per-epoch generator.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from MedGANSynthLib.cyclegan.image_pool import POOL_SIZE, ImagePool
from MedGANSynthLib.cyclegan.losses import (
    CYCLE_WEIGHT,
    IDENTITY_FRACTION,
    generator_objective,
    l1,
    lsgan_discriminator_loss,
    lsgan_generator_loss,
)
from MedGANSynthLib.cyclegan.schedule import learning_rate_factor
from MedGANSynthLib.errors import InputError
from MedGANSynthLib.training.engine import StepContext, frozen

LEARNING_RATE, BETAS = 2e-4, (0.5, 0.999)
ExportFunction = Callable[[nn.Module, nn.Module, Path, dict[str, Any]], list[Path]]


class CycleGANTask:
    """A TrainingTask for the four networks of :func:`~MedGANSynthLib.cyclegan.networks.build_cyclegan`."""

    def __init__(self, networks: dict[str, nn.Module], constant_epochs: int, decay_epochs: int,
                 lr: float = LEARNING_RATE, cycle_weight: float = CYCLE_WEIGHT,
                 identity_fraction: float = IDENTITY_FRACTION, pool_size: int = POOL_SIZE,
                 sample_batch: dict[str, torch.Tensor] | None = None, export: ExportFunction | None = None) -> None:
        if set(networks) != {"g_ab", "g_ba", "d_a", "d_b"}:
            raise InputError(f"A CycleGAN needs g_ab, g_ba, d_a and d_b; got {sorted(networks)}.")
        if not lr > 0 or not cycle_weight >= 0 or not identity_fraction >= 0:
            raise InputError("The learning rate must be positive and the cycle and identity weights 0 or more.")
        self.networks = networks
        self.constant_epochs, self.decay_epochs = constant_epochs, decay_epochs
        self.lr, self.cycle_weight, self.identity_fraction = lr, cycle_weight, identity_fraction
        self.pools = {"a": ImagePool(pool_size), "b": ImagePool(pool_size)}
        self.sample_batch = sample_batch
        self.export_function = export
        self._optimizers: dict[str, torch.optim.Optimizer] | None = None

    # ---- TrainingTask --------------------------------------------------------------------------------------
    def modules(self) -> dict[str, nn.Module]:
        return dict(self.networks)

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        if self._optimizers is None:
            net = self.networks
            self._optimizers = {
                "generators": torch.optim.Adam(itertools.chain(net["g_ab"].parameters(), net["g_ba"].parameters()),
                                               lr=self.lr, betas=BETAS),
                "discriminators": torch.optim.Adam(itertools.chain(net["d_a"].parameters(),
                                                                   net["d_b"].parameters()), lr=self.lr, betas=BETAS),
            }
        return self._optimizers

    def learning_rate(self, epoch: int) -> float:
        return self.lr * learning_rate_factor(epoch, self.constant_epochs, self.decay_epochs)

    def train_step(self, batch: dict[str, torch.Tensor], ctx: StepContext) -> dict[str, float]:
        rate = self.learning_rate(ctx.epoch)
        for optimizer in ctx.optimizers.values():
            for group in optimizer.param_groups:
                group["lr"] = rate
        real_a, real_b = batch["a"], batch["b"]
        g_ab, g_ba = ctx.models["g_ab"], ctx.models["g_ba"]
        identity = self.identity_fraction > 0
        # Generators: the discriminators only pass gradients to the images (engine.frozen, as in GANTask).
        with ctx.autocast(), frozen(self.networks["d_a"]) as judge_a, frozen(self.networks["d_b"]) as judge_b:
            fake_b = g_ab(real_a)
            fake_a = g_ba(real_b)
            cycle_a = l1(g_ba(fake_b).float(), real_a)
            cycle_b = l1(g_ab(fake_a).float(), real_b)
            adversarial_ab = lsgan_generator_loss(judge_b(fake_b).float())
            adversarial_ba = lsgan_generator_loss(judge_a(fake_a).float())
            identity_a = l1(g_ba(real_a).float(), real_a) if identity else None
            identity_b = l1(g_ab(real_b).float(), real_b) if identity else None
            g_loss = generator_objective(adversarial_ab, adversarial_ba, cycle_a, cycle_b, identity_a, identity_b,
                                         self.cycle_weight, self.identity_fraction)
        ctx.optimize("generators", g_loss)
        # Discriminators: real images against generated ones from each direction's history.
        pooled_a = self.pools["a"].query(fake_a, ctx.generator)
        pooled_b = self.pools["b"].query(fake_b, ctx.generator)
        with ctx.autocast():
            d_a_loss = lsgan_discriminator_loss(ctx.models["d_a"](real_a).float(), ctx.models["d_a"](pooled_a).float())
            d_b_loss = lsgan_discriminator_loss(ctx.models["d_b"](real_b).float(), ctx.models["d_b"](pooled_b).float())
        ctx.optimize("discriminators", d_a_loss + d_b_loss)
        losses = {"g_loss": g_loss, "g_adv_ab": adversarial_ab, "g_adv_ba": adversarial_ba, "cycle_a": cycle_a,
                  "cycle_b": cycle_b, "d_a": d_a_loss, "d_b": d_b_loss}
        if identity:
            losses.update(identity_a=identity_a, identity_b=identity_b)
        return {**{key: float(value.detach()) for key, value in losses.items()}, "lr": rate}

    def extra_state(self) -> dict[str, Any]:
        return {"pool_a": self.pools["a"].state(), "pool_b": self.pools["b"].state()}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        device = next(self.networks["g_ab"].parameters()).device
        self.pools["a"].load_state(list(state.get("pool_a", [])), device)
        self.pools["b"].load_state(list(state.get("pool_b", [])), device)

    def sample_grid(self) -> torch.Tensor:
        """Per fixed image: A | G_AB(A) | G_BA(G_AB(A)), then B | G_BA(B) | G_AB(G_BA(B)); centre channel, [0, 1]."""
        if self.sample_batch is None:
            raise InputError("The CycleGAN task has no sample images for its pictures; pass sample_batch.")
        device = next(self.networks["g_ab"].parameters()).device
        g_ab, g_ba = self.networks["g_ab"], self.networks["g_ba"]
        count = min(len(self.sample_batch["a"]), len(self.sample_batch["b"]))
        a, b = self.sample_batch["a"][:count].to(device), self.sample_batch["b"][:count].to(device)
        fake_b, fake_a = g_ab(a), g_ba(b)
        rows = [a, fake_b, g_ba(fake_b), b, fake_a, g_ab(fake_a)]
        centre = a.shape[1] // 2
        tiles = [image[:, centre:centre + 1].float() for image in rows]
        return ((torch.stack(tiles, dim=1).flatten(0, 1) + 1.0) / 2.0).clamp(0.0, 1.0)

    def export(self, run_dir: Path, summary: dict[str, Any]) -> list[Path]:
        if self.export_function is None:
            return []
        return self.export_function(self.networks["g_ab"], self.networks["g_ba"], Path(run_dir), summary)
