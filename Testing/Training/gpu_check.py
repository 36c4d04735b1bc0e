#!/usr/bin/env python3
"""GPU recipe (issue 29, item 6): one run that a session lent a GPU for 15 minutes makes in one call.

    python Testing/Training/gpu_check.py --device cuda                 # the GPU run (--minutes 8 of training)
    python Testing/Training/gpu_check.py --device cpu --tiny           # the same steps at toy sizes (tested here)

Steps, each timed, in this order (the long training last); a failing step is reported and the others still run:
  device             torch / CUDA versions, GPU name and memory
  vpet_data          training phantoms as the bundled model's (train_virtual_pet_v2.sh: version 5, 4 mm, two thirds
                     without contrast from seed 41, one third portal-venous from seed 42) and fresh evaluation
                     phantoms, half of each phase (seeds 90 and 91: no model here was chosen or scored on them)
  train_*            one short epoch of each GAN architecture (radiogan, brain_dcgan, ct_gan) on phantom data
  vpet_inference     run_virtual_pet on a phantom CT in this process, twice (cold, warm): seconds and
                     torch.cuda.max_memory_allocated
  sample_*           'medgansynth sample' of each bundled GAN family on the device
  vpet_train         the bundled virtual-PET recipe (train_virtual_pet_v2.sh, FCN width 0.25; --width-fcn 1.0 the
                     paper's, the capacity HISTORY.md's session 32 asks for) on one device; AMP is on by itself on
                     CUDA (MedGANSynthLib.device.autocast_dtype). Epoch by epoch (--resume) until
                     --max-epochs or until the next epoch would overrun --minutes, so the run ends with the weights of
                     its last whole epoch (an epoch still running at the budget is stopped: try fewer --train-cases)
  vpet_eval          evaluate-virtual-pet of the new model and of the bundled model on the fresh phantoms, both with
                     the bundled card's blend (veto, base levels) and slice smoothing, printed beside the bundled
                     model's card (held-out) figures
Everything goes under --output (default $OUT, else ./gpu_check_out); summary.json is rewritten after every step
("complete": true once the run ends).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

# The bundled model's recipe (Testing/Training/train_virtual_pet_v2.sh), FCN width apart (--width-fcn).
VPET_RECIPE = ["--width-gan", "0.25", "--depth", "7", "--gan-upsampling", "resize",
               "--context-slices", "2", "--slice-size", "128", "--lesion-repeats", "5", "--suv-weight-power", "2",
               "--symmetric-suv-weight", "--batch-size", "8", "--seed", "31"]
# Toy sizes: the same options, networks and slices small enough for a 2-core CI machine.
VPET_TINY = ["--width-gan", "0.0625", "--depth", "4", "--gan-upsampling", "resize",
             "--context-slices", "2", "--slice-size", "32", "--lesion-repeats", "1", "--suv-weight-power", "2",
             "--symmetric-suv-weight", "--batch-size", "8", "--seed", "31"]

# Per architecture: (dataset kind, dataset options, training options). Full: the paper's network sizes.
GAN_FULL = {
    "radiogan": ("mip", ["--phantoms", "8", "--classes", "normal,lymphoma,lung,head_neck,oesophagus",
                         "--voxel-mm", "6"], []),
    "brain_dcgan": ("brain", ["--phantoms", "8"], ["--stage", "NC"]),  # one model per stage, as the paper
    "ct_gan": ("ct", ["--phantoms", "4"], []),
}
GAN_TINY = {
    "radiogan": ("mip", ["--phantoms", "2", "--classes", "normal,lymphoma", "--voxel-mm", "10"],
                 ["--image-size", "40x24", "--width", "0.25", "--batch-size", "4"]),
    "brain_dcgan": ("brain", ["--phantoms", "2"], ["--stage", "NC", "--image-size", "32", "--width", "0.125",
                                                      "--batch-size", "4"]),
    "ct_gan": ("ct", ["--phantoms", "2", "--size", "16"], ["--image-size", "16", "--width", "0.0625",
                                                           "--batch-size", "4"]),
}
SAMPLE_MODELS = {"radiogan": ["radiogan-phantom", "--class", "normal"], "brain_dcgan": ["brain-dcgan-nc-phantom"],
                 "ct_gan": ["ct-gan-phantom"]}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda", help="cuda, cuda:N or cpu (default cuda)")
    parser.add_argument("--tiny", action="store_true", help="toy sizes, for testing the script on a CPU")
    parser.add_argument("--minutes", type=float, default=8.0, help="virtual-PET training budget (default 8)")
    parser.add_argument("--max-epochs", type=int, help="virtual-PET epochs at most (default 3 as the bundled "
                                                       "recipe; --tiny 2)")
    parser.add_argument("--train-cases", type=int, help="training phantoms (default 72 as the recipe; --tiny 2)")
    parser.add_argument("--width-fcn", type=float, help="FCN-4s channel factor (default 0.25 as the bundled model; "
                                                        "1.0 the paper's; --tiny 0.0625)")
    parser.add_argument("--eval-cases", type=int, help="fresh evaluation phantoms (default 8; --tiny 2)")
    parser.add_argument("--eval-seed", type=int, default=90, help="seed of the fresh phantoms (default 90; seeds "
                                                                  "21-26 are the bundled model's)")
    parser.add_argument("--output", default=os.environ.get("OUT") or "gpu_check_out",
                        help="output folder (default $OUT if set, else ./gpu_check_out)")
    args = parser.parse_args(argv)
    args.max_epochs = args.max_epochs or (2 if args.tiny else 3)
    args.train_cases = args.train_cases or (2 if args.tiny else 72)
    args.eval_cases = args.eval_cases or (2 if args.tiny else 8)  # case 0 is 'normal': no lesions
    args.width_fcn = args.width_fcn or (0.0625 if args.tiny else 0.25)
    args.voxel_mm = "10" if args.tiny else "4"
    return args


class StepRunner:
    """Runs named steps, timing each and catching its failure so the next step still runs."""

    def __init__(self, output: Path):
        self.output = output
        self.steps: list[dict[str, Any]] = []

    def run(self, name: str, step: Callable[[], dict[str, Any]]) -> dict[str, Any] | None:
        print(f"[gpu_check] {name} ...", flush=True)
        started = time.perf_counter()
        record: dict[str, Any] = {"name": name}
        try:
            record["result"] = step()
            record["status"] = "ok"
        except Exception as error:  # noqa: BLE001 - one failing step must not stop the others
            record["status"] = "failed"
            record["error"] = f"{type(error).__name__}: {error}"
            (self.output / f"{name}.traceback.txt").write_text(traceback.format_exc())
        record["seconds"] = round(time.perf_counter() - started, 2)
        self.steps.append(record)
        shown = record.get("result") if record["status"] == "ok" else record["error"]
        print(f"[gpu_check] {name}: {record['status']} in {record['seconds']} s: {json.dumps(shown)[:600]}",
              flush=True)
        # a run killed by the device's time limit still leaves what it measured so far
        (self.output / "summary.json").write_text(json.dumps({"complete": False, "steps": self.steps}, indent=2))
        return record.get("result")


def medgansynth(args: list[str], log: Path, timeout_s: float | None = None) -> dict[str, Any] | None:
    """Run the CLI in a child process (its own CUDA context and memory); its JSON summary if --json was given."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    try:
        done = subprocess.run([sys.executable, "-m", "MedGANSynthLib", *args], capture_output=True, text=True,
                              env=env, cwd=REPO, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"medgansynth {args[0]} did not finish in {timeout_s:.0f} s and was stopped") from None
    log.write_text(f"$ medgansynth {' '.join(args)}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}")
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["(no message)"])[-1]
        raise RuntimeError(f"medgansynth {args[0]} exited {done.returncode}: {last} (log: {log})")
    return json.loads(done.stdout) if "--json" in args else None


