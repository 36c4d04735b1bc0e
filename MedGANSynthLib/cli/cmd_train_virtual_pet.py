"""``medgansynth train-virtual-pet``: train the FCN-4s and the pix2pix of the virtual PET on paired CT/PET cases.

    medgansynth train-virtual-pet --data CASES/ -o runs/vpet --epochs 30 --threads 1
    medgansynth train-virtual-pet --data CASES/ -o runs/vpet --epochs 30 --resume     # continue a stopped run
    medgansynth train-virtual-pet --recipe virtual-pet-phantom --data CASES/ -o runs/vpet  # the bundled settings
    medgansynth train-virtual-pet --recipe virtual-pet-phantom --init-weights virtual-pet-phantom --data CASES/ \
        -o runs/vpet_tuned --epochs 2 --lr 2e-5 --lr-d 2e-4   # fine-tune the bundled model (PatchGAN starts fresh)
    torchrun --nproc_per_node=2 -m MedGANSynthLib train-virtual-pet --data CASES/ -o runs/vpet

Both networks train in ONE run on the shared engine: every batch updates the FCN-4s (SUV-weighted L2, Adam 1e-4) and
then the pix2pix pair (PatchGAN BCE + 100 x SUV-weighted L2, Adam 2e-4, beta1 0.5), so one checkpoint, one --resume
and one progress bar cover the whole model, and the sample pictures show CT | true PET | FCN | GAN | blended. --data
takes a folder of case folders (ct.*, pet.*, optional lesions.*; 'medgansynth phantoms --kind wholebody' writes
exactly that), autoPET's <patient>/<study>/CTres.nii.gz + SUV.nii.gz + SEG.nii.gz, or a CSV manifest
(ct,pet[,lesions]). At the end: weights/virtual_pet.safetensors + .json card.

The flags are the fields of MedGANSynthLib.virtual_pet.training_settings.VirtualPETTrainingSettings and the work
is MedGANSynthLib.virtual_pet.training_run.train_virtual_pet.
"""

from __future__ import annotations

import argparse
from typing import Any

from MedGANSynthLib.cli.main import apply_training_run_options
from MedGANSynthLib.cli.settings_flags import add_settings_flags, settings_from_args
from MedGANSynthLib.virtual_pet.training_settings import VIRTUAL_PET_RECIPES, VirtualPETTrainingSettings


def register(subparsers) -> None:
    from MedGANSynthLib.cli.main import add_common_options, add_training_run_options

    parser = subparsers.add_parser(
        "train-virtual-pet", help="train the virtual-PET FCN-4s + pix2pix on paired CT/PET cases",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_settings_flags(parser, VirtualPETTrainingSettings, VIRTUAL_PET_RECIPES)
    add_training_run_options(parser, settings_flags=True)
    add_common_options(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> dict[str, Any]:
    from MedGANSynthLib.cli.progress_display import progress_display
    from MedGANSynthLib.training.distributed import context_from_env
    from MedGANSynthLib.virtual_pet.training_run import train_virtual_pet

    apply_training_run_options(args)
    settings = settings_from_args(VirtualPETTrainingSettings, args, VIRTUAL_PET_RECIPES)
    with progress_display(args.progress_lines, args.quiet) as show:
        summary = train_virtual_pet(settings, resume=args.resume, overwrite=args.overwrite, progress=show)
    if not context_from_env().is_main:
        args.json, args.quiet = False, True  # one summary and closing line per run, from rank 0
    return summary
