"""``medgansynth mip``: a maximum-intensity projection (or with --angles a rotating MIP) plus an optional PNG."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from MedGANSynthLib.cli.series_option import add_series_option
from MedGANSynthLib.cli.suv_options import add_suv_options, suv_overrides
from MedGANSynthLib.errors import InputError

# MedGANSynthLib.projection.mip.PROJECTION_PATIENT_AXIS's names, written out so that --help does not import torch
# (the projection package does); a test checks that they match.
AXES = ("axial", "coronal", "sagittal")


def register(subparsers) -> None:
    from MedGANSynthLib.cli.main import add_common_options

    parser = subparsers.add_parser(
        "mip",
        help="maximum-intensity projection of a volume (a one-slice volume, optional PNG)",
        description="Project INPUT along a patient axis; with --angles write a rotating MIP (frames about the "
        "head-feet axis) for cine review. PNGs of PET MIPs are inverted grey, SUV 0..10. INPUT is a PET: a DICOM PET "
        "is converted to SUV from its headers (the SUV options override tags); a NIfTI/NRRD/MHA needs the SUV options, "
        "or --units suv (it already holds SUV) or --units bqml (project Bq/ml, labelled as such). A CT is refused.",
    )
    parser.add_argument("input", help="volume file (.nii.gz, .nrrd, .mha) or DICOM folder")
    parser.add_argument("-o", "--output", required=True, help="output volume (.nrrd recommended)")
    parser.add_argument("--axis", choices=AXES, default="coronal")
    parser.add_argument("--png", help="also write a picture (.png); with --angles a grid of the frames")
    parser.add_argument("--angles", type=int, help="number of rotating-MIP frames over 360 degrees (1..720)")
    add_suv_options(parser, units_flag=True)
    add_series_option(parser, "PET")
    add_common_options(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> dict:
    from MedGANSynthLib import pictures
    from MedGANSynthLib.cli.main import check_volume_name
    from MedGANSynthLib.cli.progress_display import progress_display
    from MedGANSynthLib.io import write_volume
    from MedGANSynthLib.io.output_set import OutputTarget, staged_outputs
    from MedGANSynthLib.pet.pet_input import read_pet_in_suv
    from MedGANSynthLib.projection.mip import mip
    from MedGANSynthLib.projection.rotating_mip import rotating_mip

    check_volume_name(args.output)
    if args.png and Path(args.png).suffix.lower() != ".png":
        raise InputError(f"--png '{Path(args.png).name}' is not a .png file name; pass --png picture.png.")
    started = time.perf_counter()
    targets = [OutputTarget(args.output, "file")] + ([OutputTarget(args.png, "file", "--png")] if args.png else [])
    # The volume and the picture are one set: neither is moved into place unless both were written.
    with staged_outputs(targets, args.overwrite) as staged:
        volume = read_pet_in_suv(args.input, suv_overrides(args), units=args.units, series=args.series)
        if args.angles is not None:
            with progress_display(args.progress_lines, args.quiet) as progress:
                result = rotating_mip(volume, args.angles, progress=progress)
        else:
            result = mip(volume, args.axis)
        write_volume(result, staged.paths[0])
        if args.png:
            if args.angles is not None:
                pictures.save_rotating_mip_png(result, staged.paths[1])
            else:
                pictures.save_mip_png(result, staged.paths[1])
    summary = {"output": str(args.output), "shape_kji": list(result.array.shape), "spacing_mm": list(result.spacing),
               "units": result.units}
    if args.png:
        summary["png"] = str(args.png)
    summary["seconds"] = round(time.perf_counter() - started, 3)
    return summary