def device_facts(device: str) -> dict[str, Any]:
    import torch

    facts: dict[str, Any] = {"torch": torch.__version__, "cuda_build": torch.version.cuda,
                             "cuda_available": torch.cuda.is_available(), "device": device,
                             "cpu_threads": torch.get_num_threads()}
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise RuntimeError("--device cuda was asked for, but torch sees no CUDA device")
        index = torch.device(device).index or 0
        properties = torch.cuda.get_device_properties(index)
        facts.update(name=torch.cuda.get_device_name(index), memory_gib=round(properties.total_memory / 2**30, 1),
                     capability=f"{properties.major}.{properties.minor}", cudnn=torch.backends.cudnn.version(),
                     bf16=torch.cuda.is_bf16_supported())
    return facts


def make_vpet_data(args: argparse.Namespace, data: Path, logs: Path) -> dict[str, Any]:
    """Each set in two phases (parts made by 'phantoms', joined in one folder of links, as run_folders.sh's mix)."""
    plain_train = args.train_cases - args.train_cases // 3
    # each part's first case is 'normal' (no lesions): below 4 fresh cases one part, so some case has lesions
    plain_fresh = args.eval_cases if args.eval_cases < 4 else args.eval_cases - args.eval_cases // 2
    sets = {"train": ((plain_train, 41, "none"), (args.train_cases - plain_train, 42, "portal-venous")),
            "fresh": ((plain_fresh, args.eval_seed, "none"),
                      (args.eval_cases - plain_fresh, args.eval_seed + 1, "portal-venous"))}
    made = {}
    for name, parts in sets.items():
        joined = data / name
        joined.mkdir(parents=True, exist_ok=True)
        for count, seed, contrast in parts:
            part = data / f"{name}_{contrast}"
            if count and not (part / "cases.csv").exists():
                medgansynth(["phantoms", "--kind", "wholebody", "--count", str(count), "--seed", str(seed),
                             "--contrast", contrast, "--voxel-mm", args.voxel_mm, "--phantom-version", "5",
                             "-o", str(part), "--overwrite", "--quiet"], logs / f"phantoms_{name}_{contrast}.log")
            for case in sorted(p for p in part.glob("*") if p.is_dir()) if count else ():
                link = joined / f"{contrast}_{case.name}"
                if not link.exists():
                    link.symlink_to(case.resolve(), target_is_directory=True)
        made[name] = {"parts": [{"cases": c, "seed": s, "contrast": k} for c, s, k in parts],
                      "voxel_mm": float(args.voxel_mm), "phantom_version": 5}
    return made


