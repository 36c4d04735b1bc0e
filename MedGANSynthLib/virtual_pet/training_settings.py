"""Settings of a virtual-PET training run (FCN-4s + pix2pix on paired CT/PET cases) and the bundled model's recipe.

Every ``medgansynth train-virtual-pet`` flag is a field here (cli/settings_flags.py builds the flags). The defaults
are the CPU-sized model of Testing/Training/train_virtual_pet.sh; the paper's networks are width 1 and depth 8 at
256 px. A test checks that the network and slice defaults equal VirtualPETNetworkSettings' and SliceDatasetConfig's.
No torch here: ``--help`` must stay fast.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from MedGANSynthLib.io.series_help import series_option_help
from MedGANSynthLib.training.settings import TrainingSettings, setting
from MedGANSynthLib.virtual_pet.lesions import PAPER_THRESHOLD_SUV

DEFAULT_EPOCHS = 30
NETWORK_FIELDS = ("width_fcn", "width_gan", "depth", "gan_upsampling")
"""Fields run.json keeps under "networks" (with in_channels = 2 * context_slices + 1)."""
DATASET_FIELDS = ("context_slices", "slice_size", "lesion_repeats", "crop_size")
"""Fields run.json keeps under "dataset" (crop_size only when given)."""
OVERSHOOT_THRESHOLD_SUV = PAPER_THRESHOLD_SUV
"""Default of overshoot_threshold: the paper's lesion threshold, read from its one definition."""
GAN_LOSSES = ("bce", "lsgan")
"""Adversarial losses of the pix2pix pair (``gan_loss``; virtual_pet/losses.py computes them)."""


