"""Peak memory and time of the whole ``medgansynth virtual-pet`` command, as a user runs it.

``bench_virtual_pet.py`` measures the networks and ``predict_virtual_pet`` alone; what a user meets is the command:
reading the CT file, inference, blending, lesion finding, and writing every output and picture. This script
writes a synthetic ``--slices`` x 512 x 512 int16 CT (the same phantom-like body as ``bench_virtual_pet.py``) to
an NRRD file, runs the command on it in a child process with the bundled model, and prints the child's own peak RSS
(``peak_rss.run_with_peak_rss``: before session 25 this was ``RUSAGE_CHILDREN``, which also held this script's
peak), its wall time, and the peak as a ratio to the 4 GB target and to the bytes of the CT plus the float32
virtual PET the command must hold.

A script, not a test:  .venv/bin/python Testing/Benchmarks/bench_virtual_pet_command.py [--slices 600] [--json]
(600 slices: several minutes on 2 quiet cores).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_virtual_pet import synthetic_ct  # noqa: E402
from peak_rss import own_peak_rss_bytes, run_with_peak_rss  # noqa: E402

from MedGANSynthLib.io.volume_io import write_volume  # noqa: E402

TARGET_PEAK_BYTES = 4 * 2**30


def run_command(slices: int, extra: list[str]) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-vpet-") as folder:
        ct_path = write_volume(synthetic_ct(slices), Path(folder) / "ct.nrrd")
        command = [sys.executable, "-m", "MedGANSynthLib", "virtual-pet", str(ct_path), "-o",
                   str(Path(folder) / "out"), "--json", *extra]
        run = run_with_peak_rss(command)
        if run.returncode != 0:
            raise SystemExit(f"virtual-pet failed ({run.returncode}): {run.stderr.strip()[-500:]}")
    peak = run.peak_rss_bytes
    must_hold = slices * 512 * 512 * (2 + 4)
    return {
        "slices": slices,
        "command_seconds": round(run.wall_seconds, 1),
        # CPU time of the command (user + system, all its threads): on a shared machine the wall time mostly
        # measures the other jobs; with --threads 1 the CPU time is about the wall time on a quiet core.
        "command_cpu_seconds": round(run.cpu_seconds, 1),
        "load_average_1min": os.getloadavg()[0],
        "peak_rss_mb": round(peak / 2**20),
        "peak_over_4gb_target": round(peak / TARGET_PEAK_BYTES, 3),
        "peak_over_ct_plus_output": round(peak / must_hold, 2),
        # What a plain child's ru_maxrss could not go below (the old measure): this script's peak, CT included.
        "benchmark_script_peak_rss_mb": round(own_peak_rss_bytes() / 2**20),
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
