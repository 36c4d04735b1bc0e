"""``medgansynth suv INPUT -o OUT.nrrd``: a PET (DICOM, or NIfTI/NRRD/MHA in Bq/ml) converted to SUVbw."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from MedGANSynthLib.cli.series_option import add_series_option
from MedGANSynthLib.cli.suv_options import add_suv_options, suv_overrides
from MedGANSynthLib.errors import InputError
from MedGANSynthLib.io.volume_io import WRITABLE_SUFFIXES, volume_suffix, write_volume
from MedGANSynthLib.pet.pet_input import read_pet_in_suv
from MedGANSynthLib.pet.suv import suv_warnings


def register(subparsers) -> None:
    from MedGANSynthLib.cli.main import add_common_options

    parser = subparsers.add_parser(
        "suv",
        help="convert a PET to SUV (body weight)",
        description=(
            "Convert a PET to SUVbw. DICOM PET takes weight, dose, times and half-life from its headers; each "
            "option below overrides its tag. NIfTI/NRRD/MHA in Bq/ml need all five options. Times are HHMMSS[.ffffff], "
            "HH:MM:SS or an ISO date-time (2024-03-01T14:17:00). DICOM Units BQML, CNTS (Philips scale factors) and "
            "GML, DecayCorrection START, ADMIN and NONE are handled; an unusual dose, uptake time, weight or SUVmax "
            "is converted and reported as a warning line."
        ),
    )
    parser.add_argument("input", metavar="INPUT", help="PET DICOM folder or .dcm file, or a NIfTI/NRRD/MHA file")
    parser.add_argument("-o", "--output", required=True, help="output volume (.nrrd keeps the SUV parameters)")
    add_suv_options(parser)
    add_series_option(parser, "PET")
    add_common_options(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> dict:
    output = Path(args.output)
    if volume_suffix(output) not in WRITABLE_SUFFIXES:
        raise InputError(f"Cannot write '{output.name}': choose a .nrrd, .nii.gz, .nii or .mha file name.")
    volume = read_pet_in_suv(args.input, suv_overrides(args), units_flag=False, series=args.series)  # refuses a CT
    if not np.all(np.isfinite(volume.array)):
        raise InputError(f"'{args.input}' gives NaN or infinite SUV values; check the PET file.")
    warnings = suv_warnings(volume)
    for warning in warnings:  # plausible but unusual values: converted, and said once each on stderr
        print(f"medgansynth suv: warning: {warning}", file=sys.stderr)
    write_volume(volume, output)
    return {
        "path": str(output),
        "shape": list(volume.array.shape),
        "spacing": list(volume.spacing),
        "suv_parameters": volume.metadata.get("suv", {"note": "input already in SUV"}),
        "suv_max": float(np.max(volume.array)),
        "warnings": warnings,
    }
