"""``medgansynth suv INPUT -o OUT.nrrd``: a PET (DICOM, or NIfTI/NRRD/MHA in Bq/ml) converted to SUVbw."""

from __future__ import annotations

import argparse
from pathlib import Path

from MedGANSynthLib.errors import InputError


def register(subparsers) -> None:
    from MedGANSynthLib.cli.main import add_common_options

    parser = subparsers.add_parser(
        "suv",
        help="convert a PET to SUV (body weight)",
        description=(
            "Convert a PET to SUVbw. DICOM PET takes weight, dose, times and half-life from its headers; each "
            "option below overrides its tag. NIfTI/NRRD/MHA in Bq/ml need all five options. Times are HHMMSS[.ffffff], "
            "HH:MM:SS or an ISO date-time (2024-03-01T14:17:00)."
        ),
    )
    parser.add_argument("input", metavar="INPUT", help="PET DICOM folder or .dcm file, or a NIfTI/NRRD/MHA file")
    parser.add_argument("-o", "--output", required=True, help="output volume (.nrrd keeps the SUV parameters)")
    parser.add_argument("--weight-kg", type=float, help="patient weight in kg (overrides PatientWeight)")
    parser.add_argument("--dose-mbq", type=float, help="injected activity in MBq (overrides RadionuclideTotalDose)")
    parser.add_argument("--injection-time", help="injection time (overrides RadiopharmaceuticalStartTime)")
    parser.add_argument("--scan-time", help="decay reference / scan start time (overrides SeriesTime)")
    parser.add_argument("--half-life-s", type=float, help="radionuclide half-life in s (F-18: 6586.2)")
    add_common_options(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> dict:
    import numpy as np

    from MedGANSynthLib.cli.main import check_volume_name
    from MedGANSynthLib.io.output_set import staged_output
    from MedGANSynthLib.io.volume_io import write_volume
    from MedGANSynthLib.pet.suv import load_pet_as_suv

    output = Path(args.output)
    check_volume_name(args.output)
    with staged_output(output, args.overwrite, kind="file") as staged:
        volume = load_pet_as_suv(
            args.input,
            weight_kg=args.weight_kg,
            dose_mbq=args.dose_mbq,
            injection_time=args.injection_time,
            scan_time=args.scan_time,
            half_life_s=args.half_life_s,
        )
        if not np.all(np.isfinite(volume.array)):
            raise InputError(f"'{args.input}' gives NaN or infinite SUV values; check the PET file.")
        write_volume(volume, staged.paths[0])
    return {
        "path": str(output),
        "shape": list(volume.array.shape),
        "spacing": list(volume.spacing),
        "suv_parameters": volume.metadata.get("suv", {"note": "input already in SUV"}),
        "suv_max": float(np.max(volume.array)),
    }
