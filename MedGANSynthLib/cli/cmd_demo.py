"""``medgansynth demo``: the whole pipeline on built-in phantoms (README quick-start command 1)."""

from __future__ import annotations

import argparse
from pathlib import Path

from MedGANSynthLib.errors import InputError


def register(subparsers) -> None:
    from MedGANSynthLib.cli.main import add_common_options

    parser = subparsers.add_parser(
        "demo",
        help="run the pipeline end to end on phantom data and write volumes and pictures into one folder",
        description="Generate one whole-body PET/CT phantom per lesion class, export the PET as DICOM, convert it "
        "to SUV, resample to 2 mm, compute coronal and rotating MIPs, align the PET onto the CT and draw pictures.",
    )
    parser.add_argument("-o", "--output", default="medgansynth-demo", help="output folder (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the first phantom (default: %(default)s)")
    parser.add_argument("--classes", default=None,
                        help="comma-separated lesion classes (default: normal,head_neck,oesophagus,lung,lymphoma)")
    parser.add_argument("--voxel-mm", type=float, default=None,
                        help="CT voxel size of the phantoms; larger is faster (default: 500 mm / 256 ≈ 1.95 mm)")
    parser.add_argument("--angles", type=int, default=36, help="frames of the rotating MIP; 0 skips it")
    parser.add_argument("--real-data", default=None,
                        help="folder with the real test data (default: ../shared/data beside the clone, if present)")
    add_common_options(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> dict:
    from MedGANSynthLib.cli.progress_display import progress_display
    from MedGANSynthLib.demo import DEFAULT_REAL_DATA, run_demo
    from MedGANSynthLib.phantoms import LESION_CLASSES

    classes = tuple(LESION_CLASSES) if args.classes is None else tuple(c.strip() for c in args.classes.split(",") if c.strip())
    unknown = [c for c in classes if c not in LESION_CLASSES]
    if unknown or not classes:
        raise InputError(f"Unknown lesion class {unknown or '(none)'}; choose from {', '.join(LESION_CLASSES)}.")
    if args.voxel_mm is not None and not 0.5 <= args.voxel_mm <= 20:
        raise InputError(f"--voxel-mm {args.voxel_mm} is outside 0.5-20 mm.")
    real_data = Path(args.real_data) if args.real_data else DEFAULT_REAL_DATA
    with progress_display(args.progress_lines) as progress:
        summary = run_demo(args.output, classes=classes, seed=args.seed, voxel_mm=args.voxel_mm,
                           rotating_angles=args.angles, real_data=real_data, progress=progress)
    if not args.json:
        print(f"MedGANSynth demo finished in {summary['seconds']} s. Results: {summary['output']}")
        print(f"  overview of coronal MIPs: {summary['overview_png']}")
        for case in summary["cases"]:
            print(f"  {case['name']}: {case['lesions']} lesions, SUVmax {case['suv_max']}, "
                  f"pictures in {Path(case['files']['mip_coronal_png']).parent}")
        print(f"  summary: {Path(summary['output']) / 'summary.json'}")
    return summary