def train_vpet(args: argparse.Namespace, data: Path, run: Path, logs: Path) -> dict[str, Any]:
    """Epoch by epoch, each call resuming the last, so a budget cut always leaves the last finished epoch's weights."""
    budget_s, started, epochs = args.minutes * 60, time.perf_counter(), []
    recipe = [*(VPET_TINY if args.tiny else VPET_RECIPE), "--width-fcn", str(args.width_fcn)]
    common = ["--device", args.device, "--checkpoint-every", "1", "--json", "--quiet"]
    summary: dict[str, Any] | None = None
    for epoch in range(1, args.max_epochs + 1):
        elapsed = time.perf_counter() - started
        if epochs and elapsed + 1.1 * epochs[-1] > budget_s:
            break
        first = ["--data", str(data / "train"), *recipe, "--overwrite"] if epoch == 1 else ["--resume"]
        epoch_started = time.perf_counter()
        # the first epoch is stopped at the budget too, so the run still ends (and reports) before the device's limit
        summary = medgansynth(["train-virtual-pet", "-o", str(run), *first, "--epochs", str(epoch), *common],
                              logs / f"train_virtual_pet_epoch{epoch}.log", timeout_s=max(budget_s - elapsed, 1.0))
        epochs.append(round(time.perf_counter() - epoch_started, 1))
    return {"epochs": len(epochs), "epoch_seconds": epochs, "budget_minutes": args.minutes,
            "weights": str(run / "weights" / "virtual_pet.safetensors"), "summary": summary}


def evaluate_vpet(args: argparse.Namespace, data: Path, model: str, out: Path, logs: Path) -> dict[str, Any]:
    medgansynth(["evaluate-virtual-pet", "--data", str(data / "fresh"), "--model", model, "-o", str(out),
                 "--device", args.device, *bundled_postprocessing(), "--overwrite", "--json", "--quiet"],
                logs / f"{out.name}.log")
    return headline(json.loads((out / "results.json").read_text())["overall"])


def headline(overall: dict[str, Any]) -> dict[str, Any]:
    """TPR, focal TPR, false positives per scan and SSIM of the FCN, the GAN and the blend."""
    return {part: {key: overall[part].get(key) for key in ("tpr", "tpr_focal", "fp_per_scan", "ssim")}
            for part in ("fcn", "gan", "blended") if part in overall}


def bundled_postprocessing() -> list[str]:
    """The bundled card's blend and smoothing as evaluate-virtual-pet options, so a new model (whose card has the
    paper's defaults) is scored with the same post-processing as the bundled one."""
    config = json.loads((REPO / "Resources" / "Models" / "virtual_pet_phantom.json").read_text())["config"]
    return ["--slice-smoothing", str(config.get("slice_smoothing_mm", 12.0)),
            "--blend-veto", str(config.get("blend_veto_suv", 0.0)),
            "--blend-base-levels", str(config.get("blend_base_levels", 0))]


def bundled_card_metrics() -> dict[str, Any]:
    card = json.loads((REPO / "Resources" / "Models" / "virtual_pet_phantom.json").read_text())
    return {name: headline(card["metrics"][name]) for name in ("heldout", "selection") if name in card["metrics"]}


def train_gan(args: argparse.Namespace, architecture: str, root: Path, logs: Path) -> dict[str, Any]:
    kind, data_options, train_options = (GAN_TINY if args.tiny else GAN_FULL)[architecture]
    data = root / f"{architecture}_data"
    if not (data / "train" / "labels.csv").exists():
        medgansynth(["dataset", kind, *data_options, "-o", str(data), "--overwrite", "--quiet"],
                    logs / f"dataset_{architecture}.log")
    summary = medgansynth(["train", "--architecture", architecture, "--data", str(data / "train"),
                           "-o", str(root / f"{architecture}_run"), "--epochs", "1", "--device", args.device,
                           *train_options, "--overwrite", "--json", "--quiet"], logs / f"train_{architecture}.log")
    return summary or {}


