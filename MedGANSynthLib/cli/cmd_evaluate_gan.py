"""``medgansynth evaluate-gan``: per-class quality, diversity and memorisation of GANs against held-out images."""

from __future__ import annotations

import argparse

from MedGANSynthLib.errors import InputError


def register(subparsers) -> None:
    from MedGANSynthLib.cli.main import add_common_options, seed_value

    parser = subparsers.add_parser(
        "evaluate-gan", help="evaluate GANs: class accuracy, Fréchet distance, precision/recall, memorisation, TSTR",
        description="Samples each model, compares with the real train/ and heldout/ images of a data set made by "
        "'medgansynth dataset', and writes results.json, report.md and report.html with pictures.")
    parser.add_argument("models", nargs="+", help="one conditional model, or one unconditional model per class "
                        "(e.g. the three brain-PET stage models); bundled ids or .safetensors files")
    parser.add_argument("--data", required=True, help="data set root with train/ and heldout/")
    parser.add_argument("-o", "--output", required=True, help="report folder")
    parser.add_argument("--count", type=int, default=200, help="generated images per class (default %(default)s)")
    parser.add_argument("--seed", type=seed_value, default=0)
    parser.add_argument("--epochs", type=int, default=10, help="epochs of the judge classifiers")
    parser.add_argument("--judges", type=int, default=1,
                        help="judge classifiers trained from different seeds; class accuracy is their mean "
                             "(default %(default)s; one judge alone moves a class by about 0.1 between seeds)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--no-tstr", action="store_true",
                        help="skip train-on-synthetic-test-on-real (it trains three more classifiers)")
    parser.add_argument("--against", choices=("heldout", "selection"), default="heldout",
                        help="real images to compare with: DATA/heldout (default; the figures a card reports) or "
                             "DATA/selection ('dataset --selection'), for choosing between models without biasing "
                             "the held-out figures (it also draws other samples and trains another judge than the "
                             "held-out run with the same --seed)")
    parser.add_argument("--write-card", action="store_true",
                        help="store the results in each model's card (metrics.heldout_evaluation)")
    add_common_options(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> dict:
    from MedGANSynthLib.cli.progress_display import progress_display
    from MedGANSynthLib.gan.evaluation_run import evaluate_models
    from MedGANSynthLib.io.output_set import staged_output

    if not 4 <= args.count <= 5000:
        raise InputError(f"--count must be between 4 and 5000, got {args.count}.")
    if not 1 <= args.judges <= 20:
        raise InputError(f"--judges must be between 1 and 20, got {args.judges}.")
    with staged_output(args.output, args.overwrite) as staged, progress_display(args.progress_lines, args.quiet) as progress:
        summary = evaluate_models(args.models, args.data, staged.paths[0], args.count, args.seed, args.epochs,
                                  args.device, args.write_card, run_tstr=not args.no_tstr,
                                  progress=progress, against=args.against, judges=args.judges)
        summary = staged.final(summary)
    if not args.json and not args.quiet:
        overall = summary["results"].get("overall") or {}
        numbers = ", ".join(f"{k}={v}" for k, v in overall.items() if isinstance(v, (int, float)))
        print(f"Report written to {args.output}" + (f" (overall: {numbers})" if numbers else ""))
        for line in artefact_lines(summary["results"]):
            print(line)
    return summary


def artefact_lines(results: dict) -> list[str]:
    """Grid texture and specks outside the body, generated vs held-out real, of the pooled classes (or the one)."""
    section = results.get("overall") or next(iter(results["per_class"].values()))
    lines = []
    texture = section.get("grid_texture")
    if texture:
        lines.append(f"Grid texture: generated {texture['generated']:.2f}, held-out real {texture['floor_heldout']:.2f} "
                     f"(ratio {texture['ratio']:.2f}; about 1 = no more grid texture than real images)")
    specks = section.get("specks_outside_body")
    if specks:
        generated, real = specks["generated"], specks["floor_heldout"]
        lines.append(f"Specks outside the body: {generated['images_with_specks']:.0%} of generated images, "
                     f"{generated['specks_per_image']:.2f} per image (held-out real: {real['images_with_specks']:.0%}, "
                     f"{real['specks_per_image']:.2f})")
    return lines
