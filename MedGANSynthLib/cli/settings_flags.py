"""Command-line flags built from a training settings dataclass (MedGANSynthLib.training.settings): one flag per
field, named after it, with its help; plus ``--recipe NAME`` (named settings of a bundled model) and
``--set KEY=VALUE`` (any field, typed by the field). Explicit flags override --set, which overrides the recipe.

A flag left out is absent from the parsed arguments (argparse.SUPPRESS), so the field keeps the dataclass's default:
the default is written once, in the dataclass.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import fields
from typing import Any

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.training.settings import (
    TrainingSettings,
    settings_argv,
    settings_from_assignments,
    value_from_text,
    value_type,
)


def add_settings_flags(parser: argparse.ArgumentParser, cls: type[TrainingSettings],
                       recipes: Mapping[str, Mapping[str, Any]] | None = None) -> None:
    """Add a flag for every field of ``cls`` and, with ``recipes``, --recipe and --set."""
    for field in fields(cls):
        meta = field.metadata
        if "help" not in meta:
            continue
        names = meta["flags"] or ("--" + field.name.replace("_", "-"),)
        options: dict[str, Any] = {"dest": field.name, "help": meta["help"], "default": argparse.SUPPRESS}
        if meta.get("required"):
            options["required"] = True
        if value_type(cls, field) is bool and not meta.get("parse"):
            options["action"] = "store_true"
        else:
            options.update(type=_argument_type(cls, field.name), metavar=meta.get("metavar"))
            if meta.get("choices"):
                options["choices"] = meta["choices"]
        parser.add_argument(*names, **options)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="set any setting by its name (e.g. --set lr_d=1e-4), typed like its flag; may be "
                             "repeated")
    if recipes:
        parser.add_argument("--recipe", choices=tuple(recipes), metavar="NAME",
                            help="start from the named settings of a bundled model (listed below); flags given "
                                 "beside it override them")
        parser.epilog = "recipes (--recipe NAME; the flags each one sets beyond the defaults):\n" + "\n".join(
            f"  {name}: {' '.join(settings_argv(cls(**values)))}" for name, values in recipes.items())
        parser.formatter_class = argparse.RawDescriptionHelpFormatter


def settings_from_args(cls: type[TrainingSettings], args: argparse.Namespace,
                       recipes: Mapping[str, Mapping[str, Any]] | None = None) -> TrainingSettings:
    """The settings of the parsed command line: the recipe, then --set, then the flags given."""
    values: dict[str, Any] = {}
    if getattr(args, "recipe", None):
        values.update(recipes[args.recipe])
    values.update(settings_from_assignments(cls, getattr(args, "set", [])))
    values.update({field.name: getattr(args, field.name) for field in fields(cls) if hasattr(args, field.name)})
    return cls(**values)


def _argument_type(cls: type[TrainingSettings], name: str):
    """argparse type of a field: the field's own text reading, its error on argparse's one line."""

    def convert(text: str) -> Any:
        try:
            return value_from_text(cls, name, text)
        except (ValueError, InputError) as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    convert.__name__ = name
    return convert
