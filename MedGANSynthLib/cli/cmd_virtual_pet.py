"""``medgansynth virtual-pet CT -o OUTDIR``: virtual PET (SUV) of a CT on the CT's exact grid, with lesion candidates.

    medgansynth virtual-pet ct.nii.gz -o out/                       # the bundled phantom-trained model
    medgansynth virtual-pet CT_DICOM_FOLDER -o out/ --model runs/vpet/weights/virtual_pet.safetensors --uncertainty 8
    medgansynth virtual-pet ct.nii.gz -o out/ --input-check runs/cg/weights/cyclegan.safetensors

Writes virtual_pet.nrrd, fcn.nrrd, gan.nrrd, [uncertainty.nrrd], lesion_labels.nrrd, lesions.csv, lesions.json,
summary.json and PNG pictures (see MedGANSynthLib.virtual_pet.pipeline); a CycleGAN --model writes no fcn/gan
files. Outside the CT's body every output is 0 SUV (--outside-body keep: the networks' raw values). Warnings (a
CT unlike the training CTs) go to stderr and summary.json. On an error or Ctrl-C nothing is left in OUTDIR; an
existing OUTDIR is replaced only with --overwrite.
"""

from __future__ import annotations

import argparse
import sys

from MedGANSynthLib.cli.main import (
    add_common_options,
    apply_thread_count,
    check_at_least_one,
    check_not_negative,
)
from MedGANSynthLib.cli.series_option import add_series_option
from MedGANSynthLib.errors import InputError
from MedGANSynthLib.virtual_pet.lesions import MIN_LESION_VOLUME_ML, PAPER_THRESHOLD_SUV
from MedGANSynthLib.virtual_pet.outside_body import (
    DEFAULT_OUTSIDE_BODY,
    OUTSIDE_BODY_CHOICES,
    OUTSIDE_BODY_HELP,
)
from MedGANSynthLib.virtual_pet.uncertainty import DEFAULT_UNCERTAINTY_PASSES


def register(subparsers) -> None:

    parser = subparsers.add_parser(
        "virtual-pet", help="predict a virtual PET (SUV) from a CT, with lesion candidates and pictures",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("ct", help="CT volume (.nii.gz, .nrrd, .mha) or DICOM folder, in HU")
    parser.add_argument("-o", "--output", required=True, help="output folder (created)")
    parser.add_argument("--model", default=None,
                        help="catalogue id or .safetensors path of a paired virtual-PET model or a CT -> PET "
                        "CycleGAN (default: the bundled 'virtual-pet-phantom')")
    parser.add_argument("--input-check", default="auto", metavar="CYCLEGAN",
                        help="check the CT against a CT -> PET CycleGAN's training CTs by its cycle error (catalogue "
                        "id or .safetensors; a warning when the CT comes back worse than 95%% of the training "
                        "slices); default: the bundled CycleGAN when one is installed; 'none' switches it off")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps (default auto)")
    parser.add_argument("--threshold", type=float, default=PAPER_THRESHOLD_SUV,
                        help="SUV above which the FCN image is blended in and a lesion candidate starts (paper "
                        f"{PAPER_THRESHOLD_SUV:g})")
    parser.add_argument("--min-volume-ml", type=float, default=MIN_LESION_VOLUME_ML,
                        help=f"list only candidates of at least this volume (default {MIN_LESION_VOLUME_ML:g} ml, "
                        "a 1 cm sphere; 0 lists every component, single voxels included)")
    parser.add_argument("--uncertainty", type=int, nargs="?", const=DEFAULT_UNCERTAINTY_PASSES, default=0,
                        metavar="N", help=f"also write uncertainty.nrrd: SD of N Monte-Carlo-dropout GAN passes "
                        f"(N defaults to {DEFAULT_UNCERTAINTY_PASSES})")
    parser.add_argument("--slab-size", type=int, default=None,
                        help="slices per network batch (default: automatic, by image size; bounds memory)")
    parser.add_argument("--no-fcn-gan-outputs", action="store_true", help="do not write fcn.nrrd and gan.nrrd")
    parser.add_argument("--no-pictures", action="store_true", help="do not write the PNG pictures")
    parser.add_argument("--outside-body", choices=OUTSIDE_BODY_CHOICES, default=DEFAULT_OUTSIDE_BODY,
                        help=OUTSIDE_BODY_HELP)
    parser.add_argument("--threads", type=int, help="CPU threads (default: torch's choice)")
    add_series_option(parser, "CT")
    add_blend_options(parser)
    add_common_options(parser)
    parser.set_defaults(handler=run)


def add_blend_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--blend-levels", type=int, metavar="N",
                        help="Laplacian pyramid levels of the FCN/GAN blend (default: the model card's; paper 4)")
    parser.add_argument("--blend-dilation", type=float, metavar="MM",
                        help="grow the blend's hot mask (FCN SUV > threshold) by MM millimetres in-plane, so small "
                             "lesions keep the FCN's peak (default: the model card's; paper 0)")
    parser.add_argument("--blend-veto", type=float, metavar="SUV",
                        help="where the GAN draws above the threshold while the FCN stays below SUV, take the FCN's "
                             "cooler image: fewer invented hot spots, and fewer lesions the GAN alone finds (default: "
                             "the model card's; 0 = off, the paper)")
    parser.add_argument("--blend-base-levels", type=int, metavar="N",
                        help="take the blend pyramid's N coarsest levels from the FCN everywhere: the GAN's texture "
                             "over the FCN's broad level of uptake (default: the model card's; 0 = the paper)")
    parser.add_argument("--slice-smoothing", type=float, metavar="MM",
                        help="average the outputs over MM millimetres across slices, which removes slice-to-slice "
                             "streaks the 2-D networks draw (default: the model card's; paper 0)")


