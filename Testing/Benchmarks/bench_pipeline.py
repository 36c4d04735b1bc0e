"""Speed of the preprocessing pipeline, as ratios against a floor measured in the same run.

* MIP of a 600 x 512 x 512 float32 volume on each axis vs a plain memory copy (``arr.copy()``); target <= 1.5.
* Resampling a whole-body PET (168 x 168 x 429 at 4.07 x 4.07 x 2 mm) to 2 mm isotropic, nearest and linear.
* Rotating MIP of 36 angles vs ``scipy.ndimage.rotate(reshape=False, order=1)`` + max over the same angles.

A script, not a test:  .venv/bin/python Testing/Benchmarks/bench_pipeline.py [--json]   (about 1 minute).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from bench_report import print_results
from scipy import ndimage

from MedGANSynthLib.preprocessing.resample import resample_isotropic
from MedGANSynthLib.projection.mip import mip
from MedGANSynthLib.projection.rotating_mip import rotating_mip
from MedGANSynthLib.volume import Volume


def best_seconds(function, repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - started)
    return best


def whole_body_pet(rng: np.random.Generator) -> Volume:
    """168 x 168 x 429 voxels at 4.07 x 4.07 x 2 mm: an elliptic body of SUV ~1 with noise and a few hot spots."""
    k, j, i = np.meshgrid(np.linspace(-1, 1, 429), np.linspace(-1, 1, 168), np.linspace(-1, 1, 168), indexing="ij")
    body = (i / 0.7) ** 2 + (j / 0.45) ** 2 <= 1.0
    array = (body * rng.gamma(4.0, 0.25, size=body.shape)).astype(np.float32)
    for _ in range(6):
        array[tuple(rng.integers(50, 120, size=3) * [3, 1, 1])] = rng.uniform(5, 20)
    return Volume(array, (4.07, 4.07, 2.0), (-340.0, -340.0, -800.0), modality="PT", units="SUV")


def bench_mip(rng: np.random.Generator) -> dict:
    array = rng.random((600, 512, 512), dtype=np.float32)
    volume = Volume(array, (0.98, 0.98, 2.0))
    copy_s = best_seconds(lambda: array.copy())
    results = {"mip_copy_seconds": copy_s}
    for axis in ("axial", "coronal", "sagittal"):
        seconds = best_seconds(lambda axis=axis: mip(volume, axis))
        results[f"mip_{axis}_seconds"] = seconds
        results[f"mip_{axis}_ratio_to_copy"] = seconds / copy_s
    return results


def bench_resample(pet: Volume) -> dict:
    results = {}
    for interpolation in ("nearest", "linear"):
        started = time.perf_counter()
        out = resample_isotropic(pet, 2.0, interpolation)
        seconds = time.perf_counter() - started
        results[f"resample_{interpolation}_seconds"] = seconds
        results[f"resample_{interpolation}_output_voxels_per_second"] = out.array.size / seconds
    results["resample_output_shape_kji"] = list(out.array.shape)
    return results


def bench_rotating_mip(pet: Volume, angles: int = 36) -> dict:
    started = time.perf_counter()
    frames = rotating_mip(pet, angles)
    ours = time.perf_counter() - started
    # Reference: rotate the (P, L) plane of every axial slice, then project along P (array axis 1).
    started = time.perf_counter()
    reference = np.stack(
        [ndimage.rotate(pet.array, angle, axes=(1, 2), reshape=False, order=1).max(axis=1)
         for angle in np.arange(angles) * 360.0 / angles]
    )
    scipy_seconds = time.perf_counter() - started
    return {
        "rotating_mip_seconds": ours,
        "rotating_mip_scipy_seconds": scipy_seconds,
        "rotating_mip_speedup_vs_scipy": scipy_seconds / ours,
        "rotating_mip_angle0_max_abs_difference_vs_scipy": float(np.abs(frames.array[0] - reference[0]).max()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="also print a JSON summary")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    results = bench_mip(rng)
    pet = whole_body_pet(rng)
    results.update(bench_resample(pet))
    results.update(bench_rotating_mip(pet))
    print_results(results, args.json)


if __name__ == "__main__":
    main()
