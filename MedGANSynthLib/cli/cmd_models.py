"""``medgansynth models``: the bundled models of the catalogue, with what they were trained on."""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    from MedGANSynthLib.cli.main import add_common_options

    parser = subparsers.add_parser("models", help="list the bundled models (ids to pass to sample, walk, virtual-pet)")
    parser.add_argument("--task", choices=("gan", "virtual_pet"), default=None)
    add_common_options(parser, writes_output=False)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> dict:
    from MedGANSynthLib.weights.catalogue import load_catalogue, models_folder

    entries = [entry for entry in load_catalogue() if args.task in (None, entry.task)]
    if not args.json:
        if not entries:
            print(f"No bundled models in {models_folder()}: reinstall MedGANSynthLib (a wheel carries them), or set "
                  "MEDGANSYNTH_MODELS to a folder with catalogue.json.")
        for entry in entries:
            classes = f" [{', '.join(entry.classes)}]" if entry.classes else ""
            print(f"{entry.id:28s} {entry.task:12s} {entry.title}{classes}")
    return {"folder": str(models_folder()),
            "models": [{"id": e.id, "task": e.task, "architecture": e.architecture, "file": e.file,
                        "title": e.title, "classes": list(e.classes)} for e in entries]}
