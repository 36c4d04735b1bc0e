"""Training tasks of the virtual PET on the shared engine (:mod:`MedGANSynthLib.training.engine`), Ben-Cohen et al..

* :class:`FCNTask` — FCN-4s regression with the SUV-weighted L2 loss (paper 2.2, 2.4). The paper does not name
  the FCN's optimiser; we use Adam, lr 1e-4, betas (0.9, 0.999), a common setting for FCN regression from scratch.
* :class:`Pix2PixTask` — U-Net generator + 70x70 PatchGAN (paper 2.3): per step one discriminator update on
  (CT, real PET) vs (CT, generated PET), then one generator update on BCE(fool D) + lambda * SUV-weighted L2 with
  pix2pix's lambda = 100 and its optimiser, Adam lr 2e-4, betas (0.5, 0.999) (Isola et al.; the paper keeps
  pix2pix's settings, "for additional implementation details please refer to [6]"). The L2 term is measured in
  SUV, the PET's own unit ("similar to the real PET image in an L2 sense", paper 2.3). Why it matters: lambda
  balances it against the BCE term (~0.7), and pix2pix chose 100 for an L1 on [-1, 1] images, where typical
  errors make the reconstruction term ~10x the adversarial one. An L2 in normalised units shrinks with the square
  of the error (0.05^2 x 100 = 0.25): the adversarial term then dominates and, measured on 4 mm phantoms after
  2 epochs, the generator painted checkerboard speckle with SUV > 2.5 over 48 % of the body (true PET: 6 %).
  (The FCN's loss scale is irrelevant: Adam's steps do not depend on it.) Not in the paper, off by default:
  ``gan_loss="lsgan"`` (least squares instead of BCE, virtual_pet/losses.py), ``lr_d``, the PatchGAN's own rate,
  and ``overshoot_factor`` (a hot spot drawn on tissue that is not hot costs more, in both networks' L2).
* :class:`VirtualPETTask` — both in one run: each batch trains the FCN and then the pix2pix pair. One run folder,
  one checkpoint and one ``--resume`` for the whole model, and the sample grid can show the blend, which needs both
  networks. The two networks never share parameters, so training them side by side equals training them apart.

Network outputs: both networks regress SUV / 20 linearly by default (the paper's "pixelwise L2", no squashing).
pix2pix ends in tanh (SUV [0, 20] -> [-1, 1], ``gan_output="tanh"`` keeps that), but then air and all normal
tissue (SUV 0-3) sit in tanh's flat tail [-1, -0.7]: measured on 4 mm phantoms after 2 epochs (356 steps) the
tanh generator still put air at -0.81 (SUV 1.9) with speckle above SUV 2.5 in 12 % of air voxels, thousands of
false "lesions". A linear output reaches 0 for air without vanishing gradients. The loss weight always comes
from the true SUV.

Sample grid (one row per fixed slice): CT | true PET | FCN | GAN | blended, PET shown as SUV 0..10 -> 0..1.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.networks.fcn4s import FCN4s, FCN4sConfig
from MedGANSynthLib.networks.patchgan import PatchGANConfig, PatchGANDiscriminator
from MedGANSynthLib.networks.unet_pix2pix import UNetConfig, UNetGenerator
from MedGANSynthLib.training.engine import StepContext, frozen
from MedGANSynthLib.virtual_pet.blending import PAPER_THRESHOLD_SUV, laplacian_blend
from MedGANSynthLib.virtual_pet.inference import SUV_RANGE, network_output_to_suv
from MedGANSynthLib.virtual_pet.losses import (
    PIX2PIX_RECONSTRUCTION_WEIGHT,
    discriminator_loss,
    generator_loss,
    suv_weighted_l2,
)

FCN_LR, FCN_BETAS = 1e-4, (0.9, 0.999)
PIX2PIX_LR, PIX2PIX_BETAS = 2e-4, (0.5, 0.999)
GRID_SUV_MAX = 10.0
"""Sample pictures show SUV 0..10 (the PET MIP display window): liver (~2) and lesions stay visible."""

ExportFunction = Callable[[nn.Module, nn.Module, Path, dict[str, Any]], list[Path]]


@dataclass
class VirtualPETNetworkSettings:
    """Sizes of the three networks; the defaults are the CPU-sized model of Testing/Training/train_virtual_pet.sh.

    The paper's networks are ``width_fcn=1, fc_channels=4096, fc6_kernel=7, width_gan=1, depth=8`` (256 px).
    """

    in_channels: int = 3
    width_fcn: float = 0.125
    fc_channels: int = 4096
    fc6_kernel: int = 7
    width_gan: float = 0.25
    depth: int = 7
    gan_output: str = "none"
    """U-Net output: "none" = linear SUV / 20 (default, see the module text) or pix2pix's "tanh" on [-1, 1]."""
    gan_upsampling: str = "transposed"
    """U-Net decoder: the paper's "transposed" convolutions or "resize" + conv (no checkerboard; UNetConfig)."""

    def fcn_config(self) -> FCN4sConfig:
        return FCN4sConfig(in_channels=self.in_channels, width=self.width_fcn, fc_channels=self.fc_channels,
                           fc6_kernel=self.fc6_kernel, output_activation="none")

    def gan_config(self) -> UNetConfig:
        return UNetConfig(in_channels=self.in_channels, depth=self.depth, width=self.width_gan,
                          output_activation=self.gan_output, upsampling=self.gan_upsampling)

    def discriminator_config(self) -> PatchGANConfig:
        return PatchGANConfig(ct_channels=self.in_channels, pet_channels=1, width=self.width_gan)

    def validate(self) -> None:
        if self.in_channels < 1 or self.in_channels % 2 == 0:
            raise InputError(f"The networks need an odd number of CT slices as channels (got {self.in_channels}).")
        if not 0 < self.width_fcn <= 4 or not 0 < self.width_gan <= 4:
            raise InputError("--width-fcn and --width-gan must be factors between 0 and 4 (e.g. 0.125, 0.25).")
        if not 1 <= self.depth <= 8:
            raise InputError(f"--depth (U-Net down-samplings) must be 1 to 8 (got {self.depth}).")


