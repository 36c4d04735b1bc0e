"""Peak memory of lesion finding (``find_lesion_candidates``) on a whole-body-sized virtual PET.

Python's tracemalloc sees numpy's and scipy's array allocations, so the traced peak during the call, minus what
was allocated before it, is the working set lesion finding adds to the SUV volume it is handed. It is printed as
a ratio to the bytes of that volume (float32, 4 bytes a voxel) and to the floor any labelling needs: the int32
label map it returns (4 bytes a voxel) plus the boolean hot mask it labels (1 byte a voxel).

The synthetic volume is ``--slices`` x 512 x 512 (default 600, the clinical CT the issue measured) at SUV 1 with
40 cubic lesions of SUV 6 and 20,000 one-voxel specks at SUV 3: about 0.1 % of the voxels are hot, as in a body.

A script, not a test:  .venv/bin/python Testing/Benchmarks/bench_lesion_memory.py [--slices 600] [--json]
"""

from __future__ import annotations

import argparse
import json
import time
import tracemalloc

import numpy as np

from MedGANSynthLib.virtual_pet.lesions import find_lesion_candidates
from MedGANSynthLib.volume import Volume


def synthetic_suv(slices: int, seed: int = 0) -> Volume:
    rng = np.random.default_rng(seed)
    suv = np.ones((slices, 512, 512), np.float32)
    for _ in range(40):
        k, j, i = rng.integers(0, slices - 8), rng.integers(0, 500), rng.integers(0, 500)
        suv[k:k + 8, j:j + 12, i:i + 12] = 6.0
    specks = rng.integers(0, suv.size, 20_000)
    suv.reshape(-1)[specks] = 3.0
    return Volume(suv, spacing=(0.98, 0.98, 2.0), modality="PT", units="SUV")


def measure(volume: Volume, min_volume_ml: float) -> dict:
    tracemalloc.start()
    before, _ = tracemalloc.get_traced_memory()
    started = time.perf_counter()
    labels, candidates = find_lesion_candidates(volume, min_volume_ml=min_volume_ml)
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    voxels = volume.array.size
    added = peak - before
    return {
        "voxels": voxels,
        "candidates": len(candidates),
        "seconds": round(seconds, 2),
        "peak_added_mb": round(added / 2**20, 1),
        "peak_added_per_input_bytes": round(added / volume.array.nbytes, 3),
        "peak_added_per_floor": round(added / (5 * voxels), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slices", type=int, default=600)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    volume = synthetic_suv(args.slices)
    results = {f"min_volume_{ml}ml": measure(volume, ml) for ml in (0.0, 0.5)}
    if args.json:
        print(json.dumps(results, indent=2))
        return
    for name, numbers in results.items():
        for key, value in numbers.items():
            print(f"{name}.{key}: {value}")


if __name__ == "__main__":
    main()
