"""Entry point of ``medgansynth`` and ``python -m MedGANSynthLib``.

Each subcommand lives in its own module, which defines ``register(subparsers)``; the parser it adds sets
``handler`` to a function ``(args) -> dict`` returning a JSON-able summary. Expected input problems raise
:class:`InputError`: printed on one line, exit status 2, no traceback.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import sys
from pathlib import Path

from MedGANSynthLib import __version__
from MedGANSynthLib.errors import Cancelled, InputError
from MedGANSynthLib.io.output_set import committed_outputs, reset_committed  # light: no SimpleITK, no torch
from MedGANSynthLib.training.settings import parse_seed  # light: no torch

# Subcommand modules, in the order ``--help`` lists them. A module missing here is simply not offered.
COMMAND_MODULES = (
    "demo",
    "suv",
    "resample",
    "mip",
    "phantoms",
    "dataset",
    "train",
    "sample",
    "walk",
    "evaluate_gan",
    "train_virtual_pet",
    "train_cyclegan",
    "virtual_pet",
    "evaluate_virtual_pet",
    "models",
)

EXIT_INPUT_ERROR = 2
EXIT_CANCELLED = 130


class _Parser(argparse.ArgumentParser):
    """argparse exits with 2 on bad arguments already; keep its one-line message but drop the usage dump."""

    def error(self, message: str) -> None:  # noqa: D401
        # Subcommand parsers are named "medgansynth <command>"; unknown options reach the top-level one.
        self.exit(EXIT_INPUT_ERROR, f"medgansynth: error: {message} (see '{self.prog} -h')\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="medgansynth",
        description="GAN image synthesis for PET/CT: SUV, MIPs, phantoms, GANs and CT-to-virtual-PET.",
    )
    parser.add_argument("--version", action="version", version=f"MedGANSynthLib {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"MedGANSynthLib.cli.cmd_{name}")
        except ModuleNotFoundError as error:
            if error.name == f"MedGANSynthLib.cli.cmd_{name}":
                continue
            raise
        module.register(subparsers)
    return parser


def add_common_options(parser: argparse.ArgumentParser, writes_output: bool = True) -> None:
    """Options every subcommand accepts; ``--overwrite`` on those that write an output."""
    parser.add_argument("--json", action="store_true", help="print a JSON summary on stdout when done (and nothing "
                        "else on stdout)")
    parser.add_argument("--quiet", action="store_true", help="show no progress bar and do not print the closing "
                        "line that names what was written (errors and warnings still go to stderr)")
    parser.add_argument(
        "--progress-lines",
        action="store_true",
        help="print machine-readable progress lines instead of a progress bar (used by the Slicer module)",
    )
    if writes_output:
        parser.add_argument("--overwrite", action="store_true",
                            help="replace an existing output (the whole folder or file; nothing of the old one stays)")




def seed_value(text: str) -> int:
    """argparse type of a seed: refused at parsing (one line naming the option) unless 0 <= seed <= 2**63 - 1."""
    try:
        return parse_seed(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def positive_mm(text: str) -> float:
    """argparse type of a length in mm: a finite number above 0 (refuses 0, negatives, nan and inf at parsing)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a positive number of millimetres, got {text}")
    return value


def add_training_run_options(parser: argparse.ArgumentParser, settings_flags: bool = False) -> None:
    """The run-keeping options the training commands share (device, seed, checkpoints, resume, threads); with
    ``settings_flags``, only those that are not settings fields (the command builds the others from its settings
    dataclass, cli/settings_flags.py)."""
    if not settings_flags:
        parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps (default auto)")
        parser.add_argument("--seed", type=seed_value, help="random seed (default 0)")
        parser.add_argument("--checkpoint-every", type=int, help="epochs between checkpoints (default 1)")
        parser.add_argument("--checkpoint-steps", type=int, default=0,
                            help="also checkpoint every N steps inside an epoch, so a killed run loses at most N "
                                 "steps (default 0: at epoch ends only); may be given or changed with --resume")
        parser.add_argument("--workers", type=int, default=0, help="data-loading worker processes (default 0)")
    parser.add_argument("--resume", action="store_true", help="continue the run in --output from its checkpoint")
    parser.add_argument("--threads", type=int, help="CPU threads per process (default: torch's choice); 1 is often "
                        "fastest for small models on a busy machine")


def training_run_folder(args: argparse.Namespace, is_main: bool):
    """The output rules of a training run folder (training.run_file.training_run_folder) for these options."""
    from MedGANSynthLib.training.run_file import training_run_folder as run_folder

    return run_folder(args.output, is_main, device=args.device, overwrite=args.overwrite, resume=args.resume)


