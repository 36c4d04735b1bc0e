"""``medgansynth phantoms``: generate phantom datasets with ground truth (whole-body PET/CT, brain PET, CT slices).

Classes (or stages) cycle over the cases; each case's seed is derived from --seed, so a run is reproducible.
Output: one folder per case (volumes as NRRD + manifest.json) and ``cases.csv`` in the output folder.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.phantoms.brain import STAGES
from MedGANSynthLib.phantoms.lesions import LESION_CLASSES
from MedGANSynthLib.phantoms.versions import (
    DEFAULT_PHANTOM_VERSION,
    PHANTOM_VERSIONS,
    REALISTIC_PHANTOM_VERSIONS,
    spoken_versions,
)

REALISTIC = spoken_versions(REALISTIC_PHANTOM_VERSIONS)

KINDS = ("wholebody", "brain", "ctslices")


def register(subparsers) -> None:
    from MedGANSynthLib.cli.main import add_common_options, positive_mm, seed_value

    parser = subparsers.add_parser(
        "phantoms", help="generate phantom PET/CT, brain PET or chest CT slices with ground truth",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-o", "--output", required=True, help="output folder (created)")
    parser.add_argument("--kind", choices=KINDS, default="wholebody")
    parser.add_argument("--count", type=int, default=1,
                        help="number of cases (ctslices: number of slices in the one stack)")
    parser.add_argument("--seed", type=seed_value, default=0, help="dataset seed; case seeds are derived from it")
    parser.add_argument("--classes", default=",".join(LESION_CLASSES),
                        help=f"wholebody lesion classes to cycle over (default: {','.join(LESION_CLASSES)})")
    parser.add_argument("--stages", default=",".join(STAGES), help="brain stages to cycle over (NC,MCI,AD)")
    parser.add_argument("--voxel-mm", type=positive_mm, default=None,
                        help="wholebody CT voxel size in mm (default ~1.95 x 3 mm; e.g. 8 for tiny fast cases)")
    parser.add_argument("--size", type=int, default=64, help="ctslices image size in pixels (e.g. 40 or 64)")
    parser.add_argument("--phantom-version", type=int, default=None,
                        help=f"wholebody generator: {DEFAULT_PHANTOM_VERSION} (default; realistic anatomy - arms, "
                             "muscle groups, bowel, liver and lung vessels, published HU/SUV), 6 (version 5 with the "
                             "unenhanced CT's noise measured on real PET/CT CTs), 7 (version 6 with the lymph nodes in fat), "
                             "8 (version 7 with ischioanal fossae, the thighs parted below the perineum and "
                             "axillary fat pads), 4 (before version 5's "
                             "muscle groups, vessels, endometrium, breast gland, blood HU and pelvis), 3 or 2 (before "
                             "version 4's and 3's corrections to published values), 1-7 kept bit-for-bit since models "
                             "are trained on them, or 1 (the box-shaped phantom the bundled models were trained on)")
    parser.add_argument("--contrast", default="none",
                        help=f"wholebody version {REALISTIC} CT phase: none (default) or portal-venous")
    parser.add_argument("--arms", default="random",
                        help=f"wholebody version {REALISTIC} arm position: random, down or up")
    parser.add_argument("--pet-noise", default="scaled",
                        help=f"wholebody version {REALISTIC} PET noise: scaled (default; Poisson-like, scaled to a liver CoV "
                             "of 10-15 %%) or counts (from the counts of a clinical acquisition: dose, minutes per "
                             "bed, scanner sensitivity, patient attenuation)")
    parser.add_argument("--pet-minutes-per-bed", type=float, default=None,
                        help="with --pet-noise counts: acquisition minutes per bed position (default 2)")
    add_common_options(parser)
    parser.set_defaults(handler=run)


def _split(text: str, allowed: tuple[str, ...], what: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in allowed]
    if unknown or not names:
        raise InputError(f"Unknown {what} '{','.join(unknown) or text}'; choose from: {','.join(allowed)}.")
    return names


def _check_version_options(args: argparse.Namespace) -> None:
    if args.phantom_version is not None and args.kind != "wholebody":
        raise InputError("--phantom-version applies to --kind wholebody only; drop it for brain or ctslices.")
    if args.phantom_version is None:
        args.phantom_version = DEFAULT_PHANTOM_VERSION
    if args.phantom_version not in PHANTOM_VERSIONS:
        raise InputError(f"--phantom-version must be {spoken_versions(PHANTOM_VERSIONS)}; got {args.phantom_version}.")
    if args.contrast not in ("none", "portal-venous"):
        raise InputError(f"--contrast must be none or portal-venous; got '{args.contrast}'.")
    if args.arms not in ("random", "down", "up"):
        raise InputError(f"--arms must be random, down or up; got '{args.arms}'.")
    if args.pet_noise not in ("scaled", "counts"):
        raise InputError(f"--pet-noise must be scaled or counts; got '{args.pet_noise}'.")
    if args.pet_minutes_per_bed is not None and args.pet_noise != "counts":
        raise InputError("--pet-minutes-per-bed needs --pet-noise counts.")
    if args.pet_minutes_per_bed is not None and not 0 < args.pet_minutes_per_bed <= 60:
        raise InputError(f"--pet-minutes-per-bed must be between 0 and 60; got {args.pet_minutes_per_bed}.")
    uses_v2 = args.contrast != "none" or args.arms != "random" or args.pet_noise != "scaled"
    if uses_v2 and (args.kind != "wholebody" or args.phantom_version == 1):
        raise InputError(f"--contrast, --arms and --pet-noise need --kind wholebody --phantom-version {REALISTIC}.")


def case_seeds(seed: int, count: int) -> list[int]:
    """Independent per-case seeds derived deterministically from the dataset seed."""
    import numpy as np

    return [int(s) for s in np.random.SeedSequence(int(seed)).generate_state(count)]


def run(args: argparse.Namespace) -> dict:
    if args.count < 1:
        raise InputError(f"--count must be at least 1; got {args.count}.")
    if args.voxel_mm is not None and args.kind != "wholebody":
        raise InputError("--voxel-mm applies to --kind wholebody only; drop it for brain or ctslices.")
    if args.voxel_mm is not None and not 0.5 <= args.voxel_mm <= 50:
        raise InputError(f"--voxel-mm must be between 0.5 and 50 mm; got {args.voxel_mm}.")
    _check_version_options(args)
    labels = (_split(args.classes, LESION_CLASSES, "lesion class") if args.kind == "wholebody"
              else _split(args.stages, STAGES, "stage") if args.kind == "brain" else ["chest"])
    from MedGANSynthLib.cli.progress_display import progress_display
    from MedGANSynthLib.io.output_set import staged_output
    from MedGANSynthLib.jobs.progress import report
    from MedGANSynthLib.phantoms.brain import make_brain_case
    from MedGANSynthLib.phantoms.ct_slices import make_chest_ct_slices
    from MedGANSynthLib.phantoms.pet_counts import CountStatistics
    from MedGANSynthLib.phantoms.wholebody import WholeBodyConfig, make_wholebody_case
    from MedGANSynthLib.phantoms.writer import write_case, write_case_index

    started = time.perf_counter()
    rows = []
    with staged_output(args.output, args.overwrite) as staged, progress_display(args.progress_lines, args.quiet) as show:
        root = staged.paths[0]
        if args.kind == "ctslices":
            case_id = f"ctslices_{args.size}px"
            stack = make_chest_ct_slices(args.seed, args.count, size=args.size, progress=show)
            paths = write_case(stack, root / case_id)
            rows.append({"case_id": case_id, "kind": args.kind, "label": "chest", "seed": args.seed,
                         "paths": list(paths.values())})
        else:
            config = WholeBodyConfig()
            counts = (CountStatistics(minutes_per_bed=args.pet_minutes_per_bed)
                      if args.pet_minutes_per_bed is not None else None)
            if args.voxel_mm is not None:
                config = config.with_voxel_mm(args.voxel_mm)
            for n, seed in enumerate(case_seeds(args.seed, args.count)):
                label = labels[n % len(labels)]
                case_id = f"{args.kind}_{n:04d}_{label}"
                case = (make_wholebody_case(seed, label, config, version=args.phantom_version,
                                            contrast=args.contrast, arms=None if args.arms == "random" else args.arms,
                                            **({"pet_noise": "counts", "counts": counts}
                                               if args.pet_noise == "counts" else {}))
                        if args.kind == "wholebody" else make_brain_case(seed, label))
                paths = write_case(case, root / case_id)
                rows.append({"case_id": case_id, "kind": args.kind, "label": label, "seed": seed,
                             "paths": list(paths.values())})
                report(show, None, "phantoms", n + 1, args.count, case_id)
        index = staged.final(write_case_index(root, rows))
    root = Path(args.output)
    return {
        "output": str(root), "kind": args.kind, "count": args.count, "index": str(index),
        "seconds": round(time.perf_counter() - started, 2),
        "cases": [{"case_id": r["case_id"], "label": r["label"], "seed": r["seed"]} for r in rows],
    }