def check_blend_options(args: argparse.Namespace) -> None:
    check_not_negative(("--blend-levels", args.blend_levels), ("--blend-base-levels", args.blend_base_levels))
    if args.blend_dilation is not None and args.blend_dilation < 0:
        raise InputError(f"--blend-dilation must be 0 mm or more (got {args.blend_dilation}).")
    if args.blend_veto is not None and args.blend_veto < 0:
        raise InputError(f"--blend-veto must be 0 SUV (off) or more (got {args.blend_veto}).")
    if args.slice_smoothing is not None and args.slice_smoothing < 0:
        raise InputError(f"--slice-smoothing must be 0 mm or more (got {args.slice_smoothing}).")


def run(args: argparse.Namespace) -> dict:
    from MedGANSynthLib.cli.progress_display import progress_display
    from MedGANSynthLib.io.output_set import staged_output
    from MedGANSynthLib.virtual_pet.pipeline import run_virtual_pet
    from MedGANSynthLib.virtual_pet.weights import DEFAULT_MODEL_ID

    apply_thread_count(args.threads)
    check_at_least_one(("--slab-size", args.slab_size))
    check_blend_options(args)
    with staged_output(args.output, args.overwrite) as staged, progress_display(args.progress_lines, args.quiet) as show:
        summary = run_virtual_pet(args.ct, staged.paths[0], model=args.model or DEFAULT_MODEL_ID,
                                  device=args.device, threshold_suv=args.threshold,
                                  min_volume_ml=args.min_volume_ml, uncertainty_passes=args.uncertainty,
                                  slab_size=args.slab_size, write_fcn_gan=not args.no_fcn_gan_outputs,
                                  pictures=not args.no_pictures, blend_levels=args.blend_levels,
                                  blend_dilation_mm=args.blend_dilation, blend_veto_suv=args.blend_veto,
                                  blend_base_levels=args.blend_base_levels, slice_smoothing_mm=args.slice_smoothing,
                                  progress=show, ct_series=args.series, input_check=args.input_check,
                                  outside_body=args.outside_body)
        summary = staged.final(summary)
    for warning in summary["warnings"]:  # after the progress bar, so the line stands alone
        print(f"medgansynth virtual-pet: warning: {warning}", file=sys.stderr)
    return summary
