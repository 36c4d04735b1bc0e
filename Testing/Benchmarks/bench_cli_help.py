"""How long ``medgansynth --help`` (and every subcommand's ``--help``) takes, against a bare ``import torch``.

Each figure is the wall time of a fresh Python process (interpreter start-up included, as a user sees it), the
median of ``--repeats`` runs. Target of issue 26: help and argument errors cost well under half of
``import torch``, because they never import it.

A script, not a test:  .venv/bin/python Testing/Benchmarks/bench_cli_help.py [--repeats 5] [--json]
(about half a minute on a quiet 2-core machine).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SUBCOMMANDS = ("demo", "suv", "resample", "mip", "phantoms", "dataset", "train", "sample", "walk", "evaluate-gan",
               "train-virtual-pet", "virtual-pet", "evaluate-virtual-pet", "models")


def wall_seconds(code: str, repeats: int) -> float:
    """Median wall time of ``python -c code`` in a fresh process."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=False, env=env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    cli = "import sys; from MedGANSynthLib.cli.main import main; sys.exit(main({argv!r}))"
    results = {
        "python_only": wall_seconds("pass", args.repeats),
        "import_torch": wall_seconds("import torch", args.repeats),
        "help": wall_seconds(cli.format(argv=["--help"]), args.repeats),
        "help_slowest_subcommand": max(wall_seconds(cli.format(argv=[name, "--help"]), max(1, args.repeats // 2))
                                       for name in SUBCOMMANDS),
        "argument_error": wall_seconds(cli.format(argv=["suv", "--weight-kg", "heavy"]), args.repeats),
    }
    results["help_over_import_torch"] = results["help"] / results["import_torch"]
    results["slowest_subcommand_help_over_import_torch"] = (results["help_slowest_subcommand"]
                                                            / results["import_torch"])
    if args.json:
        print(json.dumps(results, indent=2))
        return
    for name, value in results.items():
        print(f"{name:45s} {value:7.3f}{'' if '_over_' in name else ' s'}")


if __name__ == "__main__":
    main()
