"""Peak memory and time of the whole ``medgansynth virtual-pet`` command, as a user runs it.

``bench_virtual_pet.py`` measures the networks and ``predict_virtual_pet`` alone; what a user meets is the command:
reading the CT file, inference, blending, lesion finding, and writing every output and picture. This script
writes a synthetic ``--slices`` x 512 x 512 int16 CT (the same phantom-like body as ``bench_virtual_pet.py``) to
an NRRD file, runs the command on it in a child process with the bundled model, and prints the child's peak RSS
(Linux ``ru_maxrss``), its wall time, and the peak as a ratio to the 4 GB target and to the bytes of the CT plus
the float32 virtual PET the command must hold.

A script, not a test:  .venv/bin/python Testing/Benchmarks/bench_virtual_pet_command.py [--slices 600] [--json]
(600 slices: several minutes on 2 quiet cores).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_virtual_pet import synthetic_ct  # noqa: E402

from MedGANSynthLib.io.volume_io import write_volume  # noqa: E402

TARGET_PEAK_BYTES = 4 * 2**30


def run_command(slices: int, extra: list[str]) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-vpet-") as folder:
        ct_path = write_volume(synthetic_ct(slices), Path(folder) / "ct.nrrd")
        command = [sys.executable, "-m", "MedGANSynthLib", "virtual-pet", str(ct_path), "-o",
                   str(Path(folder) / "out"), "--json", *extra]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu_before = before.ru_utime + before.ru_stime
        started = time.perf_counter()
        completed = subprocess.run(command, capture_output=True, text=True)
        seconds = time.perf_counter() - started
        if completed.returncode != 0:
            raise SystemExit(f"virtual-pet failed ({completed.returncode}): {completed.stderr.strip()[-500:]}")
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak = children.ru_maxrss * 1024  # Linux reports kilobytes
    must_hold = slices * 512 * 512 * (2 + 4)
    return {
        "slices": slices,
        "command_seconds": round(seconds, 1),
        # CPU time of the command (user + system, all its threads): on a shared machine the wall time mostly
        # measures the other jobs; with --threads 1 the CPU time is about the wall time on a quiet core.
        "command_cpu_seconds": round(children.ru_utime + children.ru_stime - cpu_before, 1),
        "load_average_1min": os.getloadavg()[0],
        "peak_rss_mb": round(peak / 2**20),
        "peak_over_4gb_target": round(peak / TARGET_PEAK_BYTES, 3),
        "peak_over_ct_plus_output": round(peak / must_hold, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slices", type=int, default=600)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("command_options", nargs="*", help="extra virtual-pet options, after --")
    args = parser.parse_args()
    result = run_command(args.slices, args.command_options)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            print(f"{key}: {value}")


if __name__ == "__main__":
    main()
