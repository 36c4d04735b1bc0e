"""Training speed of the three GANs, as a fraction of the machine's 3x3-conv training throughput in the same run.

One step is exactly what the training engine runs (``GANTask.train_step``: a discriminator update on a real and a
generated batch, then a generator update; BCE-with-logits losses, the bundled RadioGAN's hinge loss and
mismatched labels (a third discriminator pass); each architecture's paper optimiser from
``training.optimizers.PAPER_DEFAULTS``: Adam for RadioGAN and the brain DCGAN, RMSprop for the CT GAN). Batch sizes
are the papers' / project's: RadioGAN 32, brain DCGAN 64, CT GAN 16, at the default paper image sizes. Each GAN runs
with its paper discriminator and with the bundled models' spectral-norm discriminator; RadioGAN also with all the
bundled model's settings (``radiogan_bundled``).

Reported per torch thread count (2 and 1 by default): images/s, FLOPs per step (torch's FlopCounterMode), GFLOP/s
and that divided by ``measure_conv_gflops(train=True)`` measured just before, in the same process. Target of the
issue: RadioGAN at batch 32 >= 0.5 of the conv floor.

A script, not a test:  .venv/bin/python Testing/Benchmarks/bench_gans.py [--json] [--threads 2,1] [--profile]
(about 1-2 minutes on a quiet 2-core machine; ``--profile`` adds a torch.profiler table of the RadioGAN step).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_report import print_results  # noqa: E402
from conv_throughput import best_seconds, count_flops, measure_conv_gflops  # noqa: E402

from MedGANSynthLib.gan.task import GANTask, GANTaskSettings  # noqa: E402
from MedGANSynthLib.networks.registry import build_gan  # noqa: E402
from MedGANSynthLib.training.engine import StepContext  # noqa: E402
from MedGANSynthLib.training.optimizers import paper_settings  # noqa: E402

# (name, architecture, batch size, config overrides)
CASES = [
    ("radiogan", "radiogan", 32, {}),
    ("radiogan_spectral", "radiogan", 32, {"discriminator_norm": "spectral"}),
    # the bundled radiogan-phantom's networks (Testing/Training/train_bundled_gans.sh)
    ("radiogan_bundled", "radiogan", 32, {"discriminator_norm": "spectral", "discriminator_dropout": 0.0,
                                          "minibatch_std": True, "class_projection": True,
                                          "generator_upsampling": "resize", "generator_class_norm": True,
                                          "task": {"loss": "hinge", "mismatched_labels": True}}),
    ("brain_dcgan", "brain_dcgan", 64, {}),
    ("brain_dcgan_spectral", "brain_dcgan", 64, {"discriminator_norm": "spectral"}),
    ("ct_gan", "ct_gan", 16, {}),
    ("ct_gan_spectral", "ct_gan", 16, {"discriminator_norm": "spectral"}),
]


def make_step(architecture: str, batch: int, overrides: dict, seed: int = 0, channels_last: bool = False,
              compile_models: bool = False):
    """A zero-argument function running one engine training step of a fresh GAN on a fixed random real batch.

    ``channels_last`` stores weights and images NHWC; ``compile_models`` wraps both networks in torch.compile
    (experiments: the training engine does neither).
    """
    torch.manual_seed(seed)
    network = dict(overrides)
    task_settings = GANTaskSettings(**network.pop("task", {}))
    generator, discriminator, _ = build_gan(architecture, network)
    memory_format = torch.channels_last if channels_last else torch.contiguous_format
    generator.to(memory_format=memory_format)
    discriminator.to(memory_format=memory_format)
    generator.train()
    discriminator.train()
    task = GANTask(generator, discriminator, paper_settings(architecture), task_settings)
    models = task.modules()
    if compile_models:
        models = {name: torch.compile(model) for name, model in models.items()}
    optimizers = task.optimizers()
    scalers = {name: torch.amp.GradScaler("cpu", enabled=False) for name in models}
    noise = torch.Generator().manual_seed(seed)
    context = StepContext(torch.device("cpu"), models, optimizers, scalers, noise, amp_dtype=None)
    real = torch.rand((batch, *generator.config.image_shape), generator=noise) * 2.0 - 1.0
    real = real.contiguous(memory_format=memory_format)
    data = {"image": real}
    if generator.num_classes > 0:
        data["label"] = torch.randint(0, generator.num_classes, (batch,), generator=noise)

    def step() -> None:
        task.train_step(data, context)

    return step


def bench_case(architecture: str, batch: int, overrides: dict, conv_gflops: float, repeats: int, **variant) -> dict:
    step = make_step(architecture, batch, overrides, **variant)
    flops = count_flops(make_step(architecture, batch, overrides))  # counted eagerly: compiled graphs hide ops
    step()  # warm-up (and compilation)
    seconds = best_seconds(step, repeats=repeats, warmup=1)
    gflops = flops / seconds / 1e9
    return {
        "batch": batch,
        "images_per_second": batch / seconds,
        "seconds_per_step": seconds,
        "gflop_per_step": flops / 1e9,
        "gflops": gflops,
        "fraction_of_conv": gflops / conv_gflops,
    }


def profile_radiogan(batch: int = 32, steps: int = 3, rows: int = 15) -> str:
    """torch.profiler table (self CPU time) of a few RadioGAN steps: which operators take the time."""
    from torch.profiler import ProfilerActivity, profile

    step = make_step("radiogan", batch, {})
    step()
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as profiler:
        for _ in range(steps):
            step()
    return profiler.key_averages().table(sort_by="self_cpu_time_total", row_limit=rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="also print a JSON summary")
    parser.add_argument("--threads", default="2,1", help="comma-separated torch thread counts (default 2,1)")
    parser.add_argument("--repeats", type=int, default=3, help="timed steps per case; the fastest counts")
    parser.add_argument("--only", default=None, help="comma-separated case names (default: all)")
    parser.add_argument("--profile", action="store_true", help="print a torch.profiler table of RadioGAN steps")
    parser.add_argument("--channels-last", action="store_true", help="also time RadioGAN with NHWC tensors")
    parser.add_argument("--compile", action="store_true", help="also time RadioGAN under torch.compile")
    args = parser.parse_args()
    wanted = set(args.only.split(",")) if args.only else None
    results: dict = {}
    for threads in (int(value) for value in args.threads.split(",")):
        torch.set_num_threads(threads)
        conv = measure_conv_gflops(train=True)
        results[f"threads{threads}_conv3x3_train_gflops"] = conv
        for name, architecture, batch, overrides in CASES:
            if wanted and name not in wanted:
                continue
            for key, value in bench_case(architecture, batch, overrides, conv, args.repeats).items():
                results[f"threads{threads}_{name}_{key}"] = value
        variants = {"channels_last": {"channels_last": True}} if args.channels_last else {}
        if args.compile:
            variants["compiled"] = {"compile_models": True}
        for label, variant in variants.items():
            measured = bench_case("radiogan", 32, {}, conv, args.repeats, **variant)
            for key in ("images_per_second", "gflops", "fraction_of_conv"):
                results[f"threads{threads}_radiogan_{label}_{key}"] = measured[key]
    if args.profile:
        print(profile_radiogan())
    print_results(results, args.json)


if __name__ == "__main__":
    main()
