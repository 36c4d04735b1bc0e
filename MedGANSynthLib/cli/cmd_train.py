"""``medgansynth train``: train one of the papers' GANs on a folder of images, resumable, single- or multi-process.

    medgansynth train --architecture radiogan --data MIPS/ -o runs/radiogan
    medgansynth train --recipe ct-gan-phantom --data CT/ -o runs/ct        # the bundled CT GAN's settings
    torchrun --nproc_per_node=2 -m MedGANSynthLib train --architecture ct_gan --data CT/ -o runs/ct

The flags are the fields of MedGANSynthLib.gan.training_settings.GanTrainingSettings and the work is
MedGANSynthLib.gan.training_run.train_gan; this module only reads the command line and shows progress.
"""

from __future__ import annotations

import argparse
from typing import Any

from MedGANSynthLib.cli.main import apply_training_run_options
from MedGANSynthLib.cli.settings_flags import add_settings_flags, settings_from_args
from MedGANSynthLib.gan.training_settings import GAN_RECIPES, GanTrainingSettings


def register(subparsers) -> None:
    from MedGANSynthLib.cli.main import add_common_options, add_training_run_options

    parser = subparsers.add_parser(
        "train",
        help="train a GAN (RadioGAN, brain-PET DCGAN or CT GAN) on a data folder",
        description="Train a GAN with the paper's defaults (optimiser, learning rate, batch size, epochs); every\n"
        "setting can be overridden. Checkpoints every --checkpoint-every epochs; --resume continues the same\n"
        "run exactly. Runs on several processes with torchrun (DDP).",
    )
    add_settings_flags(parser, GanTrainingSettings, GAN_RECIPES)
    add_training_run_options(parser, settings_flags=True)
    add_common_options(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> dict[str, Any]:
    from MedGANSynthLib.cli.progress_display import progress_display
    from MedGANSynthLib.gan.training_run import train_gan
    from MedGANSynthLib.training.distributed import context_from_env

    apply_training_run_options(args)
    settings = settings_from_args(GanTrainingSettings, args, GAN_RECIPES)
    with progress_display(args.progress_lines, args.quiet) as show:
        summary = train_gan(settings, resume=args.resume, overwrite=args.overwrite, progress=show)
    if not context_from_env().is_main:
        args.json, args.quiet = False, True  # one JSON summary and closing line per run, from rank 0
    return summary
