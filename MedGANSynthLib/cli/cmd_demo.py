"""``medgansynth demo``: the whole pipeline on built-in phantoms (README quick-start command 1)."""

from __future__ import annotations

import argparse
from pathlib import Path

from MedGANSynthLib.errors import InputError


def register(subparsers) -> None:
    from MedGANSynthLib.cli.main import add_common_options, positive_mm, seed_value

    parser = subparsers.add_parser(
        "demo",
        help="run the pipeline end to end on phantom data and write volumes and pictures into one folder",
        description="Generate one whole-body PET/CT phantom per lesion class, export the PET as DICOM, convert it "
        "to SUV, resample to 2 mm, compute coronal and rotating MIPs, align the PET onto the CT and draw pictures.",
    )
    parser.add_argument("-o", "--output", default="medgansynth-demo", help="output folder (default: %(default)s)")
    parser.add_argument("--seed", type=seed_value, default=0, help="seed of the first phantom (default: %(default)s)")
    parser.add_argument("--classes", default=None,
                        help="comma-separated lesion classes (default: normal,head_neck,oesophagus,lung,lymphoma)")
    parser.add_argument("--voxel-mm", type=positive_mm, default=None,
                        help="CT voxel size of the phantoms in mm; larger is faster and smaller (default: 3)")
    parser.add_argument("--angles", type=int, default=36, help="frames of the rotating MIP; 0 skips it")
    parser.add_argument("--real-data", default=None,
                        help="folder of real example scans (the project's test data: ct-nifti/, ct-dicom-thorax/, "
                             "pet-dicom-flt-breast/) to put through the same steps; by default a 'shared/data' "
                             "folder next to a source checkout is used when there is one")
    parser.add_argument("--device", default="auto",
                        help="where the bundled models run: auto, cpu, cuda, cuda:N or mps (default auto)")
    add_common_options(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> dict:
    from MedGANSynthLib.app.demo import DEFAULT_REAL_DATA, run_demo
    from MedGANSynthLib.cli.progress_display import progress_display
    from MedGANSynthLib.io.output_set import staged_output
    from MedGANSynthLib.phantoms import LESION_CLASSES

    classes = tuple(LESION_CLASSES) if args.classes is None else tuple(c.strip() for c in args.classes.split(",") if c.strip())
    unknown = [c for c in classes if c not in LESION_CLASSES]
    if unknown or not classes:
        raise InputError(f"Unknown lesion class {unknown or '(none)'} in --classes; choose from {', '.join(LESION_CLASSES)}.")
    if args.voxel_mm is not None and not 0.5 <= args.voxel_mm <= 20:
        raise InputError(f"--voxel-mm {args.voxel_mm} is outside 0.5-20 mm.")
    if args.angles < 0:
        raise InputError(f"--angles must be 0 (no rotating MIP) or more (got {args.angles}).")
    real_data = Path(args.real_data) if args.real_data else DEFAULT_REAL_DATA
    if args.device != "auto":
        from MedGANSynthLib.device import resolve_device

        resolve_device(args.device)  # refuse a device this machine lacks before anything is written
    with staged_output(args.output, args.overwrite) as staged, progress_display(args.progress_lines, args.quiet) as progress:
        summary = staged.final(run_demo(staged.paths[0], classes=classes, seed=args.seed, voxel_mm=args.voxel_mm,
                                        rotating_angles=args.angles, real_data=real_data, device=args.device,
                                        progress=progress))
    if not args.json and not args.quiet:
        _print_summary(summary)
    return summary


def _print_summary(summary: dict) -> None:
    """What the demo made, folder by folder, so a user knows where to look."""
    root = Path(summary["output"])
    print(f"MedGANSynth demo finished in {summary['seconds']} s. Results in {root}:")
    print(f"  {Path(summary['overview_png']).name}: coronal MIPs of every phantom case side by side")
    cases = {case["name"]: case for case in summary["cases"]}
    for folder in sorted(path for path in root.iterdir() if path.is_dir()):
        size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6
        if folder.name in cases:
            case = cases[folder.name]
            lesions = f"{case['lesions']} lesion{'' if case['lesions'] == 1 else 's'}"
            dicom = "PET as a DICOM series, " if "pet_dicom" in case["files"] else ""
            what = (f"phantom ({lesions}, SUVmax {case['suv_max']}) with its ground truth in phantom/, {dicom}"
                    "coronal MIP, rotating MIP and fused PET/CT pictures")
        else:
            what = DEMO_FOLDERS.get(folder.name, "")
        print(f"  {folder.name}/ ({size:.1f} MB){': ' + what if what else ''}")
    print("  summary.json: every file of the run, with the settings")


# What the demo's other folders hold (the case folders are described from the summary).
DEMO_FOLDERS = {
    "slicer_views": "the last case as Slicer shows it (CT with PET overlay in three views, MIP, 3-D MIP)",
    "gan_samples": "images drawn from each bundled GAN, per class, and a latent walk",
    "virtual_pet": "virtual PET predicted from CT alone, with lesion candidates and pictures",
    "real_data": "the real example scans put through the same steps",
}
