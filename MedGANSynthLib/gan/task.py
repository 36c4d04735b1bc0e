"""The GAN training task: alternating discriminator and generator updates for every GAN of the library.

Per step (Goodfellow et al. 2014; the papers' Keras loops, seeds 000/001/004): ``n_critic`` discriminator updates
on a real batch and a batch of generated images, then one generator update on fresh noise. Conditional models get
the real images' class labels for both networks (the fake images get the same labels, so each batch keeps the data
set's class mix). WGAN-GP adds λ·penalty to the critic loss and uses n_critic = 5 by default (Gulrajani et al.).
The real images of a step are reused for every critic update of that step (the data loader yields one batch).
With ``augment`` (Zhao et al. 2020), every image the discriminator sees, real or generated, in its update and the
generator's, is first augmented with a fresh draw per image (training/differentiable_augmentation.py).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.training.augmentation_policy import AUGMENTATIONS
from MedGANSynthLib.training.differentiable_augmentation import augment
from MedGANSynthLib.training.engine import StepContext, frozen
from MedGANSynthLib.training.losses import AdversarialLoss, adversarial_loss, gradient_penalty
from MedGANSynthLib.training.optimizers import OptimizerSettings, gan_optimizers

# Export hook: (generator, discriminator, run_dir, summary) -> written paths. The CLI passes one that uses
# MedGANSynthLib.weights (safetensors + model card); without it the engine just keeps its checkpoint.
ExportFunction = Callable[[nn.Module, nn.Module, Path, dict[str, Any]], list[Path]]


@dataclass
class GANTaskSettings:
    loss: str = "bce"
    n_critic: int | None = None  # None: 5 for wgan-gp, 1 otherwise
    grid_samples: int = 16
    grid_seed: int = 20240  # fixed latents, so the pictures of successive checkpoints are comparable
    auxiliary_class_weight: float = 0.0
    """AC-GAN (Odena et al. 2017), for discriminators with a class head: the discriminator also learns to name the
    class of real images, the generator to make its images named as the class it was asked for; both terms are
    cross-entropies added with this weight. 0 = the plain conditional GAN of the papers."""
    mismatched_labels: bool = False
    """Matching-aware discriminator (GAN-CLS, Reed et al. 2016): real images shown with a wrong label count as
    fakes, beside the generated ones (the fake term averages over both). A conditional discriminator otherwise
    never sees a real image with the wrong class, so it can judge realism alone and let the generator ignore
    the class. The session-3 RadioGAN's discriminator did: one real MIP's scores under the five labels had a
    standard deviation of 0.05, the scores of different MIPs one of 1.49. Needs a conditional GAN."""
    hardest_mismatch: bool = False
    """With ``mismatched_labels``: give each real image the wrong class the discriminator currently finds most
    believable (scored without gradients, one pass per other class) instead of a random one. Hard-negative mining:
    once the discriminator rejects the easy wrong classes, random ones mostly fall outside the hinge margin and teach
    nothing, while the pairs it still confuses (the bundled RadioGAN's judges saw oesophagus and lung MIPs as
    lymphoma) are where the generator is let off drawing its class. Not in the papers."""
    generator_ema: float = 0.0
    """Decay of an exponential moving average of the generator's weights (Yazıcı et al. 2019; Karras et al. 2018),
    updated after every generator step; the average draws the checkpoint pictures and is the exported generator.
    It smooths the to-and-fro of the adversarial game that a single late snapshot catches at a random point. It
    starts from the weights after the first step it sees, so it can be switched on when resuming a run. Buffers
    (BatchNorm statistics) are copied from the live generator. 0 = off (the papers)."""
    augment: tuple[str, ...] = ()
    """Differentiable augmentation (Zhao et al. 2020) of every image the discriminator sees, real and generated, in
    both updates: names from training.augmentation_policy.AUGMENTATIONS, drawn per image from the step's noise
    generator; the gradient penalty is taken between the augmented images. () = off (the papers): no draw at all,
    so the noise of every other draw is what it was without the option."""

    def critic_steps(self) -> int:
        if self.n_critic is not None:
            return max(1, int(self.n_critic))
        return 5 if self.loss == "wgan-gp" else 1


class GANTask:
    """A :class:`~MedGANSynthLib.training.engine.TrainingTask` for a (conditional) GAN."""

    def __init__(
        self,
        generator: nn.Module,
        discriminator: nn.Module,
        optimizer_settings: OptimizerSettings,
        settings: GANTaskSettings | None = None,
        export: ExportFunction | None = None,
    ) -> None:
        self.generator = generator
        self.discriminator = discriminator
        self.optimizer_settings = optimizer_settings
        self.settings = settings or GANTaskSettings()
        if self.settings.mismatched_labels and generator.num_classes < 2:
            raise InputError("Mismatched labels need a conditional GAN with at least two classes (RadioGAN).")
        if self.settings.hardest_mismatch and not self.settings.mismatched_labels:
            raise InputError("The hardest mismatch chooses among mismatched labels; switch mismatched labels on too.")
        if self.settings.auxiliary_class_weight > 0 and not getattr(discriminator, "auxiliary_classifier", False):
            raise InputError("An auxiliary class loss needs a discriminator with a class head "
                             "(RadioGAN with auxiliary_classifier on).")
        self.loss: AdversarialLoss = adversarial_loss(self.settings.loss)
        unknown = [name for name in self.settings.augment if name not in AUGMENTATIONS]
        if unknown:
            raise InputError(f"Unknown augmentation {', '.join(unknown)}; choose from {', '.join(AUGMENTATIONS)}.")
        if not 0.0 <= self.settings.generator_ema < 1.0:
            raise InputError(f"The generator average's decay must be in [0, 1) (got {self.settings.generator_ema}).")
        self.export_function = export
        self._optimizers: dict[str, torch.optim.Optimizer] | None = None
        self.average_generator: nn.Module | None = None  # created at the first generator step when the EMA is on

    # ---- TrainingTask --------------------------------------------------------------------------------------
    def modules(self) -> dict[str, nn.Module]:
        return {"generator": self.generator, "discriminator": self.discriminator}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        if self._optimizers is None:
            self._optimizers = gan_optimizers(self.generator, self.discriminator, self.optimizer_settings)
        return self._optimizers

    def train_step(self, batch: dict[str, torch.Tensor], ctx: StepContext) -> dict[str, float]:
        real = batch["image"]
        labels = batch.get("label") if self.generator.num_classes > 0 else None
        generator_net, critic = ctx.models["generator"], ctx.models["discriminator"]
        count = real.shape[0]
        losses: dict[str, float] = {}
        auxiliary = self.settings.auxiliary_class_weight > 0 and labels is not None
        for _ in range(self.settings.critic_steps()):
            latent = self.generator.sample_latent(count, generator=ctx.generator, device=ctx.device)
            with torch.no_grad(), ctx.autocast():
                fake = self._augmented(generator_net(latent, labels), ctx)
            seen_real = self._augmented(real, ctx)
            with ctx.autocast():
                real_logits, real_class_loss = self._judge(critic, seen_real, labels, auxiliary)
                fake_logits = critic(fake, labels).float()
                if self.settings.mismatched_labels and labels is not None:
                    wrong = self._wrong_labels(labels, ctx, critic, seen_real)
                    mismatched_logits = critic(seen_real, wrong).float()
                    losses["d_mismatch"] = float(mismatched_logits.detach().mean())
                    d_loss = self.loss.d_loss(real_logits, torch.cat([fake_logits, mismatched_logits]))
                else:
                    d_loss = self.loss.d_loss(real_logits, fake_logits)
                if auxiliary:
                    d_loss = d_loss + self.settings.auxiliary_class_weight * real_class_loss
                    losses["d_class"] = float(real_class_loss.detach())
            if self.loss.gradient_penalty_weight > 0:
                # In fp32 outside autocast: the double backward of the penalty is sensitive to fp16 rounding.
                penalty = gradient_penalty(critic, seen_real.float(), fake.float(), labels, generator=ctx.generator)
                d_loss = d_loss + self.loss.gradient_penalty_weight * penalty
                losses["gradient_penalty"] = float(penalty.detach())
            ctx.optimize("discriminator", d_loss)
        losses["d_loss"] = float(d_loss.detach())
        losses["d_real"] = float(real_logits.detach().mean())
        losses["d_fake"] = float(fake_logits.detach().mean())

        latent = self.generator.sample_latent(count, generator=ctx.generator, device=ctx.device)
        # The generator's update needs the critic's input gradient only: its weight gradients would be computed,
        # all-reduced under DDP and then discarded. So the critic is frozen and run unwrapped (a DDP module whose
        # parameters get no gradient would wait for them forever); its outputs are the same either way.
        with ctx.autocast(), frozen(self.discriminator) as still_critic:
            fake = self._augmented(generator_net(latent, labels), ctx)
            fooled_logits, fake_class_loss = self._judge(still_critic, fake, labels, auxiliary)
            g_loss = self.loss.g_loss(fooled_logits)
            if auxiliary:
                g_loss = g_loss + self.settings.auxiliary_class_weight * fake_class_loss
                losses["g_class"] = float(fake_class_loss.detach())
        ctx.optimize("generator", g_loss)
        losses["g_loss"] = float(g_loss.detach())
        if self.settings.generator_ema > 0:
            self._update_average()
        return losses

    def _augmented(self, images: torch.Tensor, ctx: StepContext) -> torch.Tensor:
        """``images`` as the discriminator sees them: augmented when the option is on (background: the generator's
        low output, the window's low end), else themselves."""
        background = getattr(self.generator, "output_range", (-1.0, 1.0))[0]
        return augment(images, self.settings.augment, ctx.generator, background)

    @torch.no_grad()
    def _update_average(self) -> None:
        if self.average_generator is None:
            self.average_generator = self._copy_of_generator()
            return
        weight = 1.0 - self.settings.generator_ema
        for average, live in zip(self.average_generator.parameters(), self.generator.parameters(), strict=True):
            average.lerp_(live, weight)
        for average, live in zip(self.average_generator.buffers(), self.generator.buffers(), strict=True):
            average.copy_(live)

    def _copy_of_generator(self) -> nn.Module:
        return copy.deepcopy(self.generator).requires_grad_(False).eval()

    def published_generator(self) -> nn.Module:
        """The generator that draws pictures and is exported: the average when there is one, else the live one."""
        return self.average_generator if self.average_generator is not None else self.generator

    def extra_state(self) -> dict[str, Any]:
        if self.average_generator is None:
            return {}
        return {"average_generator": self.average_generator.state_dict()}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        saved = state.get("average_generator")
        if self.settings.generator_ema > 0 and saved is not None:
            self.average_generator = self._copy_of_generator()
            self.average_generator.load_state_dict(saved)

    def _wrong_labels(self, labels: torch.Tensor, ctx: StepContext, critic: nn.Module,
                      real: torch.Tensor) -> torch.Tensor:
        """Each label moved by 1..K-1 classes: uniformly among the wrong ones, from the step's noise generator, or
        with ``hardest_mismatch`` to the wrong class the critic scores highest for that image."""
        classes = self.generator.num_classes
        if not self.settings.hardest_mismatch:
            shift = torch.randint(1, classes, labels.shape, generator=ctx.generator).to(labels.device)
            return (labels + shift) % classes
        shifts = torch.arange(1, classes, device=labels.device)
        with torch.no_grad(), ctx.autocast():
            scores = torch.stack([critic(real, (labels + shift) % classes).float() for shift in shifts])
        return (labels + shifts[scores.argmax(dim=0)]) % classes

    @staticmethod
    def _judge(critic: nn.Module, images: torch.Tensor, labels: torch.Tensor | None,
               with_classes: bool) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Real/fake logits (fp32) and, with ``with_classes``, the class head's cross-entropy against ``labels``."""
        if not with_classes:
            return critic(images, labels).float(), None
        logits, classes = critic(images, labels, return_class_logits=True)
        return logits.float(), F.cross_entropy(classes.float(), labels)

    def sample_grid(self) -> torch.Tensor:
        """Fixed latents (and, when conditional, the classes in turn) mapped from the output range to [0, 1]."""
        count = self.settings.grid_samples
        generator = self.published_generator()
        device = next(generator.parameters()).device
        latent = generator.sample_latent(
            count, generator=torch.Generator().manual_seed(self.settings.grid_seed), device=device
        )
        labels = None
        if generator.num_classes > 0:
            labels = torch.arange(count, device=device) % generator.num_classes
        images = generator(latent, labels).float()
        low, high = getattr(generator, "output_range", (-1.0, 1.0))
        return ((images - low) / (high - low)).clamp(0.0, 1.0)

    def export(self, run_dir: Path, summary: dict[str, Any]) -> list[Path]:
        if self.export_function is None:
            return []
        return self.export_function(self.published_generator(), self.discriminator, Path(run_dir), summary)
