"""CPU speed and memory of virtual-PET inference, as ratios against floors measured in the same run.

* Networks (FCN-4s + pix2pix U-Net, forward only, one slab): slices/s, FLOPs per slice (torch's FlopCounterMode),
  GFLOP/s and that divided by ``measure_conv_gflops(train=False)`` measured in the same process; target >= 0.6.
  The floor is measured before and after every network measurement and the best kept: on a shared machine the
  load varies, and one floor taken while another job ran made fractions above 1.
  Measured on what ``predict_virtual_pet`` runs: the ``inference_copy`` of each network on a channels_last slab
  (``networks_*``, ``fcn_*``, ``unet_*``); ``plain_networks_*`` is the trained modules as they are, for comparison.
  The copies execute the same FLOPs as the plain networks (sub-pixel convolutions do the resize-convolutions' work).
  End-to-end ``predict_virtual_pet`` slices/s on a small synthetic CT (windowing, both networks, blending, copies).
  At 128 x 128 (the bundled model's training size) and 512 x 512 (a clinical CT slice at native pixels).
* Blending: ``laplacian_blend`` vs the same Laplacian blend written with OpenCV's ``cv2.pyrDown`` / ``cv2.pyrUp``
  (same levels), seconds per 512 x 512 slice and their ratio; ``ours`` is the CPU path (OpenCV's kernels when cv2
  is importable), ``ours_torch_ops`` the torch ops alone (the CUDA path; the CPU's without OpenCV).
* Memory: peak RSS of a child process running a whole-volume ``predict_virtual_pet`` on a synthetic
  ``--slices`` x 512 x 512 int16 CT (default 600), next to the bytes of the CT plus the float32 output it must hold.
  The child's own peak (``peak_rss``); before session 25 ``RUSAGE_CHILDREN``, which also held this script's peak.

Networks: the bundled ``Resources/Models/virtual_pet_phantom.safetensors`` when it exists (or ``--model``), with
its card's blending and slice smoothing, else the CPU-sized architecture with random weights
(``VirtualPETNetworkSettings`` defaults: FCN-4s width 0.125, U-Net width 0.25 depth 7, 3 CT slices as channels) and
the paper's post-processing; speed and memory do not depend on the weight values. End to end and memory run at the
CT's native pixels (no resampling to the model's working pixel size): the heaviest case.

A script, not a test:  .venv/bin/python Testing/Benchmarks/bench_virtual_pet.py [--json] [--slices 600]
(speed and blending take 1-2 minutes; the 600-slice memory run 2-3 minutes on 2 quiet cores, ~15 on a busy one).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_report import print_results  # noqa: E402
from conv_throughput import best_seconds, count_flops, measure_conv_gflops  # noqa: E402
from peak_rss import own_peak_rss_bytes, run_with_peak_rss  # noqa: E402

from MedGANSynthLib.virtual_pet import blending  # noqa: E402
from MedGANSynthLib.virtual_pet.blending import DEFAULT_LEVELS, laplacian_blend, usable_levels  # noqa: E402
from MedGANSynthLib.virtual_pet.inference import (  # noqa: E402
    POSTPROCESSING_KEYS,
    SLAB_PIXEL_BUDGET,
    VirtualPETConfig,
    predict_virtual_pet,
)
from MedGANSynthLib.virtual_pet.inference_networks import inference_copy  # noqa: E402
from MedGANSynthLib.virtual_pet.training_task import VirtualPETNetworkSettings, build_networks  # noqa: E402
from MedGANSynthLib.volume import Volume  # noqa: E402

BUNDLED_MODEL = Path(__file__).resolve().parents[2] / "Resources" / "Models" / "virtual_pet_phantom.safetensors"
SLAB = SLAB_PIXEL_BUDGET // (128 * 128)
"""Slices per batch at 128² (the inference default picks its slab from this pixel budget)."""


def load_networks(model: str | None) -> tuple[torch.nn.Module, torch.nn.Module, str, dict]:
    """(fcn, gan, description, post-processing): the given or bundled model when present, with its card's blending
    and slice smoothing (what ``medgansynth virtual-pet`` applies), else the CPU-sized random networks and the paper's."""
    path = Path(model) if model else BUNDLED_MODEL
    if path.is_file():
        from MedGANSynthLib.virtual_pet.weights import load_virtual_pet

        loaded = load_virtual_pet(path, device="cpu")
        config = loaded.inference_config()
        return loaded.fcn, loaded.gan, str(path), {key: getattr(config, key) for key in POSTPROCESSING_KEYS}
    torch.manual_seed(0)
    fcn, gan, _ = build_networks(VirtualPETNetworkSettings())
    return fcn.eval(), gan.eval(), "random weights, VirtualPETNetworkSettings() defaults", {}


