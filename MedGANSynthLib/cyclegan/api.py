"""Python API: train a CycleGAN on two unpaired folders, on the shared engine, resumable and DDP-ready.

    from MedGANSynthLib.cyclegan.api import train_cyclegan
    summary = train_cyclegan("runs/cg", data_a="CT_SLICES/", data_b="PET_SLICES/", epochs=4, image_size=64,
                             width=0.25, residual_blocks=3)
    summary = train_cyclegan("runs/cg", resume=True)   # continue a stopped run exactly

Defaults are the paper's (Zhu et al. 2017): 256-pixel images, ResNet generator with 9 blocks, batch 1, Adam 2e-4,
200 epochs of which the last half decay linearly, lambda 10, identity 0.5 lambda, pools of 50. The run folder holds
run.json (the settings a resume rebuilds from), the engine's checkpoint, loss tables and pictures, and at the end
weights/cyclegan.safetensors + .json (cyclegan/weights.py); for a CT domain A the card carries the cycle-error band
of the training slices, the virtual PET's input check (cyclegan/input_check.py).
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from MedGANSynthLib.cyclegan.dataset import UnpairedDataset, domain_window, load_domain
from MedGANSynthLib.cyclegan.image_pool import POOL_SIZE
from MedGANSynthLib.cyclegan.losses import CYCLE_WEIGHT, IDENTITY_FRACTION
from MedGANSynthLib.cyclegan.networks import CycleGANNetworkSettings, build_cyclegan
from MedGANSynthLib.cyclegan.schedule import split_epochs
from MedGANSynthLib.cyclegan.task import LEARNING_RATE, CycleGANTask
from MedGANSynthLib.errors import InputError
from MedGANSynthLib.jobs.progress import CancelToken, ProgressCallback
from MedGANSynthLib.training.run_file import read_run_file, record_learning_rate_change, write_run_file

DEFAULTS: dict[str, Any] = {
    "kind_a": "ct", "kind_b": "pet", "name_a": None, "name_b": None, "window_a": None, "window_b": None,
    "image_size": 256, "context_slices": 0, "epochs": 200, "decay_epochs": None, "batch_size": 1,
    "lr": LEARNING_RATE, "cycle_weight": CYCLE_WEIGHT, "identity_fraction": IDENTITY_FRACTION,
    "pool_size": POOL_SIZE, "seed": 0, "checkpoint_every": 1,
}
NETWORK_KEYS = ("generator", "residual_blocks", "width", "unet_depth", "upsampling", "discriminator_strided")
_RUN_KEYS = ("architecture", "data_a", "data_b", "epochs", "networks")


def run_settings(output: str | Path, resume: bool = False, **options: Any) -> dict[str, Any]:
    """The run's settings: run.json when resuming (``epochs`` and ``lr`` may change), else defaults + options."""
    from MedGANSynthLib.training.checkpoint import checkpoint_path

    run_dir = Path(output)
    given = {key: value for key, value in options.items() if value is not None}
    if resume:
        settings = read_run_file(run_dir, _RUN_KEYS, "CycleGAN")
        if settings.get("architecture") != "cyclegan":
            raise InputError(f"The run in '{run_dir}' is not a CycleGAN run.")
        changed = sorted(f"--{key.replace('_', '-')}" for key in set(given) - {"epochs", "lr", "decay_epochs"})
        if changed:
            raise InputError(f"--resume rebuilds the run from its run.json; leave out {', '.join(changed)} (only "
                             "--epochs, --decay-epochs and --lr may change).")
        # The schedule follows the (possibly extended) run: by default its second half decays.
        settings["epochs"] = int(given.get("epochs", settings["epochs"]))
        settings["decay_epochs"] = given.get("decay_epochs", settings["decay_epochs"])
        settings["schedule"] = _schedule(settings)
        if "lr" in given:
            _positive("--lr", given["lr"])
            settings["lr"] = float(given["lr"])
            record_learning_rate_change(settings, run_dir, lr=settings["lr"])
        return settings
    if checkpoint_path(run_dir).exists():
        raise InputError(f"'{run_dir}' already holds a training run; pass --resume to continue it or choose a new "
                         "folder.")
    unknown = sorted(set(given) - set(DEFAULTS) - set(NETWORK_KEYS) - {"data_a", "data_b"})
    if unknown:
        raise InputError(f"Unknown CycleGAN setting(s) {', '.join(unknown)}.")
    if not given.get("data_a") or not given.get("data_b"):
        raise InputError("Pass --data-a and --data-b, the two unpaired image folders (only --resume may leave "
                         "them out).")
    settings = {**DEFAULTS, **{k: v for k, v in given.items() if k in DEFAULTS}}
    for key in ("epochs", "batch_size", "image_size", "checkpoint_every"):
        if int(settings[key]) < 1:
            raise InputError(f"--{key.replace('_', '-')} must be at least 1 (got {settings[key]}).")
    _positive("--lr", settings["lr"])
    for key in ("cycle_weight", "identity_fraction", "pool_size", "context_slices"):
        if not settings[key] >= 0:
            raise InputError(f"--{key.replace('_', '-')} must be 0 or more (got {settings[key]}).")
    settings["schedule"] = _schedule(settings)
    for side in ("a", "b"):
        settings[f"name_{side}"] = settings[f"name_{side}"] or settings[f"kind_{side}"].upper()
        domain_window(settings[f"kind_{side}"], settings[f"window_{side}"])  # refuse a bad kind or window now
    networks = CycleGANNetworkSettings(channels=2 * int(settings["context_slices"]) + 1,
                                       **{k: v for k, v in given.items() if k in NETWORK_KEYS})
    networks.validate()
    return {"architecture": "cyclegan", "data_a": str(Path(given["data_a"]).resolve()),
            "data_b": str(Path(given["data_b"]).resolve()), **settings, "networks": asdict(networks)}


