"""Train a CycleGAN on two unpaired folders from Python: :func:`train_cyclegan` does all that
``medgansynth train-cyclegan`` does but read flags and print (the command is a thin layer over it).

    from MedGANSynthLib.cyclegan.training_settings import CycleGANTrainingSettings
    from MedGANSynthLib.cyclegan.training_run import train_cyclegan
    summary = train_cyclegan(CycleGANTrainingSettings(data_a="CT_SLICES/", data_b="PET_SLICES/", output="runs/cg",
                                                      epochs=4, image_size=64, width=0.25, residual_blocks=3))
    summary = train_cyclegan(CycleGANTrainingSettings(output="runs/cg"), resume=True)  # continue a stopped run

Defaults are the paper's (Zhu et al. 2017): 256-pixel images, ResNet generator with 9 blocks, batch 1, Adam 2e-4,
200 epochs of which the last half decay linearly, lambda 10, identity 0.5 lambda, pools of 50. The run folder holds
run.json (the settings a resume rebuilds from), the engine's checkpoint, loss tables and pictures, and at the end
weights/cyclegan.safetensors + .json (cyclegan/weights.py); for a CT domain A the card carries the cycle-error band
of the training slices, the virtual PET's input check (cyclegan/input_check.py). Runs on several processes under
torchrun (DDP).
"""

from __future__ import annotations

from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from MedGANSynthLib.cyclegan.training_settings import DEFAULT_EPOCHS, NETWORK_FIELDS, CycleGANTrainingSettings
from MedGANSynthLib.errors import InputError
from MedGANSynthLib.jobs.progress import CancelToken, ProgressCallback
from MedGANSynthLib.training.run_file import read_run_file, record_learning_rate_change
from MedGANSynthLib.training.settings import check_range, check_run_folder, read_settings

ARCHITECTURE = "cyclegan"
"""run.json's "architecture" (every CycleGAN run file has it), as the model card's."""


def train_cyclegan(settings: CycleGANTrainingSettings, *, resume: bool = False, overwrite: bool = False,
                   progress: ProgressCallback | None = None, cancel: CancelToken | None = None) -> dict[str, Any]:
    """Train (or with ``resume`` continue) the CycleGAN run in ``settings.output``; returns a JSON-able summary.

    A resume rebuilds the run from its run.json; of the settings, only epochs, decay_epochs and lr may change (a
    finished run may be extended, or continued at another rate). ``overwrite`` starts afresh in a folder that holds
    a run. Cancel through ``cancel``: the engine stops between steps, keeping its checkpoint.
    """
    from MedGANSynthLib.cyclegan.networks import CycleGANNetworkSettings, build_cyclegan
    from MedGANSynthLib.cyclegan.task import CycleGANTask
    from MedGANSynthLib.training.distributed import context_from_env
    from MedGANSynthLib.training.engine import fit_in_run_folder, seed_everything

    context = context_from_env()
    run_dir = settings.run_dir
    settings, stored = resolve_cyclegan_run(settings, resume=resume, overwrite=overwrite)
    dataset = _unpaired_dataset(settings)
    networks = CycleGANNetworkSettings(**stored["networks"])
    if dataset.channels != networks.channels:
        raise InputError(f"The data give {dataset.channels}-channel images but the networks take "
                         f"{networks.channels}.")
    seed_everything(settings.seed)  # same initial weights for the same seed
    task = CycleGANTask(build_cyclegan(networks), *stored["schedule"], lr=settings.lr,
                        cycle_weight=settings.cycle_weight, identity_fraction=settings.identity_fraction,
                        pool_size=settings.pool_size, sample_batch=dataset.sample_batch(),
                        export=_exporter(dataset, networks, stored))
    result = fit_in_run_folder(task, dataset, settings, run_dir, stored, context, resume=resume, overwrite=overwrite,
                               progress=progress, cancel=cancel)
    return {"run_dir": str(run_dir), "architecture": ARCHITECTURE, "epochs": result.epochs_completed,
            "global_step": result.global_step, "batch_size": settings.batch_size, "world_size": context.world_size,
            "data": dataset.describe(), "checkpoint": str(result.checkpoint), "weights": result.exported,
            "images_per_second": result.images_per_second, "seconds_per_epoch": result.seconds_per_epoch,
            "last_losses": result.last_losses, "files": result.files}


def read_cyclegan_settings(output: str | Path, **invocation: Any) -> CycleGANTrainingSettings:
    """The settings of the CycleGAN run in ``output`` (its run.json, also one written by an older version)."""
    return read_settings(CycleGANTrainingSettings, output, CycleGANTrainingSettings.RUN_FILE_KEYS, **invocation)


# ---- settings --------------------------------------------------------------------------------------------------
def resolve_cyclegan_run(settings: CycleGANTrainingSettings, *, resume: bool = False, overwrite: bool = False):
    """Check ``settings`` and work out the run: (settings, run.json contents). When resuming, the settings come
    from run.json (the networks must match the checkpoint) with a new epoch count, decay or rate applied."""
    from MedGANSynthLib.cyclegan.dataset import domain_window
    from MedGANSynthLib.cyclegan.task import LEARNING_RATE

    run_dir = settings.run_dir
    check_run_folder(run_dir, resume=resume, overwrite=overwrite)
    settings.check_run_options()
    if resume:
        return _resumed(settings, run_dir)
    if not settings.data_a or not settings.data_b:
        raise InputError("Pass --data-a and --data-b, the two unpaired image folders (only --resume may leave "
                         "them out).")
    check_range(("--batch-size", settings.batch_size, 1, None), ("--image-size", settings.image_size, 1, None),
                ("--cycle-weight", settings.cycle_weight, 0, None),
                ("--identity-fraction", settings.identity_fraction, 0, None),
                ("--pool-size", settings.pool_size, 0, None), ("--context-slices", settings.context_slices, 0, None))
    settings = replace(settings, data_a=str(Path(settings.data_a).resolve()),
                       data_b=str(Path(settings.data_b).resolve()), epochs=settings.epochs or DEFAULT_EPOCHS,
                       lr=settings.lr or LEARNING_RATE, name_a=settings.name_a or settings.kind_a.upper(),
                       name_b=settings.name_b or settings.kind_b.upper())
    for kind, window in ((settings.kind_a, settings.window_a), (settings.kind_b, settings.window_b)):
        domain_window(kind, window)  # refuse a bad kind or window before any data is read
    return settings, {"architecture": ARCHITECTURE, **settings.to_run_file(), "schedule": _schedule(settings),
                      "networks": _network_settings(settings)}