def virtual_pet_inference(args: argparse.Namespace, ct: Path, out: Path) -> dict[str, Any]:
    """The bundled model on one phantom CT in this process, cold then warm, with the GPU's peak memory."""
    import torch

    from MedGANSynthLib.virtual_pet.pipeline import run_virtual_pet

    on_cuda = args.device.startswith("cuda")
    runs = []
    for attempt in ("cold", "warm"):
        if on_cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        started = time.perf_counter()
        summary = run_virtual_pet(ct, out / attempt, device=args.device)
        if on_cuda:
            torch.cuda.synchronize()
        runs.append({"run": attempt, "seconds": round(time.perf_counter() - started, 2),
                     "pipeline_seconds": summary.get("seconds"),
                     "max_memory_allocated_mib": round(torch.cuda.max_memory_allocated() / 2**20, 1)
                     if on_cuda else None})
    return {"ct": str(ct), "runs": runs}


def sample_gan(args: argparse.Namespace, family: str, out: Path, logs: Path) -> dict[str, Any]:
    count = "4" if args.tiny else "256"
    started = time.perf_counter()
    summary = medgansynth(["sample", *SAMPLE_MODELS[family], "-o", str(out), "--count", count, "--seed", "1",
                           "--device", args.device, "--overwrite", "--json", "--quiet"], logs / f"sample_{family}.log")
    return {"count": int(count), "seconds_with_start": round(time.perf_counter() - started, 2),
            "summary": summary}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    output = Path(args.output).resolve()
    logs, data = output / "logs", output / "vpet_data"
    logs.mkdir(parents=True, exist_ok=True)
    steps = StepRunner(output)
    steps.run("device", lambda: device_facts(args.device))
    steps.run("vpet_data", lambda: make_vpet_data(args, data, logs))
    for architecture in ("radiogan", "brain_dcgan", "ct_gan"):
        steps.run(f"train_{architecture}", lambda a=architecture: train_gan(args, a, output, logs))
    first_ct = sorted((data / "fresh").glob("*/ct.nrrd"))[:1]
    steps.run("vpet_inference", lambda: virtual_pet_inference(args, first_ct[0], output / "vpet_inference"))
    for family in SAMPLE_MODELS:
        steps.run(f"sample_{family}", lambda f=family: sample_gan(args, f, output / f"sample_{f}", logs))
    # the long training last, so a run cut short by the device's time limit has measured everything else
    run = output / "vpet_run"
    steps.run("vpet_train", lambda: train_vpet(args, data, run, logs))
    weights = str(run / "weights" / "virtual_pet.safetensors")
    new = steps.run("vpet_eval_new", lambda: evaluate_vpet(args, data, weights, output / "vpet_eval_new", logs))
    bundled = steps.run("vpet_eval_bundled", lambda: evaluate_vpet(args, data, "virtual-pet-phantom",
                                                                   output / "vpet_eval_bundled", logs))
    card = bundled_card_metrics()
    summary = {"complete": True, "args": dict(vars(args)), "steps": steps.steps,
               "virtual_pet_comparison": {"new_model_on_fresh": new, "bundled_model_on_fresh": bundled,
                                          "bundled_card": card},
               "ok": all(step["status"] == "ok" for step in steps.steps)}
    (output / "summary.json").write_text(json.dumps(summary, indent=2))
    print_comparison(summary["virtual_pet_comparison"])
    print(f"[gpu_check] {sum(s['status'] == 'ok' for s in steps.steps)}/{len(steps.steps)} steps ok; "
          f"summary: {output / 'summary.json'}")
    return 0 if summary["ok"] else 1


def print_comparison(comparison: dict[str, Any]) -> None:
    rows = [("new model, fresh phantoms", comparison["new_model_on_fresh"]),
            ("bundled model, fresh phantoms", comparison["bundled_model_on_fresh"]),
            ("bundled card, held-out", comparison["bundled_card"].get("heldout"))]
    print(f"{'blended virtual PET':32s} {'TPR':>6s} {'focal':>6s} {'FP/scan':>8s} {'SSIM':>6s}")
    for label, figures in rows:
        blended = (figures or {}).get("blended")
        if blended:
            print(f"{label:32s}" + "".join(f" {_figure(blended.get(key)):>{width}s}" for key, width in
                                           (("tpr", 6), ("tpr_focal", 6), ("fp_per_scan", 8), ("ssim", 6))))
        else:
            print(f"{label:32s} (not measured)")


def _figure(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


if __name__ == "__main__":
    sys.exit(main())