def synthetic_ct(slices: int, size: int = 512, seed: int = 0) -> Volume:
    """An int16 CT in HU: air (-1000) around an elliptic body of soft tissue (~40 HU, noise 20 HU) with a spine."""
    rng = np.random.default_rng(seed)
    j, i = np.meshgrid(np.linspace(-1, 1, size), np.linspace(-1, 1, size), indexing="ij")
    body = (i / 0.8) ** 2 + (j / 0.55) ** 2 <= 1.0
    bone = (i / 0.08) ** 2 + ((j - 0.3) / 0.08) ** 2 <= 1.0
    template = np.where(body, 40, -1000).astype(np.int16)
    template[bone] = 700
    array = np.empty((slices, size, size), np.int16)
    for k in range(slices):  # slice by slice: never a float copy of the whole volume
        array[k] = template + rng.normal(0.0, 20.0, (size, size)).astype(np.int16)
    return Volume(array, (0.98, 0.98, 2.0), (-250.0, -250.0, -600.0), modality="CT", units="HU")


def bench_networks(fcn, gan, size: int, batch: int = SLAB, each: bool = True) -> dict:
    """Both inference copies on one slab of ``batch`` slices, then (``each``) each alone: which one falls short;
    and both plain networks."""
    plain = torch.rand(batch, fcn.config.in_channels, size, size)
    slab = plain.contiguous(memory_format=torch.channels_last)  # as predict_virtual_pet hands it to the copies
    fast_fcn, fast_gan = inference_copy(fcn), inference_copy(gan)
    results = {}
    parts = {"networks": lambda: (fast_fcn(slab), fast_gan(slab)), "plain_networks": lambda: (fcn(plain), gan(plain))}
    if each:
        parts.update(fcn=lambda: fast_fcn(slab), unet=lambda: fast_gan(slab))
    for name, forward in parts.items():
        with torch.inference_mode():
            flops = count_flops(forward)
            seconds = best_seconds(forward, repeats=3, warmup=1)
        gflops = flops / seconds / 1e9
        prefix = f"{name}_{size}" + ("" if batch == SLAB else f"_batch{batch}")
        results[f"{prefix}_slices_per_second"] = batch / seconds
        results[f"{prefix}_gflop_per_slice"] = flops / batch / 1e9
        results[f"{prefix}_gflops"] = gflops
    return results


def bench_end_to_end(fcn, gan, size: int, postprocessing: dict, slab_size: int = SLAB,
                     slices: int = 2 * SLAB) -> dict:
    ct = synthetic_ct(slices, size)
    config = VirtualPETConfig(slab_size=slab_size, **postprocessing)
    predict = lambda: predict_virtual_pet(ct, fcn, gan, config, device="cpu")  # noqa: E731
    seconds = best_seconds(predict, repeats=2, warmup=1)
    suffix = "" if slab_size == SLAB else f"_slab{slab_size}"
    return {f"predict_{size}{suffix}_slices_per_second": slices / seconds}


def opencv_laplacian_blend(fcn: np.ndarray, gan: np.ndarray, threshold_suv: float, levels: int) -> np.ndarray:
    """Burt-Adelson blend of two float32 images with OpenCV's pyramid operators (mask = fcn > threshold)."""

    def gaussian(image: np.ndarray) -> list[np.ndarray]:
        pyramid = [image]
        for _ in range(levels):
            pyramid.append(cv2.pyrDown(pyramid[-1]))
        return pyramid

    def expand(image: np.ndarray, like: np.ndarray) -> np.ndarray:
        return cv2.pyrUp(image, dstsize=(like.shape[1], like.shape[0]))

    def laplacian(image: np.ndarray) -> list[np.ndarray]:
        pyramid = gaussian(image)
        return [fine - expand(coarse, fine) for fine, coarse in zip(pyramid[:-1], pyramid[1:], strict=True)] + [
            pyramid[-1]
        ]

    weights = gaussian((fcn > threshold_suv).astype(np.float32))
    mixed = [w * a + (1.0 - w) * b for w, a, b in zip(weights, laplacian(fcn), laplacian(gan), strict=True)]
    image = mixed[-1]
    for detail in reversed(mixed[:-1]):
        image = expand(image, detail) + detail
    return image