def load_domains(settings: dict[str, Any]) -> UnpairedDataset:
    """The unpaired data set of a run's settings, prepared exactly as training sees it."""
    domains = [load_domain(settings[f"data_{side}"], settings[f"kind_{side}"], settings[f"name_{side}"],
                           int(settings["image_size"]), int(settings["context_slices"]),
                           domain_window(settings[f"kind_{side}"], settings[f"window_{side}"]),
                           option=f"--data-{side}")
               for side in ("a", "b")]
    return UnpairedDataset(*domains, seed=int(settings["seed"]))


def train_cyclegan(output: str | Path, resume: bool = False, device: str = "auto", checkpoint_steps: int = 0,
                   workers: int = 0, amp: bool = True, progress: ProgressCallback | None = None,
                   cancel: CancelToken | None = None, **options: Any) -> dict[str, Any]:
    """Train (or with ``resume`` continue) the CycleGAN of ``output``; returns a JSON-able summary.

    ``options``: data_a, data_b, kind_a/kind_b ("ct" or "pet"), name_a/name_b, window_a/window_b ([low, high]),
    image_size, context_slices, epochs, decay_epochs, batch_size, lr, cycle_weight, identity_fraction, pool_size,
    seed, checkpoint_every and the network settings generator, residual_blocks, width, unet_depth, upsampling,
    discriminator_strided. Cancel through ``cancel`` (jobs.progress.CancelToken): the engine stops between steps.
    """
    from MedGANSynthLib.training.distributed import context_from_env
    from MedGANSynthLib.training.engine import Trainer, TrainerConfig, seed_everything

    context = context_from_env()
    run_dir = Path(output)
    settings = run_settings(run_dir, resume, **options)
    dataset = load_domains(settings)
    networks_settings = CycleGANNetworkSettings(**settings["networks"])
    if dataset.channels != networks_settings.channels:
        raise InputError(f"The data give {dataset.channels}-channel images but the networks take "
                         f"{networks_settings.channels}.")
    seed_everything(int(settings["seed"]))  # same initial weights for the same seed
    task = CycleGANTask(build_cyclegan(networks_settings), *settings["schedule"],
                        lr=float(settings["lr"]), cycle_weight=float(settings["cycle_weight"]),
                        identity_fraction=float(settings["identity_fraction"]), pool_size=int(settings["pool_size"]),
                        sample_batch=dataset.sample_batch(), export=_exporter(dataset, networks_settings, settings))
    if context.is_main:
        write_run_file(run_dir, settings)
    trainer = Trainer(TrainerConfig(run_dir=run_dir, epochs=int(settings["epochs"]),
                                    batch_size=int(settings["batch_size"]), seed=int(settings["seed"]), device=device,
                                    checkpoint_every=int(settings["checkpoint_every"]),
                                    checkpoint_steps=checkpoint_steps, resume=resume, amp=amp,
                                    num_workers=workers), context)
    result = trainer.fit(task, dataset, progress=progress, cancel=cancel)
    return {"run_dir": str(run_dir), "architecture": "cyclegan", "epochs": result.epochs_completed,
            "global_step": result.global_step, "batch_size": settings["batch_size"],
            "world_size": context.world_size, "data": dataset.describe(), "checkpoint": str(result.checkpoint),
            "weights": result.exported, "images_per_second": result.images_per_second,
            "seconds_per_epoch": result.seconds_per_epoch, "last_losses": result.last_losses, "files": result.files}