def apply_training_run_options(args: argparse.Namespace) -> None:
    """Check the shared run options that are used before the settings are read, and set the thread count."""
    if args.overwrite and args.resume:
        raise InputError("--overwrite starts the run afresh and --resume continues it; pass one of them.")
    apply_thread_count(args.threads)
    check_not_negative(("--checkpoint-steps", getattr(args, "checkpoint_steps", None)),
                       ("--workers", getattr(args, "workers", None)))


def _refuse_unless(options: tuple[tuple[str, float | None], ...], lowest: float, inclusive: bool, rule: str) -> None:
    """Refuse the first (option, value) whose value was given and is not above ``lowest`` (or at it, when
    ``inclusive``); NaN is never accepted. ``rule`` completes "OPTION must ..." in the one-line message."""
    for name, value in options:
        if value is not None and not (value >= lowest if inclusive else value > lowest):
            raise InputError(f"{name} must {rule} (got {value}).")


def check_positive(*options: tuple[str, float | None]) -> None:
    """Refuse a given value that is not above 0 (NaN included)."""
    _refuse_unless(options, 0, False, "be positive")


def check_at_least_one(*options: tuple[str, int | None]) -> None:
    """Refuse a given count, size or thread number below 1."""
    _refuse_unless(options, 1, True, "be at least 1")


def check_not_negative(*options: tuple[str, float | None]) -> None:
    """Refuse a given value below 0 (NaN included)."""
    _refuse_unless(options, 0, True, "be 0 or more")


def check_volume_name(path: str, option: str = "-o/--output") -> None:
    """Refuse a volume file name SimpleITK cannot write before any work is done."""
    from MedGANSynthLib.io.volume_io import WRITABLE_SUFFIXES, volume_suffix

    if volume_suffix(path) not in WRITABLE_SUFFIXES:
        raise InputError(f"{option} '{Path(path).name}': choose a .nrrd, .nii.gz, .nii or .mha file name.")


def apply_thread_count(threads: int | None) -> None:
    """--threads: refuse a number below 1, else set torch's intra-op thread count (None leaves torch's default)."""
    if threads is None:
        return
    check_at_least_one(("--threads", threads))
    import torch

    torch.set_num_threads(threads)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_request:  # --help, --version, or a bad argument (already printed on one line)
        return int(exit_request.code or 0)
    if not getattr(args, "handler", None):
        parser.print_help()
        return EXIT_INPUT_ERROR
    reset_committed()
    try:
        summary = args.handler(args)
    except InputError as error:
        print(f"medgansynth {args.command}: error: {error}", file=sys.stderr)
        return EXIT_INPUT_ERROR
    except Cancelled as error:
        print(f"medgansynth {args.command}: cancelled: {error}", file=sys.stderr)
        return EXIT_CANCELLED
    except KeyboardInterrupt as interrupt:  # the output set says what it kept (see MedGANSynthLib.io.output_set)
        kept = str(interrupt) or "nothing was written."
        print(f"medgansynth {args.command}: interrupted; {kept}", file=sys.stderr)
        return EXIT_CANCELLED
    except OSError as error:  # a file-system problem outside the outputs' own checks: one line, not a traceback
        where = f" ('{error.filename}')" if error.filename else ""
        print(f"medgansynth {args.command}: error: {error.strerror or error}{where}.", file=sys.stderr)
        return EXIT_INPUT_ERROR
    if getattr(args, "json", False):
        print(json.dumps(summary or {}, indent=2, default=str))
    writes = hasattr(args, "overwrite")  # the commands that write outputs take --overwrite
    if writes and not getattr(args, "quiet", False) and summary is not None:
        print(f"medgansynth {args.command}: {_written_line(committed_outputs())}", file=sys.stderr)
    return 0


def _written_line(outputs: list[Path]) -> str:
    """One line naming what the command wrote, with file counts and sizes."""
    if not outputs:
        return "done; nothing was written."
    parts = []
    for path in outputs:
        if path.is_file():
            parts.append(f"{path} ({_size(path.stat().st_size)})")
        else:
            files = [p for p in path.rglob("*") if p.is_file()]
            parts.append(f"{path}/ ({len(files)} files, {_size(sum(p.stat().st_size for p in files))})")
    return "wrote " + ", ".join(parts)


def _size(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 100_000 else f"{size / 1e3:.1f} kB"


if __name__ == "__main__":
    sys.exit(main())