def build_networks(settings: VirtualPETNetworkSettings) -> tuple[FCN4s, UNetGenerator, PatchGANDiscriminator]:
    settings.validate()
    return (FCN4s(settings.fcn_config()), UNetGenerator(settings.gan_config()),
            PatchGANDiscriminator(settings.discriminator_config()))


def suv_to_network_range(suv: torch.Tensor, output_range: tuple[float, float],
                         suv_range: tuple[float, float] = SUV_RANGE) -> torch.Tensor:
    """SUV in ``suv_range`` -> the network's output range (inverse of inference's network_output_to_suv)."""
    low, high = output_range
    fraction = (suv.clamp(*suv_range) - suv_range[0]) / (suv_range[1] - suv_range[0])
    return low + fraction * (high - low)


def _output_range(model: nn.Module) -> tuple[float, float]:
    return getattr(model, "module", model).config.output_range


def _weighting_prediction(output: torch.Tensor, model: nn.Module, needed: bool) -> torch.Tensor | None:
    """The prediction in SUV for a symmetric or overshoot loss weight (losses.suv_weighted_l2), or None for the
    paper's weight (which needs no prediction)."""
    return network_output_to_suv(output.detach().float(), _output_range(model)) if needed else None


class FCNTask:
    """FCN-4s with the SUV-weighted L2 loss (a TrainingTask)."""

    def __init__(self, fcn: FCN4s, lr: float = FCN_LR, sample_batch: dict[str, torch.Tensor] | None = None,
                 suv_weight_power: float = 1.0, symmetric_suv_weight: bool = False, overshoot_factor: float = 1.0,
                 overshoot_threshold: float = PAPER_THRESHOLD_SUV) -> None:
        self.fcn = fcn
        self.lr = lr
        self.suv_weight_power = suv_weight_power
        self.symmetric_suv_weight = symmetric_suv_weight
        self.overshoot_factor = overshoot_factor
        self.overshoot_threshold = overshoot_threshold
        self.sample_batch = sample_batch
        self._optimizers: dict[str, torch.optim.Optimizer] | None = None

    def modules(self) -> dict[str, nn.Module]:
        return {"fcn": self.fcn}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        if self._optimizers is None:
            self._optimizers = {"fcn": torch.optim.Adam(self.fcn.parameters(), lr=self.lr, betas=FCN_BETAS)}
        return self._optimizers

    def train_step(self, batch: dict[str, torch.Tensor], ctx: StepContext) -> dict[str, float]:
        fcn = ctx.models["fcn"]
        ct, suv = batch["ct"], batch["suv"]
        with ctx.autocast():
            prediction = fcn(ct).float()
        target = suv_to_network_range(suv, _output_range(fcn))
        predicted_suv = _weighting_prediction(prediction, fcn, self.symmetric_suv_weight or self.overshoot_factor != 1)
        loss = suv_weighted_l2(prediction, target, suv, weight_power=self.suv_weight_power, predicted_suv=predicted_suv,
                               symmetric=self.symmetric_suv_weight, overshoot_factor=self.overshoot_factor,
                               overshoot_threshold=self.overshoot_threshold)
        ctx.optimize("fcn", loss)
        return {"fcn_l2": float(loss.detach())}

    def predict_suv(self, ct: torch.Tensor) -> torch.Tensor:
        return network_output_to_suv(self.fcn(ct).float(), self.fcn.config.output_range)

    def sample_grid(self) -> torch.Tensor:
        ct, suv = _sample_tensors(self.sample_batch, self.fcn)
        return _grid_rows(ct, [suv, self.predict_suv(ct)])