@dataclass
class VirtualPETTrainingSettings(TrainingSettings):
    """One virtual-PET training run; the field names are the flags of ``medgansynth train-virtual-pet``."""

    data: str | None = setting(None, "folder of CT/PET case folders, autoPET folder, or CSV manifest (ct,pet)")
    series: str | None = setting(None, series_option_help("CT or PET"), metavar="NUMBER|UID")
    epochs: int | None = setting(None, f"epochs (default {DEFAULT_EPOCHS})")
    batch_size: int = setting(8, "slices per step (default 8; pix2pix used 1, 8 keeps BatchNorm statistics "
                              "meaningful and the CPU busy)")
    lr: float | None = setting(None, "learning rate of all networks (default FCN 1e-4, pix2pix 2e-4); with --resume, "
                               "the run continues at this rate")
    lr_d: float | None = setting(None, "learning rate of the PatchGAN discriminator when it should differ from the "
                                 "generator's (default: the same, 2e-4 or --lr); with --resume, the run continues at "
                                 "this rate (--lr alone sets every network's rate, the PatchGAN's too)")
    width_fcn: float = setting(0.125, "FCN-4s channel factor (default 0.125; paper 1)")
    width_gan: float = setting(0.25, "U-Net and PatchGAN channel factor (default 0.25; paper 1)")
    depth: int = setting(7, "U-Net down-samplings (default 7 for 128 px; paper 8 for 256 px)")
    gan_upsampling: str = setting("transposed", "U-Net decoder: paper's transposed convs (default) or resize + conv "
                                  "(no checkerboard)", choices=("transposed", "resize"))
    context_slices: int = setting(1, "neighbouring CT slices per side as channels (default 1)")
    slice_size: int = setting(128, "resample slices in-plane to N x N (default 128)")
    lesion_repeats: int = setting(3, "times a lesion slice appears per epoch (default 3)")
    crop_size: int | None = setting(
        None, "train on random N x N windows of the slices (a lesion slice's window holds a lesion), e.g. "
        "--slice-size 256 --crop-size 128 learns at 256-pixel detail for the cost of 128; keep N >= 2**(depth + 1) so "
        "the U-Net's innermost layer sees 2 x 2 pixels as it will on whole slices; not in the paper (default: whole "
        "slices)")
    gan_l2_weight: float = setting(100.0, "lambda of the generator's SUV-weighted L2 term, in SUV^2 (default 100, "
                                   "pix2pix)")
    suv_weight_power: float = setting(
        1.0, "raise the L2 loss weight (1 + SUV) to this power so lesions count more (default 1, the paper's linear "
        "weight; 2 = a pixel of SUV 8 counts 81x air); not in the paper")
    symmetric_suv_weight: bool = setting(
        False, "weigh each pixel by the larger of its true and predicted SUV, so a hot spot drawn on cold tissue costs "
        "as much as a missed lesion; not in the paper (its weight is the true SUV alone)")
    overshoot_factor: float = setting(
        1.0, "multiply the L2 loss weight of each pixel whose true SUV is below --overshoot-threshold while the "
        "network draws it above: a hot spot drawn where the truth is not hot costs F times as much, in the FCN and "
        "the pix2pix L2 (default 1, off; e.g. 4); not in the paper", metavar="F")
    overshoot_threshold: float = setting(
        OVERSHOOT_THRESHOLD_SUV, "SUV that --overshoot-factor counts as hot (default 2.5, the paper's lesion "
        "threshold)", metavar="SUV")
    init_weights: str | None = setting(
        None, "fine-tune: start the FCN-4s and the pix2pix generator from a virtual-PET model (a bundled id such as "
        "virtual-pet-phantom, or a .safetensors file with its .json card); the networks' sizes, context slices and "
        "slice size come from its card (leave those flags out); the PatchGAN discriminator is not in the file and "
        "starts fresh; a lower --lr suits a fine-tune; not with --resume", metavar="MODEL", stored=False)

    gan_loss: str = setting("bce", "adversarial loss of the pix2pix pair: bce (default; pix2pix, the paper) or lsgan "
                            "(least squares, Mao et al. 2017, meant to keep teaching the generator when the PatchGAN "
                            "wins); not in the paper", choices=GAN_LOSSES)

    KIND: ClassVar[str] = "virtual-PET"
    RESUME_MAY_CHANGE: ClassVar[tuple[str, ...]] = ("epochs", "lr", "lr_d")
    RUN_FILE_KEYS: ClassVar[tuple[str, ...]] = ("data", "epochs", "batch_size", "lr", "seed", "checkpoint_every",
                                                "networks", "dataset")

    @classmethod
    def from_run_file(cls, saved: Mapping[str, Any], **invocation: Any) -> VirtualPETTrainingSettings:
        """Also reads the network and slice settings from run.json's "networks" and "dataset" parts (older run
        files keep only the network settings that were given; the others were the defaults, as here)."""
        return super().from_run_file({**saved, **saved.get("networks", {}), **saved.get("dataset", {})},
                                     **invocation)

    def run_parts(self) -> dict[str, dict[str, Any]]:
        """run.json's "networks" (VirtualPETNetworkSettings) and "dataset" (SliceDatasetConfig) parts."""
        dataset = {name: getattr(self, name) for name in DATASET_FIELDS}
        if dataset["crop_size"] is None:
            del dataset["crop_size"]
        return {"networks": {"in_channels": 2 * self.context_slices + 1,
                             **{name: getattr(self, name) for name in NETWORK_FIELDS}},
                "dataset": dataset}


VIRTUAL_PET_RECIPES: dict[str, dict[str, Any]] = {
    # Testing/Training/train_virtual_pet.sh, the run whose FCN is bundled (session 9; the bundled generator comes
    # from the same recipe with --width-fcn 0.125, see virtual_pet/combine.py).
    "virtual-pet-phantom": {"width_fcn": 0.25, "width_gan": 0.25, "depth": 7, "gan_upsampling": "resize",
                            "context_slices": 2, "slice_size": 128, "lesion_repeats": 5, "suv_weight_power": 2.0,
                            "symmetric_suv_weight": True, "epochs": 3, "batch_size": 8, "seed": 31,
                            "checkpoint_every": 1},
}
"""Named settings of the bundled virtual PET (``medgansynth train-virtual-pet --recipe NAME --data DIR -o RUN``)."""