def _resumed(settings: CycleGANTrainingSettings, run_dir: Path):
    """The saved run with the changes a resume may make: the epochs, their decay and the learning rate (which
    run.json records with the epoch it took effect after)."""
    stored = read_run_file(run_dir, CycleGANTrainingSettings.RUN_FILE_KEYS, CycleGANTrainingSettings.KIND)
    if stored["architecture"] != ARCHITECTURE:
        raise InputError(f"The run in '{run_dir}' is not a CycleGAN run.")
    saved = CycleGANTrainingSettings.from_run_file(stored)
    data = {side: str(Path(folder).resolve()) if folder else None  # run.json keeps them absolute
            for side, folder in (("data_a", settings.data_a), ("data_b", settings.data_b))}
    resumed = replace(settings, **data).resumed_from(saved, {*stored, *stored["networks"]})
    # The schedule follows the (possibly extended) run: by default its second half decays.
    stored.update(epochs=resumed.epochs, decay_epochs=resumed.decay_epochs, schedule=_schedule(resumed))
    if resumed.lr != saved.lr:  # e.g. a lower rate to fine-tune
        stored["lr"] = resumed.lr
        record_learning_rate_change(stored, run_dir, lr=resumed.lr)
    return resumed, stored


def _schedule(settings: CycleGANTrainingSettings) -> list[int]:
    """[constant, decaying] epochs of the run; ``decay_epochs`` None (the default) decays the second half."""
    from MedGANSynthLib.cyclegan.schedule import split_epochs

    return list(split_epochs(settings.epochs, settings.decay_epochs))


def _network_settings(settings: CycleGANTrainingSettings) -> dict[str, Any]:
    """run.json's "networks": the checked CycleGANNetworkSettings (channels = 2 x context slices + 1)."""
    from MedGANSynthLib.cyclegan.networks import CycleGANNetworkSettings

    networks = CycleGANNetworkSettings(channels=2 * settings.context_slices + 1,
                                       **{name: getattr(settings, name) for name in NETWORK_FIELDS})
    networks.validate()
    return asdict(networks)


# ---- data and weights --------------------------------------------------------------------------------------------
def _unpaired_dataset(settings: CycleGANTrainingSettings):
    """The unpaired data set of the run, prepared exactly as training sees it."""
    from MedGANSynthLib.cyclegan.dataset import UnpairedDataset, domain_window, load_domain

    domains = [load_domain(folder, kind, name, settings.image_size, settings.context_slices,
                           domain_window(kind, window), option=f"--data-{side}")
               for side, folder, kind, name, window in (
                   ("a", settings.data_a, settings.kind_a, settings.name_a, settings.window_a),
                   ("b", settings.data_b, settings.kind_b, settings.name_b, settings.window_b))]
    return UnpairedDataset(*domains, seed=settings.seed)


def _training_data(dataset, stored: dict[str, Any]) -> dict[str, Any]:
    counts = {f"{side}_images": int(len(domain.images))
              for side, domain in (("a", dataset.domain_a), ("b", dataset.domain_b))}
    return {"source": f"{stored['data_a']} | {stored['data_b']}", "patients": None, "counts": counts,
            "description": f"Unpaired images: A = {dataset.domain_a.name} from {stored['data_a']}, B = "
                           f"{dataset.domain_b.name} from {stored['data_b']} (describe their origin here; "
                           "phantoms or patients).", "dataset": dataset.describe()}


def _exporter(dataset, networks, stored: dict[str, Any]):
    """The finish hook: both generators as safetensors + model card (cyclegan/weights.py), with the input check's
    cycle-error band when domain A is CT."""
    from MedGANSynthLib.cyclegan.input_check import BAND_KEY, training_band
    from MedGANSynthLib.cyclegan.weights import save_cyclegan

    def export(g_ab, g_ba, run_dir: Path, summary: dict[str, Any]) -> list[Path]:
        metrics = {"final_epoch": {k: v for k, v in summary.get("final_epoch_losses", {}).items()
                                   if isinstance(v, (int, float))},
                   "training": {k: stored.get(k) for k in ("lr", "batch_size", "seed", "epochs", "schedule",
                                                           "decay_epochs", "cycle_weight", "identity_fraction",
                                                           "pool_size", "learning_rate_changes")}}
        if dataset.domain_a.window.units == "HU":  # the input check's reference (cyclegan/input_check.py)
            metrics[BAND_KEY] = training_band(g_ab, g_ba, dataset.domain_a.window, dataset.domain_a.images,
                                              f"{len(dataset.domain_a.images)} training slices of domain A "
                                              f"({stored['data_a']})")
        folder = run_dir / "weights"
        folder.mkdir(parents=True, exist_ok=True)
        return list(save_cyclegan(g_ab, g_ba, networks, dataset.domain_a, dataset.domain_b, folder,
                                  _training_data(dataset, stored), epochs=int(summary["epochs"]), metrics=metrics))

    return export