class Pix2PixTask:
    """pix2pix (U-Net + PatchGAN) with adversarial + lambda * SUV-weighted L2 (a TrainingTask)."""

    def __init__(self, generator: UNetGenerator, discriminator: PatchGANDiscriminator, lr: float = PIX2PIX_LR,
                 reconstruction_weight: float = PIX2PIX_RECONSTRUCTION_WEIGHT, reconstruction_in_suv: bool = True,
                 sample_batch: dict[str, torch.Tensor] | None = None, suv_weight_power: float = 1.0,
                 symmetric_suv_weight: bool = False, gan_loss: str = "bce", lr_d: float | None = None,
                 overshoot_factor: float = 1.0, overshoot_threshold: float = PAPER_THRESHOLD_SUV) -> None:
        self.generator = generator
        self.suv_weight_power = suv_weight_power
        self.symmetric_suv_weight = symmetric_suv_weight
        self.overshoot_factor = overshoot_factor
        self.overshoot_threshold = overshoot_threshold
        self.reconstruction_in_suv = reconstruction_in_suv
        self.discriminator = discriminator
        self.lr = lr
        self.lr_d = lr if lr_d is None else lr_d
        self.gan_loss = gan_loss
        self.reconstruction_weight = reconstruction_weight
        self.sample_batch = sample_batch
        self._optimizers: dict[str, torch.optim.Optimizer] | None = None

    def modules(self) -> dict[str, nn.Module]:
        return {"generator": self.generator, "discriminator": self.discriminator}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        if self._optimizers is None:
            self._optimizers = {
                "generator": torch.optim.Adam(self.generator.parameters(), lr=self.lr, betas=PIX2PIX_BETAS),
                "discriminator": torch.optim.Adam(self.discriminator.parameters(), lr=self.lr_d,
                                                  betas=PIX2PIX_BETAS),
            }
        return self._optimizers

    def train_step(self, batch: dict[str, torch.Tensor], ctx: StepContext) -> dict[str, float]:
        generator, critic = ctx.models["generator"], ctx.models["discriminator"]
        ct, suv = batch["ct"], batch["suv"]
        target = suv_to_network_range(suv, _output_range(generator))
        with ctx.autocast():
            fake = generator(ct)
            real_logits = critic(ct, target).float()
            fake_logits = critic(ct, fake.detach()).float()
            d_loss = discriminator_loss(real_logits, fake_logits, self.gan_loss)
        ctx.optimize("discriminator", d_loss)
        with ctx.autocast(), frozen(self.discriminator) as still_critic:  # input gradient only: see engine.frozen
            fooled_logits = still_critic(ct, fake).float()
        # The reconstruction term is measured in SUV (see the module text): the generator's output mapped to SUV.
        fake_suv = self.to_reconstruction_units(fake.float(), _output_range(generator))
        truth = self.to_reconstruction_units(target, _output_range(generator))
        predicted_suv = _weighting_prediction(fake, generator, self.symmetric_suv_weight or self.overshoot_factor != 1)
        reconstruction = suv_weighted_l2(fake_suv, truth, suv, weight_power=self.suv_weight_power,
                                         predicted_suv=predicted_suv, symmetric=self.symmetric_suv_weight,
                                         overshoot_factor=self.overshoot_factor,
                                         overshoot_threshold=self.overshoot_threshold)
        g_loss = generator_loss(fooled_logits, reconstruction, self.reconstruction_weight, self.gan_loss)
        ctx.optimize("generator", g_loss)
        return {"d_loss": float(d_loss.detach()), "g_loss": float(g_loss.detach()),
                "gan_l2": float(reconstruction.detach())}

    def to_reconstruction_units(self, output: torch.Tensor, output_range: tuple[float, float]) -> torch.Tensor:
        """Network units -> SUV (affine, unclipped so gradients flow) when ``reconstruction_in_suv``."""
        if not self.reconstruction_in_suv:
            return output
        low, high = output_range
        return SUV_RANGE[0] + (output - low) * (SUV_RANGE[1] - SUV_RANGE[0]) / (high - low)

    def predict_suv(self, ct: torch.Tensor) -> torch.Tensor:
        return network_output_to_suv(self.generator(ct).float(), self.generator.config.output_range)

    def sample_grid(self) -> torch.Tensor:
        ct, suv = _sample_tensors(self.sample_batch, self.generator)
        return _grid_rows(ct, [suv, self.predict_suv(ct)])


