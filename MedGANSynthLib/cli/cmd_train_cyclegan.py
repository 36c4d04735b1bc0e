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
"""

from __future__ import annotations

import argparse
from typing import Any

from MedGANSynthLib.cli.main import apply_training_run_options, training_run_folder
from MedGANSynthLib.cli.window_option import parse_window

# MedGANSynthLib.cyclegan's DOMAIN_KINDS and GENERATORS, written out so that --help does not import torch (the
# cyclegan package does); a test checks that they match.
DOMAIN_KINDS = ("ct", "pet")
GENERATORS = ("resnet", "unet")


def register(subparsers) -> None:
    from MedGANSynthLib.cli.main import add_common_options, add_training_run_options

    parser = subparsers.add_parser(
        "train-cyclegan", help="train a CycleGAN (unpaired translation, e.g. CT <-> PET) on two image folders",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-a", help="folder of domain-A images (e.g. CT volumes or slices)")
    parser.add_argument("--data-b", help="folder of domain-B images (e.g. PET volumes in SUV), not paired with A")
    parser.add_argument("-o", "--output", required=True, help="run folder (checkpoints, pictures, weights)")
    parser.add_argument("--kind-a", choices=DOMAIN_KINDS, help="what domain A holds (default ct)")
    parser.add_argument("--kind-b", choices=DOMAIN_KINDS, help="what domain B holds (default pet)")
    parser.add_argument("--name-a", help="name of domain A in the model card (default: its kind, e.g. CT)")
    parser.add_argument("--name-b", help="name of domain B in the model card (default: its kind, e.g. PET)")
    parser.add_argument("--window-a", metavar="LOW,HIGH", help="domain A's window in its units (CT default "
                        "-1000,1000 HU; write a negative LOW as --window-a=-1000,1000)")
    parser.add_argument("--window-b", metavar="LOW,HIGH", help="domain B's window (PET default SUV 0,20)")
    parser.add_argument("--image-size", type=int, help="resize every image to N x N (default 256, the paper's)")
    parser.add_argument("--context-slices", type=int, help="neighbouring slices per side as channels (2.5-D; "
                        "default 0)")
    parser.add_argument("--epochs", type=int, help="epochs (default 200, the paper's); with --resume, extends a run")
    parser.add_argument("--decay-epochs", type=int, help="last epochs over which the rate decays linearly "
                        "(default half of --epochs)")
    parser.add_argument("--batch-size", type=int, help="images per step (default 1, the paper's)")
    parser.add_argument("--lr", type=float, help="Adam learning rate of all networks (default 2e-4); with "
                        "--resume, the run continues at this rate")
    parser.add_argument("--cycle-weight", type=float, help="lambda of the cycle loss (default 10)")
    parser.add_argument("--identity-fraction", type=float, help="identity loss weight as a fraction of lambda "
                        "(default 0.5; 0 switches it off)")
    parser.add_argument("--pool-size", type=int, help="generated images kept per direction (default 50; 0 = none)")
    parser.add_argument("--generator", choices=GENERATORS, help="ResNet (default, the paper's) or U-Net generator")
    parser.add_argument("--residual-blocks", type=int, help="ResNet blocks (default 9; the paper uses 6 at 128 px)")
    parser.add_argument("--width", type=float, help="channel factor of all four networks (default 1; e.g. 0.25)")
    parser.add_argument("--unet-depth", type=int, help="U-Net down-samplings (default 8)")
    parser.add_argument("--upsampling", choices=("transposed", "resize"),
                        help="generator up-sampling: transposed convolutions (default) or resize + conv")
    add_training_run_options(parser)
    add_common_options(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> dict[str, Any]:
    from MedGANSynthLib.cli.progress_display import progress_display
    from MedGANSynthLib.cyclegan.api import train_cyclegan
    from MedGANSynthLib.training.distributed import context_from_env

    apply_training_run_options(args)
    options = {key: getattr(args, key) for key in (
        "data_a", "data_b", "kind_a", "kind_b", "name_a", "name_b", "image_size", "context_slices", "epochs",
        "decay_epochs", "batch_size", "lr", "cycle_weight", "identity_fraction", "pool_size", "generator",
        "residual_blocks", "width", "unet_depth", "upsampling", "seed", "checkpoint_every")}
    options["window_a"] = parse_window(args.window_a) if args.window_a else None
    options["window_b"] = parse_window(args.window_b) if args.window_b else None
    is_main = context_from_env().is_main
    with training_run_folder(args, is_main), progress_display(args.progress_lines) as show:
        summary = train_cyclegan(args.output, resume=args.resume, device=args.device,
                                 checkpoint_steps=args.checkpoint_steps, workers=args.workers, progress=show, **options)
    if not is_main:
        args.json, args.quiet = False, True  # one summary and closing line per run, from rank 0
    return summary
