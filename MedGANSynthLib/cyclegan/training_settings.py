"""Settings of a CycleGAN training run: the flags of ``medgansynth train-cyclegan`` (cli/settings_flags.py builds
them from these fields). ``None`` means the paper's value, which :mod:`MedGANSynthLib.cyclegan.api` fills in (its
DEFAULTS; a test checks them against the paper's values). No torch here: ``--help`` must stay fast.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any, ClassVar

from MedGANSynthLib.training.settings import TrainingSettings, parse_low_high, setting

# MedGANSynthLib.cyclegan's DOMAIN_KINDS and GENERATORS, written out so that --help does not import torch (the
# cyclegan package does); a test checks that they match.
DOMAIN_KINDS = ("ct", "pet")
GENERATORS = ("resnet", "unet")


@dataclass
class CycleGANTrainingSettings(TrainingSettings):
    """One CycleGAN training run; the field names are the flags of ``medgansynth train-cyclegan``."""

    data_a: str | None = setting(None, "folder of domain-A images (e.g. CT volumes or slices)")
    data_b: str | None = setting(None, "folder of domain-B images (e.g. PET volumes in SUV), not paired with A")
    kind_a: str | None = setting(None, "what domain A holds (default ct)", choices=DOMAIN_KINDS)
    kind_b: str | None = setting(None, "what domain B holds (default pet)", choices=DOMAIN_KINDS)
    name_a: str | None = setting(None, "name of domain A in the model card (default: its kind, e.g. CT)")
    name_b: str | None = setting(None, "name of domain B in the model card (default: its kind, e.g. PET)")
    window_a: list[float] | None = setting(
        None, "domain A's window in its units (CT default -1000,1000 HU; write a negative LOW as "
        "--window-a=-1000,1000)", metavar="LOW,HIGH", parse=partial(parse_low_high, name="--window-a"))
    window_b: list[float] | None = setting(None, "domain B's window (PET default SUV 0,20)", metavar="LOW,HIGH",
                                           parse=partial(parse_low_high, name="--window-b"))
    image_size: int | None = setting(None, "resize every image to N x N (default 256, the paper's)")
    context_slices: int | None = setting(None, "neighbouring slices per side as channels (2.5-D; default 0)")
    epochs: int | None = setting(None, "epochs (default 200, the paper's); with --resume, extends a run")
    decay_epochs: int | None = setting(None, "last epochs over which the rate decays linearly (default half of "
                                       "--epochs)")
    batch_size: int | None = setting(None, "images per step (default 1, the paper's)")
    lr: float | None = setting(None, "Adam learning rate of all networks (default 2e-4); with --resume, the run "
                               "continues at this rate")
    cycle_weight: float | None = setting(None, "lambda of the cycle loss (default 10)")
    identity_fraction: float | None = setting(None, "identity loss weight as a fraction of lambda (default 0.5; 0 "
                                              "switches it off)")
    pool_size: int | None = setting(None, "generated images kept per direction (default 50; 0 = none)")
    generator: str | None = setting(None, "ResNet (default, the paper's) or U-Net generator", choices=GENERATORS)
    residual_blocks: int | None = setting(None, "ResNet blocks (default 9; the paper uses 6 at 128 px)")
    width: float | None = setting(None, "channel factor of all four networks (default 1; e.g. 0.25)")
    unet_depth: int | None = setting(None, "U-Net down-samplings (default 8)")
    upsampling: str | None = setting(None, "generator up-sampling: transposed convolutions (default) or resize + "
                                     "conv", choices=("transposed", "resize"))

    KIND: ClassVar[str] = "CycleGAN"
    RESUME_MAY_CHANGE: ClassVar[tuple[str, ...]] = ("epochs", "decay_epochs", "lr")

    def options(self) -> dict[str, Any]:
        """The keyword options of cyclegan.api.train_cyclegan: the settings given (not at their defaults)."""
        return self.given()
