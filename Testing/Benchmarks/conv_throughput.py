"""The machine's measured convolution throughput: the floor every network benchmark reports a fraction of.

A large, well-shaped 3x3 convolution (forward + backward, float32) is about the best case for the CPU's conv
kernels; a network's achieved GFLOP/s divided by this number says how much of the machine it uses.

    python Testing/Benchmarks/conv_throughput.py [--json]
"""

from __future__ import annotations

import argparse
import json
import time

import torch
from torch.utils.flop_counter import FlopCounterMode


def count_flops(function) -> int:
    """FLOPs (multiply and add counted separately) of one call, as torch's flop counter sees it."""
    with FlopCounterMode(display=False) as counter:
        function()
    return counter.get_total_flops()


def best_seconds(function, repeats: int = 5, warmup: int = 2) -> float:
    for _ in range(warmup):
        function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def measure_conv_gflops(train: bool = True, channels: int = 128, size: int = 64, batch: int = 32) -> float:
    """GFLOP/s of a channels->channels 3x3 conv on (batch, channels, size, size), forward (+ backward)."""
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(channels, channels, 3, padding=1)
    inputs = torch.randn(batch, channels, size, size, requires_grad=train)

    def step() -> None:
        output = conv(inputs)
        if train:
            output.sum().backward()

    if not train:
        with torch.no_grad():
            flops = count_flops(step)
            seconds = best_seconds(step)
    else:
        flops = count_flops(step)
        seconds = best_seconds(step)
    return flops / seconds / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = {
        "threads": torch.get_num_threads(),
        "conv3x3_train_gflops": round(measure_conv_gflops(train=True), 2),
        "conv3x3_inference_gflops": round(measure_conv_gflops(train=False), 2),
    }
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key}: {value}")


if __name__ == "__main__":
    main()
