"""Time to generate one whole-body phantom case (CT 256 x 256 x 333 at 1.95 x 1.95 x 3 mm, PET 4 mm) on one core.

Target (issue 28): a version-2 to -9 case in <= 10 s on one core, so ``v2_ratio_to_target``
... ``v9_ratio_to_target`` <= 1. Version 1 is timed in the same run as the reference, version 2 with
``--pet-noise counts`` beside its default noise, version 3 beside version 2, version 4 beside version 3, version 5
(the default) beside version 4, version 6 (version 5's code with another noise band) beside 5 and version 7 (6 with
the lymph nodes moved into fat: this lymphoma case's distance maps) beside 6 and version 8 (7 with the perineum and
axillary fat pads) beside 7 and version 9 (8 with the external genitalia) beside 8, on this woman and on a man
(seed 9: scrotum, testes and penis); the
load average says how busy the machine was (ratios are only comparable on a quiet machine). Thread pools are
pinned to one thread before numpy is imported.

A script, not a test:  .venv/bin/python Testing/Benchmarks/bench_phantoms.py [--repeats 3] [--json]
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"

import argparse  # noqa: E402

from bench_report import print_results  # noqa: E402
from conv_throughput import best_seconds  # noqa: E402

from MedGANSynthLib.phantoms.wholebody import WholeBodyConfig, make_wholebody_case  # noqa: E402

TARGET_SECONDS = 10.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    config = WholeBodyConfig()
    make_wholebody_case(0, "normal", config.with_voxel_mm(8.0), version=2)  # warm-up: imports, caches
    results = {"load_average_1min": round(os.getloadavg()[0], 2)}
    results["v1_seconds"] = best_seconds(lambda: make_wholebody_case(1, "lymphoma", config, version=1), args.repeats,
                                         warmup=0)
    results["v2_seconds"] = best_seconds(lambda: make_wholebody_case(1, "lymphoma", config, version=2), args.repeats, warmup=0)
    results["v2_portal_venous_seconds"] = best_seconds(
        lambda: make_wholebody_case(1, "lymphoma", config, version=2, contrast="portal-venous"), args.repeats, warmup=0)
    results["v2_counts_noise_seconds"] = best_seconds(
        lambda: make_wholebody_case(1, "lymphoma", config, version=2, pet_noise="counts"), args.repeats, warmup=0)
    results["v3_seconds"] = best_seconds(lambda: make_wholebody_case(1, "lymphoma", config, version=3), args.repeats,
                                         warmup=0)
    results["v3_portal_venous_seconds"] = best_seconds(
        lambda: make_wholebody_case(1, "lymphoma", config, version=3, contrast="portal-venous"), args.repeats, warmup=0)
    results["v4_seconds"] = best_seconds(lambda: make_wholebody_case(1, "lymphoma", config, version=4), args.repeats,
                                         warmup=0)
    results["v4_portal_venous_seconds"] = best_seconds(
        lambda: make_wholebody_case(1, "lymphoma", config, version=4, contrast="portal-venous"), args.repeats, warmup=0)
    results["v5_seconds"] = best_seconds(lambda: make_wholebody_case(1, "lymphoma", config, version=5), args.repeats,
                                         warmup=0)
    results["v5_portal_venous_seconds"] = best_seconds(
        lambda: make_wholebody_case(1, "lymphoma", config, version=5, contrast="portal-venous"), args.repeats, warmup=0)
    results["v6_seconds"] = best_seconds(lambda: make_wholebody_case(1, "lymphoma", config, version=6), args.repeats,
                                         warmup=0)
    results["v7_seconds"] = best_seconds(lambda: make_wholebody_case(1, "lymphoma", config, version=7), args.repeats,
                                         warmup=0)
    results["v8_seconds"] = best_seconds(lambda: make_wholebody_case(1, "lymphoma", config, version=8), args.repeats,
                                         warmup=0)
    results["v9_seconds"] = best_seconds(lambda: make_wholebody_case(1, "lymphoma", config, version=9), args.repeats,
                                         warmup=0)
    results["v8_man_seconds"] = best_seconds(lambda: make_wholebody_case(9, "lymphoma", config, version=8),
                                             args.repeats, warmup=0)
    results["v9_man_seconds"] = best_seconds(lambda: make_wholebody_case(9, "lymphoma", config, version=9),
                                             args.repeats, warmup=0)
    results["v2_ratio_to_target"] = results["v2_seconds"] / TARGET_SECONDS
    results["v3_ratio_to_target"] = results["v3_seconds"] / TARGET_SECONDS
    results["v4_ratio_to_target"] = results["v4_seconds"] / TARGET_SECONDS
    results["v5_ratio_to_target"] = results["v5_seconds"] / TARGET_SECONDS
    results["v6_ratio_to_target"] = results["v6_seconds"] / TARGET_SECONDS
    results["v7_ratio_to_target"] = results["v7_seconds"] / TARGET_SECONDS
    results["v8_ratio_to_target"] = results["v8_seconds"] / TARGET_SECONDS
    results["v9_ratio_to_target"] = max(results["v9_seconds"], results["v9_man_seconds"]) / TARGET_SECONDS
    results["v3_over_v2"] = results["v3_seconds"] / results["v2_seconds"]
    results["v4_over_v3"] = results["v4_seconds"] / results["v3_seconds"]
    results["v5_over_v4"] = results["v5_seconds"] / results["v4_seconds"]
    results["v6_over_v5"] = results["v6_seconds"] / results["v5_seconds"]
    results["v7_over_v6"] = results["v7_seconds"] / results["v6_seconds"]
    results["v8_over_v7"] = results["v8_seconds"] / results["v7_seconds"]
    results["v9_over_v8"] = results["v9_seconds"] / results["v8_seconds"]
    results["v9_over_v8_man"] = results["v9_man_seconds"] / results["v8_man_seconds"]
    results["counts_over_scaled_noise"] = results["v2_counts_noise_seconds"] / results["v2_seconds"]
    results["v2_over_v1"] = results["v2_seconds"] / results["v1_seconds"]
    results["load_average_1min_after"] = round(os.getloadavg()[0], 2)
    print_results(results, args.json)


if __name__ == "__main__":
    main()