def bench_blending(size: int = 512, batch: int = SLAB, threshold: float = 2.5) -> dict:
    """Our blend on its CPU path (OpenCV kernels when cv2 is importable) and with the torch ops alone (the CUDA
    path, and the CPU's without OpenCV), each against OpenCV's blend timed in the same process."""
    rng = np.random.default_rng(1)
    fcn = rng.gamma(2.0, 1.0, (batch, size, size)).astype(np.float32)
    gan = rng.gamma(2.0, 1.0, (batch, size, size)).astype(np.float32)
    levels = usable_levels(size, size, DEFAULT_LEVELS)
    fcn_t, gan_t = torch.from_numpy(fcn[:, None]), torch.from_numpy(gan[:, None])
    # On a shared machine the load changes within seconds: OpenCV is timed before and after each of ours and the
    # best kept, like the conv floor of the network benchmark.
    opencv_blend = lambda: opencv_laplacian_blend(fcn[0], gan[0], threshold, levels)  # noqa: E731
    opencv = best_seconds(opencv_blend)
    # Our slab timing reads 16 different slices from memory; OpenCV over the same 16 slices is its fair match.
    opencv_slab_blend = lambda: [opencv_laplacian_blend(a, b, threshold, levels) for a, b in zip(fcn, gan, strict=True)]  # noqa: E731
    opencv_slab = best_seconds(opencv_slab_blend, repeats=3, warmup=1) / batch
    reference = opencv_laplacian_blend(fcn[0], gan[0], threshold, levels)
    # Plain cv2.pyrUp replicates instead of mirroring at the last row/column; at level L that reaches 2^L pixels in.
    margin = 2 ** (levels + 1)
    inner = (slice(margin, -margin), slice(margin, -margin))
    results, timed = {"blend_levels": levels}, {}
    for path, use_opencv in (("ours", True), ("ours_torch_ops", False)):
        blending.OPENCV_ON_CPU = use_opencv
        with torch.inference_mode():
            slab = best_seconds(lambda: laplacian_blend(fcn_t, gan_t, threshold_suv=threshold, levels=levels))
            one = best_seconds(lambda: laplacian_blend(fcn_t[:1], gan_t[:1], threshold_suv=threshold, levels=levels))
            image = laplacian_blend(fcn_t[:1], gan_t[:1], threshold_suv=threshold, levels=levels)[0, 0].numpy()
        opencv = min(opencv, best_seconds(opencv_blend))
        opencv_slab = min(opencv_slab, best_seconds(opencv_slab_blend, repeats=3, warmup=1) / batch)
        timed[path] = (slab / batch, one)
        results[f"blend_{size}_{path}_interior_max_abs_difference_suv"] = float(np.abs(image - reference)[inner].max())
    blending.OPENCV_ON_CPU = True
    results[f"blend_{size}_opencv_seconds_per_slice"] = opencv
    results[f"blend_{size}_opencv_seconds_per_slice_in_slab_of_{batch}"] = opencv_slab
    for path, (per_slice_in_slab, one) in timed.items():
        results.update({
            f"blend_{size}_{path}_seconds_per_slice_in_slab_of_{batch}": per_slice_in_slab,
            f"blend_{size}_{path}_seconds_single_slice": one,
            f"blend_{size}_{path}_slab_over_opencv_slab": per_slice_in_slab / opencv_slab,
            f"blend_{size}_{path}_single_over_opencv": one / opencv,
        })
    results[f"blend_{size}_ours_uses_opencv"] = blending.cv2 is not None
    return results


def child_predict(slices: int, model: str | None, slab_size: int | None = None) -> None:
    """Child-process body of the memory benchmark: build the CT, predict, print a JSON line."""
    fcn, gan, _, postprocessing = load_networks(model)
    ct = synthetic_ct(slices)
    before = own_peak_rss_bytes() // 1024
    started = time.perf_counter()
    config = VirtualPETConfig(slab_size=slab_size, **postprocessing)
    result = predict_virtual_pet(ct, fcn, gan, config, device="cpu")
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "rss_before_predict_kb": before, "blended_shape": result.blended.array.shape}))