def _schedule(settings: dict[str, Any]) -> list[int]:
    """[constant, decaying] epochs of the run; ``decay_epochs`` None (the default) decays the second half."""
    return list(split_epochs(int(settings["epochs"]), settings["decay_epochs"]))


def _positive(name: str, value: float) -> None:
    if not float(value) > 0:
        raise InputError(f"{name} must be positive (got {value}).")


def _training_data(dataset: UnpairedDataset, settings: dict[str, Any]) -> dict[str, Any]:
    counts = {f"{side}_images": int(len(domain.images))
              for side, domain in (("a", dataset.domain_a), ("b", dataset.domain_b))}
    return {"source": f"{settings['data_a']} | {settings['data_b']}", "patients": None, "counts": counts,
            "description": f"Unpaired images: A = {dataset.domain_a.name} from {settings['data_a']}, B = "
                           f"{dataset.domain_b.name} from {settings['data_b']} (describe their origin here; "
                           "phantoms or patients).", "dataset": dataset.describe()}


def _exporter(dataset: UnpairedDataset, networks: CycleGANNetworkSettings, settings: dict[str, Any]):
    from MedGANSynthLib.cyclegan.input_check import BAND_KEY, training_band
    from MedGANSynthLib.cyclegan.weights import save_cyclegan

    def export(g_ab, g_ba, run_dir: Path, summary: dict[str, Any]) -> list[Path]:
        metrics = {"final_epoch": {k: v for k, v in summary.get("final_epoch_losses", {}).items()
                                   if isinstance(v, (int, float))},
                   "training": {k: settings.get(k) for k in ("lr", "batch_size", "seed", "epochs", "schedule",
                                                             "decay_epochs", "cycle_weight", "identity_fraction",
                                                             "pool_size", "learning_rate_changes")}}
        if dataset.domain_a.window.units == "HU":  # the input check's reference (cyclegan/input_check.py)
            metrics[BAND_KEY] = training_band(g_ab, g_ba, dataset.domain_a.window, dataset.domain_a.images,
                                              f"{len(dataset.domain_a.images)} training slices of domain A "
                                              f"({settings['data_a']})")
        folder = run_dir / "weights"
        folder.mkdir(parents=True, exist_ok=True)
        return list(save_cyclegan(g_ab, g_ba, networks, dataset.domain_a, dataset.domain_b, folder,
                                  _training_data(dataset, settings), epochs=int(summary["epochs"]), metrics=metrics))

    return export
