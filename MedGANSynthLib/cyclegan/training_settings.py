"""Settings of a CycleGAN training run: the fields that :func:`MedGANSynthLib.cyclegan.training_run.train_cyclegan`
takes, run.json keeps and ``medgansynth train-cyclegan`` offers as flags (cli/settings_flags.py builds them). The
defaults are the paper's (Zhu et al. 2017; a test checks them against the library's constants); ``None`` for
epochs and lr means the paper's value too, filled in when the run starts, so that a resume can tell an epoch count
or rate that was given from one that was not. No torch here: ``--help`` must stay fast.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, ClassVar

from MedGANSynthLib.training.settings import TrainingSettings, parse_low_high, setting

# MedGANSynthLib.cyclegan's DOMAIN_KINDS and GENERATORS, written out so that --help does not import torch (the
# cyclegan package does); a test checks that they match.
DOMAIN_KINDS = ("ct", "pet")
GENERATORS = ("resnet", "unet")
DEFAULT_EPOCHS = 200
NETWORK_FIELDS = ("generator", "residual_blocks", "width", "unet_depth", "upsampling")
"""Fields run.json keeps under "networks" (cyclegan/networks.CycleGANNetworkSettings, with the channels)."""


@dataclass
class CycleGANTrainingSettings(TrainingSettings):
    """One CycleGAN training run; the field names are the flags of ``medgansynth train-cyclegan``."""

    data_a: str | None = setting(None, "folder of domain-A images (e.g. CT volumes or slices)")
    data_b: str | None = setting(None, "folder of domain-B images (e.g. PET volumes in SUV), not paired with A")
    kind_a: str = setting("ct", "what domain A holds (default ct)", choices=DOMAIN_KINDS)
    kind_b: str = setting("pet", "what domain B holds (default pet)", choices=DOMAIN_KINDS)
    name_a: str | None = setting(None, "name of domain A in the model card (default: its kind, e.g. CT)")
    name_b: str | None = setting(None, "name of domain B in the model card (default: its kind, e.g. PET)")
    window_a: list[float] | None = setting(
        None, "domain A's window in its units (CT default -1000,1000 HU; write a negative LOW as "
        "--window-a=-1000,1000)", metavar="LOW,HIGH", parse=partial(parse_low_high, name="--window-a"))
    window_b: list[float] | None = setting(None, "domain B's window (PET default SUV 0,20)", metavar="LOW,HIGH",
                                           parse=partial(parse_low_high, name="--window-b"))
    image_size: int = setting(256, "resize every image to N x N (default 256, the paper's)")
    context_slices: int = setting(0, "neighbouring slices per side as channels (2.5-D; default 0)")
    epochs: int | None = setting(None, f"epochs (default {DEFAULT_EPOCHS}, the paper's); with --resume, extends a run")
    decay_epochs: int | None = setting(None, "last epochs over which the rate decays linearly (default half of "
                                       "--epochs)")
    batch_size: int = setting(1, "images per step (default 1, the paper's)")
    lr: float | None = setting(None, "Adam learning rate of all networks (default 2e-4); with --resume, the run "
                               "continues at this rate")
    cycle_weight: float = setting(10.0, "lambda of the cycle loss (default 10)")
    identity_fraction: float = setting(0.5, "identity loss weight as a fraction of lambda (default 0.5; 0 "
                                       "switches it off)")
    pool_size: int = setting(50, "generated images kept per direction (default 50; 0 = none)")
    generator: str = setting("resnet", "ResNet (default, the paper's) or U-Net generator", choices=GENERATORS)
    residual_blocks: int = setting(9, "ResNet blocks (default 9; the paper uses 6 at 128 px)")
    width: float = setting(1.0, "channel factor of all four networks (default 1; e.g. 0.25)")
    unet_depth: int = setting(8, "U-Net down-samplings (default 8)")
    upsampling: str = setting("transposed", "generator up-sampling: transposed convolutions (default) or resize + "
                              "conv", choices=("transposed", "resize"))

    KIND: ClassVar[str] = "CycleGAN"
    RESUME_MAY_CHANGE: ClassVar[tuple[str, ...]] = ("epochs", "decay_epochs", "lr")
    RUN_FILE_KEYS: ClassVar[tuple[str, ...]] = ("architecture", "data_a", "data_b", "epochs", "networks")
    """Keys every CycleGAN run.json has had."""

    @classmethod
    def from_run_file(cls, saved: Mapping[str, Any], **invocation: Any) -> CycleGANTrainingSettings:
        """Also reads the network settings from run.json's "networks" part (the only place run files written
        before this class kept them)."""
        return super().from_run_file({**saved, **saved.get("networks", {})}, **invocation)