def bench_memory(slices: int, model: str | None, slab_size: int | None = None) -> dict:
    command = [sys.executable, __file__, "--child-predict", str(slices)]
    command += ["--slab-size", str(slab_size)] if slab_size else []
    command += ["--model", model] if model else []
    command += ["--threads", str(torch.get_num_threads())]  # the child runs with the parent's thread count
    run = run_with_peak_rss(command)
    if run.returncode != 0:
        raise SystemExit(f"memory child failed ({run.returncode}): {run.stderr.strip()[-500:]}")
    child = json.loads(run.stdout.strip().splitlines()[-1])
    peak_kb = run.peak_rss_bytes // 1024
    must_hold = slices * 512 * 512 * (2 + 4)  # int16 CT + float32 blended output
    return {
        "volume_slices": slices,
        "volume_slab_size": slab_size,
        "volume_predict_seconds": child["seconds"],
        "volume_slices_per_second": slices / child["seconds"],
        "volume_peak_rss_mb": peak_kb / 1024,
        "volume_rss_before_predict_mb": child["rss_before_predict_kb"] / 1024,
        "volume_ct_plus_output_mb": must_hold / 2**20,
        "volume_peak_rss_over_ct_plus_output": peak_kb * 1024 / must_hold,
        # What prediction needs beyond the loaded CT, the models and its own output: the per-slab working set.
        "volume_working_set_mb": (peak_kb - child["rss_before_predict_kb"]) / 1024 - slices * 512 * 512 * 4 / 2**20,
        # What a plain child's ru_maxrss could not go below (the measure before session 25): this script's peak.
        "volume_benchmark_script_peak_rss_mb": own_peak_rss_bytes() / 2**20,
    }


def bench_speed(fcn, gan, postprocessing: dict) -> dict:
    """Networks and end to end at 128 and 512 px, every GFLOP/s also as a fraction of the best conv floor."""
    floors = [measure_conv_gflops(train=False)]
    results: dict = {}
    for size in (128, 512):
        results.update(bench_networks(fcn, gan, size))
        floors.append(measure_conv_gflops(train=False))
        results.update(bench_end_to_end(fcn, gan, size, postprocessing))
    # A 16-slice slab at 512 x 512 makes 100+ MB activations: each is a fresh mmap, page-faulted on every
    # forward (cache and page-fault bound). One slice per batch shows what a smaller slab would gain.
    results.update(bench_networks(fcn, gan, 512, batch=1, each=False))
    floors.append(measure_conv_gflops(train=False))
    results.update(bench_end_to_end(fcn, gan, 512, postprocessing, slab_size=1))
    conv = max(floors)
    report = {"conv3x3_inference_gflops": conv, "conv3x3_inference_worst_over_best": min(floors) / conv}
    for key, value in results.items():
        report[key] = value
        if key.endswith("_gflops"):
            report[key.replace("_gflops", "_fraction_of_conv")] = value / conv
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="also print a JSON summary")
    parser.add_argument("--slices", type=int, default=600, help="slices of the 512 x 512 memory-benchmark CT")
    parser.add_argument("--model", default=None, help="virtual-PET .safetensors (default: the bundled model)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's default)")
    parser.add_argument("--skip", default="", help="comma-separated parts to skip: speed, blend, memory")
    parser.add_argument("--slab-size", type=int, default=None,
                        help="slices per network batch in the memory run (default: the inference's pixel budget)")
    parser.add_argument("--child-predict", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
        cv2.setNumThreads(args.threads)
    if args.child_predict is not None:
        child_predict(args.child_predict, args.model, args.slab_size)
        return
    skip = set(filter(None, args.skip.split(",")))
    fcn, gan, source, postprocessing = load_networks(args.model)
    results: dict = {"threads": torch.get_num_threads(), "model": source, **postprocessing}
    if "speed" not in skip:
        results.update(bench_speed(fcn, gan, postprocessing))
    if "blend" not in skip:
        results.update(bench_blending())
    if "memory" not in skip:
        results.update(bench_memory(args.slices, args.model, args.slab_size))
    print_results(results, args.json)


if __name__ == "__main__":
    main()
