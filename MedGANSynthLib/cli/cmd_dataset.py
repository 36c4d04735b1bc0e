"""``medgansynth dataset``: build a GAN training folder (train/ + heldout/) from phantoms or your own volumes."""

from __future__ import annotations

import argparse

from MedGANSynthLib.cli.series_option import add_series_option
from MedGANSynthLib.errors import InputError


def register(subparsers) -> None:
    from MedGANSynthLib.cli.main import add_common_options, positive_mm, seed_value

    parser = subparsers.add_parser(
        "dataset",
        help="build a training folder for a GAN from phantoms or from your own PET/CT volumes",
        description="Writes OUTPUT/train and OUTPUT/heldout (and OUTPUT/selection with --selection) with images "
        "and labels.csv. 'mip': coronal MIPs of whole-body PET (RadioGAN); 'brain': brain FDG-PET volumes by stage; "
        "'ct': axial chest-CT slices.",
    )
    parser.add_argument("kind", choices=("mip", "brain", "ct"))
    parser.add_argument("-o", "--output", required=True, help="output folder")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--phantoms", type=int, metavar="N",
                        help="generate N phantom cases per class/stage (mip, brain) or N subjects (ct)")
    source.add_argument("--labels", metavar="CSV",
                        help="(mip) CSV 'file,label' listing your PET volumes in SUV, one per row")
    parser.add_argument("--heldout", type=int, default=None,
                        help="phantom cases per class kept out of training for evaluation (default: 20%%)")
    parser.add_argument("--selection", type=int, default=0, metavar="N",
                        help="(phantoms) N more cases per class/stage (CT: subjects) in OUTPUT/selection, for choosing "
                             "between models or checkpoints ('evaluate-gan --against selection') so that the "
                             "held-out figures stay unbiased; train and held-out cases are the same with or "
                             "without it (default 0)")
    parser.add_argument("--heldout-fraction", type=float, default=0.2, help="(--labels) share held out")
    parser.add_argument("--seed", type=seed_value, default=0)
    parser.add_argument("--classes", default=None, help="(mip) comma-separated lesion classes of the phantoms")
    parser.add_argument("--voxel-mm", type=positive_mm, default=4.0, help="(mip) phantom CT voxel; MIPs are at 2 mm")
    parser.add_argument("--slices", type=int, default=32, help="(ct) slices per simulated subject")
    parser.add_argument("--size", type=int, default=64, help="(ct) slice size in pixels")
    parser.add_argument("--phantom-version", type=int, default=None, metavar="N",
                        help="(mip, ct) whole-body phantom generator version 1-10; mip default 1 (the demo's; the "
                             "bundled RadioGAN learned from 3), ct default: the chest-slice phantom the bundled CT GAN "
                             "learned from, 2-10: chest slices of whole-body phantoms")
    add_series_option(parser, "PET")
    add_common_options(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> dict:
    from MedGANSynthLib.cli.progress_display import progress_display
    from MedGANSynthLib.gan import dataset_builders as builders
    from MedGANSynthLib.io.output_set import staged_output

    if args.phantoms is not None and args.phantoms < 2:
        raise InputError("--phantoms needs at least 2 cases (one to train on, one held out).")
    heldout = args.heldout if args.heldout is not None else max(1, round(0.2 * (args.phantoms or 0)))
    classes = [c.strip() for c in args.classes.split(",")] if args.classes else None
    if args.labels:
        if args.kind != "mip":
            raise InputError("--labels builds MIP data sets; for brain or CT data point 'train' at your folder.")
        if args.selection:
            raise InputError("--selection adds phantom cases; with --labels, list a third group of your volumes "
                             "in a data set of its own.")
    if args.series and not args.labels:
        raise InputError("--series picks a series in the DICOM folders that --labels lists; phantoms have none.")
    check_phantom_version(args)
    if not 0 <= args.heldout_fraction < 1:
        raise InputError(f"--heldout-fraction must be from 0 to below 1 (got {args.heldout_fraction}).")
    with staged_output(args.output, args.overwrite) as staged, progress_display(args.progress_lines, args.quiet) as progress:
        output = staged.paths[0]
        if args.labels:
            summary = builders.build_mip_dataset_from_volumes(output, args.labels, args.heldout_fraction,
                                                              args.seed, progress=progress, series=args.series)
        elif args.kind == "mip":
            summary = builders.build_mip_dataset_from_phantoms(output, args.phantoms, heldout, args.seed,
                                                               classes, args.voxel_mm, progress=progress,
                                                               selection_per_class=args.selection,
                                                               phantom_version=args.phantom_version)
        elif args.kind == "brain":
            summary = builders.build_brain_dataset_from_phantoms(output, args.phantoms, heldout, args.seed,
                                                                 classes, progress=progress,
                                                                 selection_per_stage=args.selection)
        else:
            summary = builders.build_ct_dataset_from_phantoms(output, args.phantoms, heldout, args.slices,
                                                              args.size, args.seed, progress=progress,
                                                              selection_cases=args.selection,
                                                              phantom_version=args.phantom_version)
        summary = staged.final(summary)
    if not args.json and not args.quiet:
        print(f"Data set written to {args.output}: {summary['counts']}")
    return summary


def check_phantom_version(args: argparse.Namespace) -> None:
    """--phantom-version picks the whole-body generator of phantom MIP and CT data sets; nothing else has one."""
    from MedGANSynthLib.phantoms.versions import PHANTOM_VERSIONS, REALISTIC_PHANTOM_VERSIONS, spoken_versions

    if args.phantom_version is None:
        return
    if args.labels or args.kind == "brain":
        raise InputError("--phantom-version applies to phantom mip and ct data sets; drop it for brain data or "
                         "--labels.")
    allowed = PHANTOM_VERSIONS if args.kind == "mip" else REALISTIC_PHANTOM_VERSIONS
    if args.phantom_version not in allowed:
        raise InputError(f"--phantom-version for {args.kind} data sets must be {spoken_versions(allowed)}; "
                         f"got {args.phantom_version}.")
