"""Entry point of ``medgansynth`` and ``python -m MedGANSynthLib``.

Each subcommand lives in its own module, which defines ``register(subparsers)``; the parser it adds sets
``handler`` to a function ``(args) -> dict`` returning a JSON-able summary. Expected input problems raise
:class:`InputError`: printed on one line, exit status 2, no traceback.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys

from MedGANSynthLib import __version__
from MedGANSynthLib.errors import Cancelled, InputError

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


def add_common_options(parser: argparse.ArgumentParser) -> None:
    """Options every long-running subcommand accepts."""
    parser.add_argument("--json", action="store_true", help="print a JSON summary on stdout when done")
    parser.add_argument(
        "--progress-lines",
        action="store_true",
        help="print machine-readable progress lines instead of a progress bar (used by the Slicer module)",
    )


def add_training_run_options(parser: argparse.ArgumentParser) -> None:
    """The run-keeping options both training commands share (device, seed, checkpoints, resume, threads)."""
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps (default auto)")
    parser.add_argument("--seed", type=int, help="random seed (default 0)")
    parser.add_argument("--checkpoint-every", type=int, help="epochs between checkpoints (default 1)")
    parser.add_argument("--checkpoint-steps", type=int, default=0,
                        help="also checkpoint every N steps inside an epoch, so a killed run loses at most N steps "
                             "(default 0: at epoch ends only); may be given or changed with --resume")
    parser.add_argument("--resume", action="store_true", help="continue the run in --output from its checkpoint")
    parser.add_argument("--threads", type=int, help="CPU threads per process (default: torch's choice); 1 is often "
                        "fastest for small models on a busy machine")
    parser.add_argument("--workers", type=int, default=0, help="data-loading worker processes (default 0)")


def apply_training_run_options(args: argparse.Namespace) -> None:
    """Check the shared run options that are used before the settings are read, and set the thread count."""
    apply_thread_count(args.threads)
    check_not_negative(("--checkpoint-steps", args.checkpoint_steps), ("--workers", args.workers))


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
    try:
        summary = args.handler(args)
    except InputError as error:
        print(f"medgansynth {args.command}: error: {error}", file=sys.stderr)
        return EXIT_INPUT_ERROR
    except Cancelled as error:
        print(f"medgansynth {args.command}: cancelled: {error}", file=sys.stderr)
        return EXIT_CANCELLED
    except KeyboardInterrupt:
        print(f"medgansynth {args.command}: interrupted; no partial outputs were kept.", file=sys.stderr)
        return EXIT_CANCELLED
    if getattr(args, "json", False):
        print(json.dumps(summary or {}, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
