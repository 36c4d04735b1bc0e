"""Seconds per training step of the CycleGAN for a few CPU-sized configurations, as ratios to the prepared recipe.

One step is exactly what ``train-cyclegan`` runs (``CycleGANTask.train_step``: both generators updated on the
adversarial, cycle and identity losses, then both discriminators on real images against pooled generated ones).
Images are random in [-1, 1]; speed does not depend on their content. Networks: ResNet generator with resize
up-sampling and the 70x70 PatchGAN (3 strided layers), as Testing/Training/train_cyclegan.sh trains them.

Reported per configuration: seconds per step (best of ``--repeats`` after a warm-up), seconds per image (step / batch:
an epoch costs images x this) and both as a ratio to the ``recipe_v0`` row measured in the same run, which is the
recipe the script was prepared with (128 px, 5 channels, width 0.25, 6 blocks, batch 4). One thread by default, as
the training script runs.

    .venv/bin/python Testing/Benchmarks/bench_cyclegan_step.py [--threads 1] [--repeats 3] [--only a,b] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from conv_throughput import best_seconds  # noqa: E402

from MedGANSynthLib.cyclegan.networks import CycleGANNetworkSettings, build_cyclegan  # noqa: E402
from MedGANSynthLib.cyclegan.task import CycleGANTask  # noqa: E402
from MedGANSynthLib.training.engine import StepContext  # noqa: E402

# name: (image size, context slices per side, width, residual blocks, batch)
CASES = {
    "recipe_v0": (128, 2, 0.25, 6, 4),
    "128px_c2_w025_b3_batch4": (128, 2, 0.25, 3, 4),
    "128px_c2_w025_b6_batch1": (128, 2, 0.25, 6, 1),
    "64px_c2_w025_b6_batch4": (64, 2, 0.25, 6, 4),
    "64px_c2_w025_b3_batch4": (64, 2, 0.25, 3, 4),
    "64px_c2_w025_b6_batch1": (64, 2, 0.25, 6, 1),
    "64px_c1_w025_b6_batch4": (64, 1, 0.25, 6, 4),
    "64px_c1_w025_b3_batch4": (64, 1, 0.25, 3, 4),
    "64px_c1_w025_b6_batch1": (64, 1, 0.25, 6, 1),
    "64px_c1_w025_b3_batch1": (64, 1, 0.25, 3, 1),
}


def make_step(size: int, context: int, width: float, blocks: int, batch: int, seed: int = 0):
    """A zero-argument function running one engine step of a fresh CycleGAN on a fixed random batch."""
    torch.manual_seed(seed)
    channels = 2 * context + 1
    settings = CycleGANNetworkSettings(channels=channels, residual_blocks=blocks, width=width, upsampling="resize")
    networks = build_cyclegan(settings)
    for network in networks.values():
        network.train()
    task = CycleGANTask(networks, 1, 1)
    optimizers = task.optimizers()
    scalers = {name: torch.amp.GradScaler("cpu", enabled=False) for name in optimizers}
    noise = torch.Generator().manual_seed(seed)
    context_ = StepContext(torch.device("cpu"), task.modules(), optimizers, scalers, noise, amp_dtype=None)
    data = {key: torch.rand((batch, channels, size, size), generator=noise) * 2.0 - 1.0 for key in ("a", "b")}

    def step() -> None:
        task.train_step(data, context_)

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1, as the recipe)")
    parser.add_argument("--repeats", type=int, default=3, help="timed steps per case; the fastest counts")
    parser.add_argument("--only", default=None, help="comma-separated case names (recipe_v0 is always timed)")
    parser.add_argument("--json", action="store_true", help="also print a JSON summary")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    names = ["recipe_v0"] + [n for n in CASES if n != "recipe_v0" and (not args.only or n in args.only.split(","))]
    results = {}
    for name in names:
        size, context, width, blocks, batch = CASES[name]
        seconds = best_seconds(make_step(size, context, width, blocks, batch), repeats=args.repeats, warmup=1)
        results[name] = {"image_size": size, "channels": 2 * context + 1, "width": width, "residual_blocks": blocks,
                         "batch": batch, "seconds_per_step": seconds, "seconds_per_image": seconds / batch}
        base = results["recipe_v0"]
        results[name]["step_ratio"] = seconds / base["seconds_per_step"]
        results[name]["image_ratio"] = results[name]["seconds_per_image"] / base["seconds_per_image"]
        row = results[name]
        print(f"{name}: {row['seconds_per_step']:.3f} s/step, {row['seconds_per_image']:.3f} s/image, "
              f"step ratio {row['step_ratio']:.3f}, image ratio {row['image_ratio']:.3f}", flush=True)
    if args.json:
        print(json.dumps({"threads": args.threads, "results": results}, indent=1))


if __name__ == "__main__":
    main()