class VirtualPETTask:
    """FCN-4s and pix2pix trained side by side on the same batches; exports both as one model."""

    def __init__(self, fcn_task: FCNTask, pix2pix_task: Pix2PixTask, threshold_suv: float = PAPER_THRESHOLD_SUV,
                 sample_batch: dict[str, torch.Tensor] | None = None, export: ExportFunction | None = None) -> None:
        self.fcn_task = fcn_task
        self.pix2pix_task = pix2pix_task
        self.threshold_suv = threshold_suv
        self.sample_batch = sample_batch
        self.export_function = export

    def modules(self) -> dict[str, nn.Module]:
        return {**self.fcn_task.modules(), **self.pix2pix_task.modules()}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {**self.fcn_task.optimizers(), **self.pix2pix_task.optimizers()}

    def train_step(self, batch: dict[str, torch.Tensor], ctx: StepContext) -> dict[str, float]:
        return {**self.fcn_task.train_step(batch, ctx), **self.pix2pix_task.train_step(batch, ctx)}

    def sample_grid(self) -> torch.Tensor:
        ct, suv = _sample_tensors(self.sample_batch, self.fcn_task.fcn)
        fcn_suv = self.fcn_task.predict_suv(ct)
        gan_suv = self.pix2pix_task.predict_suv(ct)
        blended = laplacian_blend(fcn_suv, gan_suv, threshold_suv=self.threshold_suv)
        return _grid_rows(ct, [suv, fcn_suv, gan_suv, blended])

    def export(self, run_dir: Path, summary: dict[str, Any]) -> list[Path]:
        if self.export_function is None:
            return []
        return self.export_function(self.fcn_task.fcn, self.pix2pix_task.generator, Path(run_dir), summary)


def settings_dict(settings: VirtualPETNetworkSettings) -> dict[str, Any]:
    return asdict(settings)


def sample_batch_from(dataset, count: int = 4) -> dict[str, torch.Tensor]:
    """``count`` fixed slices for the pictures: spread over the lesion slices when there are any, else the body."""
    chosen = dataset.lesion_slices() or sorted(set(dataset.index))
    picks = [chosen[round(n * (len(chosen) - 1) / max(1, count - 1))] for n in range(min(count, len(chosen)))]
    items = [dataset.slice_pair(case, index) for case, index in picks]
    return {key: torch.stack([item[key] for item in items]) for key in ("ct", "suv")}


def _sample_tensors(batch: dict[str, torch.Tensor] | None, model: nn.Module) -> tuple[torch.Tensor, torch.Tensor]:
    if batch is None:
        raise InputError("The task has no sample slices for its pictures; pass sample_batch.")
    device = next(model.parameters()).device
    return batch["ct"].to(device), batch["suv"].to(device)


def _grid_rows(ct: torch.Tensor, suv_images: list[torch.Tensor]) -> torch.Tensor:
    """Interleave per slice: centre CT channel, then each SUV image scaled 0..GRID_SUV_MAX -> 0..1."""
    centre = ct[:, ct.shape[1] // 2 : ct.shape[1] // 2 + 1]
    columns = [centre] + [(image / GRID_SUV_MAX).clamp(0.0, 1.0) for image in suv_images]
    return torch.stack(columns, dim=1).flatten(0, 1).float()
