"""A tiny stand-in for a long CLI command, run by test_job_runner.py as ``python -m job_helper_module``.

It reports progress through the library's own progress lines, writes its output atomically, can start a
grandchild that ignores SIGINT (so only the runner's final kill stops it), and can fail like the CLI does on
bad input (one stderr line, exit status 2).
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import time

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.io.atomic import atomic_output
from MedGANSynthLib.jobs.progress import print_progress_line, report

GRANDCHILD_CODE = "import signal, time; signal.signal(signal.SIGINT, signal.SIG_IGN); time.sleep(120)"


def work(args: argparse.Namespace) -> None:
    if args.input_error:
        raise InputError(args.input_error)
    progress = print_progress_line if args.progress_lines else None
    if args.grandchild:
        grandchild = subprocess.Popen([sys.executable, "-c", GRANDCHILD_CODE])
        print(f"grandchild {grandchild.pid}", flush=True)
    print("starting work", flush=True)
    with atomic_output(args.output) if args.output else _no_output() as temp:
        for step in range(args.steps):
            if temp is not None:
                with open(temp, "a") as handle:
                    handle.write(f"step {step}\n")
            time.sleep(args.sleep)
            report(progress, None, "helper", step + 1, args.steps, loss=1.0 / (step + 1))
    print("done", flush=True)


class _no_output:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--sleep", type=float, default=0.0)
    parser.add_argument("--output", default="")
    parser.add_argument("--grandchild", action="store_true")
    parser.add_argument("--input-error", default="")
    parser.add_argument("--progress-lines", action="store_true")
    args = parser.parse_args()
    try:
        work(args)
    except InputError as error:
        print(f"job_helper_module: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("job_helper_module: interrupted; no partial outputs were kept.", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.default_int_handler)
    raise SystemExit(main())
