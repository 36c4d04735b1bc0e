"""``medgansynth resample``: isotropic resampling (RadioGAN: 2 mm, nearest) or onto a reference grid (PET -> CT)."""

from __future__ import annotations

import argparse
import time

from MedGANSynthLib.preprocessing.resample import INTERPOLATORS


def register(subparsers) -> None:
    from MedGANSynthLib.cli.main import add_common_options

    parser = subparsers.add_parser(
        "resample",
        help="resample a volume to isotropic voxels or onto a reference grid (PET onto its CT)",
        description="Resample INPUT to cubic voxels of --spacing mm, or with --reference onto that image's grid "
        "(matched by physical position, so PET and CT line up).",
    )
    parser.add_argument("input", help="volume file (.nii.gz, .nrrd, .mha) or DICOM folder")
    parser.add_argument("-o", "--output", required=True, help="output volume (.nrrd, .nii.gz, .nii, .mha)")
    parser.add_argument("--spacing", type=float, default=2.0, help="isotropic voxel size in mm (default 2, RadioGAN)")
    parser.add_argument(
        "--interpolation",
        choices=sorted(INTERPOLATORS),
        default=None,
        help="default: nearest for isotropic resampling (RadioGAN), linear onto a reference; labels always nearest",
    )
    parser.add_argument("--reference", help="resample onto this volume's grid instead (e.g. the CT of a PET/CT)")
    add_common_options(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> dict:
    from MedGANSynthLib.cli.main import check_volume_name
    from MedGANSynthLib.io import read_volume, write_volume
    from MedGANSynthLib.io.output_set import staged_output
    from MedGANSynthLib.preprocessing.resample import resample_isotropic, resample_to_reference

    check_volume_name(args.output)
    started = time.perf_counter()
    with staged_output(args.output, args.overwrite, kind="file") as staged:
        volume = read_volume(args.input)
        if args.reference:
            reference = read_volume(args.reference)
            result = resample_to_reference(volume, reference, interpolation=args.interpolation or "linear")
        else:
            result = resample_isotropic(volume, args.spacing, interpolation=args.interpolation or "nearest")
        write_volume(result, staged.paths[0])
    output = args.output
    return {
        "output": str(output),
        "shape_kji": list(result.array.shape),
        "spacing_mm": list(result.spacing),
        "origin_mm": list(result.origin),
        "interpolation": result.metadata.get("interpolation"),
        "seconds": round(time.perf_counter() - started, 3),
    }
