"""``medgansynth resample``: isotropic resampling (default 2 mm) or onto a reference grid (PET -> CT).

Interpolation defaults to linear for images and nearest neighbour for label maps (modality SEG / units label, an
integer image of at most 32 distinct values, or ``--label``). A DICOM PET is resampled in SUV.
"""

from __future__ import annotations

import argparse
import time

from MedGANSynthLib.cli.series_option import add_series_option
from MedGANSynthLib.cli.suv_options import add_suv_options, suv_overrides
from MedGANSynthLib.io import read_volume, write_volume
from MedGANSynthLib.pet.pet_input import read_volume_with_pet_in_suv
from MedGANSynthLib.preprocessing.resample import (
    AUTO,
    INTERPOLATORS,
    LABEL_MAP_MAX_VALUES,
    resample_isotropic,
    resample_to_reference,
)


def register(subparsers) -> None:
    from MedGANSynthLib.cli.main import add_common_options

    parser = subparsers.add_parser(
        "resample",
        help="resample a volume to isotropic voxels or onto a reference grid (PET onto its CT)",
        description="Resample INPUT to cubic voxels of --spacing mm, or with --reference onto that image's grid "
        "(matched by physical position, so PET and CT line up). A DICOM PET is converted to SUV first (the SUV "
        "options override its tags; --units bqml keeps Bq/ml).",
    )
    parser.add_argument("input", help="volume file (.nii.gz, .nrrd, .mha) or DICOM folder")
    parser.add_argument("-o", "--output", required=True, help="output volume (.nrrd, .nii.gz, .nii, .mha)")
    parser.add_argument("--spacing", type=float, default=2.0, help="isotropic voxel size in mm (default 2, RadioGAN)")
    parser.add_argument(
        "--interpolation",
        choices=[AUTO, *sorted(INTERPOLATORS)],
        default=AUTO,
        help="default auto: linear for images, nearest for label maps (modality SEG, or integers with at most "
        f"{LABEL_MAP_MAX_VALUES} distinct values); RadioGAN's preprocessing used nearest",
    )
    parser.add_argument("--label", action="store_true", help="INPUT is a label map: nearest neighbour, always")
    parser.add_argument("--reference", help="resample onto this volume's grid instead (e.g. the CT of a PET/CT)")
    add_suv_options(parser, units_flag=True)
    add_series_option(parser)
    add_series_option(parser, "CT", flag="--reference-series")
    add_common_options(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> dict:
    started = time.perf_counter()
    volume = read_volume_with_pet_in_suv(args.input, suv_overrides(args), units=args.units, series=args.series)
    if args.label:
        volume = volume.with_array(volume.array, modality="SEG", units="label")
    if args.reference:
        reference = read_volume(args.reference, series=args.reference_series, modality="CT")
        result = resample_to_reference(volume, reference, interpolation=args.interpolation)
    else:
        result = resample_isotropic(volume, args.spacing, interpolation=args.interpolation)
    output = write_volume(result, args.output)
    return {
        "output": str(output),
        "shape_kji": list(result.array.shape),
        "spacing_mm": list(result.spacing),
        "origin_mm": list(result.origin),
        "interpolation": result.metadata.get("interpolation"),
        "units": result.units,
        "seconds": round(time.perf_counter() - started, 3),
    }
