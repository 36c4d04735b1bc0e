"""``medgansynth train-cyclegan``: train a CycleGAN (Zhu et al. 2017, the RadioGraphics primer's unpaired use) on two UNPAIRED image folders.

    medgansynth train-cyclegan --data-a CT/ --data-b PET/ -o runs/cg --image-size 128 --width 0.25
    medgansynth train-cyclegan -o runs/cg --resume                       # continue a stopped run exactly
    torchrun --nproc_per_node=2 -m MedGANSynthLib train-cyclegan --data-a CT/ --data-b PET/ -o runs/cg

A separate command rather than ``train --architecture cyclegan``: ``train`` builds ONE generator/discriminator pair
from a latent vector and reads ONE folder (--data, --labels, --stage, latent options), while a CycleGAN translates
images between two folders with four networks, as ``train-virtual-pet`` does for its paired networks.
--data-a / --data-b: folders of PNG images, one-slice volumes (MIPs), 3-D volumes (NIfTI, NRRD, MHA; every axial
slice showing body becomes an image) or DICOM series folders. --kind-a / --kind-b say whether a domain is CT (HU
window, default [-1000, 1000]) or PET (SUV window, default [0, 20]). Defaults are the paper's: 200 epochs (the last
half decaying linearly to 0), batch 1, Adam 2e-4, lambda 10, identity 0.5 lambda, 50-image pools, 256 px, ResNet
generator with 9 residual blocks. At the end: weights/cyclegan.safetensors + .json (both generators; the card names
each direction and each domain's window).

The flags are the fields of MedGANSynthLib.cyclegan.training_settings.CycleGANTrainingSettings and the work is
MedGANSynthLib.cyclegan.training_run.train_cyclegan.
"""

from __future__ import annotations

import argparse
from typing import Any

from MedGANSynthLib.cli.main import apply_training_run_options
from MedGANSynthLib.cli.settings_flags import add_settings_flags, settings_from_args
from MedGANSynthLib.cyclegan.training_settings import DOMAIN_KINDS, GENERATORS, CycleGANTrainingSettings

__all__ = ["DOMAIN_KINDS", "GENERATORS", "register", "run"]


def register(subparsers) -> None:
    from MedGANSynthLib.cli.main import add_common_options, add_training_run_options

    parser = subparsers.add_parser(
        "train-cyclegan", help="train a CycleGAN (unpaired translation, e.g. CT <-> PET) on two image folders",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_settings_flags(parser, CycleGANTrainingSettings)
    add_training_run_options(parser, settings_flags=True)
    add_common_options(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> dict[str, Any]:
    from MedGANSynthLib.cli.progress_display import progress_display
    from MedGANSynthLib.cyclegan.training_run import train_cyclegan
    from MedGANSynthLib.training.distributed import context_from_env

    apply_training_run_options(args)
    settings = settings_from_args(CycleGANTrainingSettings, args)
    with progress_display(args.progress_lines, args.quiet) as show:
        summary = train_cyclegan(settings, resume=args.resume, overwrite=args.overwrite, progress=show)
    if not context_from_env().is_main:
        args.json, args.quiet = False, True  # one summary and closing line per run, from rank 0
    return summary
