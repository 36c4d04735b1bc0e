"""Train the virtual PET (FCN-4s + pix2pix) from Python: :func:`train_virtual_pet` does all that
``medgansynth train-virtual-pet`` does but read flags and print.

    from MedGANSynthLib.virtual_pet.training_settings import VirtualPETTrainingSettings
    from MedGANSynthLib.virtual_pet.training_run import train_virtual_pet
    summary = train_virtual_pet(VirtualPETTrainingSettings(data="CASES/", output="runs/vpet", epochs=2))

Both networks train in ONE run on the shared engine (MedGANSynthLib.training.engine): every batch updates the FCN-4s
(SUV-weighted L2, Adam 1e-4) and then the pix2pix pair (PatchGAN BCE, or least squares with gan_loss="lsgan", +
100 x SUV-weighted L2, Adam 2e-4, beta1 0.5; lr_d gives the PatchGAN its own rate), so one checkpoint, one resume and one progress display cover the whole model. ``data`` takes a folder of case
folders (ct.*, pet.*, optional lesions.*), autoPET's <patient>/<study>/CTres.nii.gz + SUV.nii.gz + SEG.nii.gz, or a
CSV manifest (ct,pet[,lesions]). At the end: weights/virtual_pet.safetensors + .json card. ``init_weights`` starts
the FCN-4s and the generator from a saved virtual-PET model (a fine-tune; virtual_pet/init_weights.py).
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path
from typing import Any

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.jobs.progress import CancelToken, ProgressCallback
from MedGANSynthLib.training.run_file import read_run_file, record_learning_rate_change
from MedGANSynthLib.training.settings import check_positive, check_range, check_run_folder, read_settings
from MedGANSynthLib.virtual_pet.training_settings import (
    DATASET_FIELDS,
    DEFAULT_EPOCHS,
    GAN_LOSSES,
    NETWORK_FIELDS,
    VirtualPETTrainingSettings,
)


def train_virtual_pet(settings: VirtualPETTrainingSettings, *, resume: bool = False, overwrite: bool = False,
                      progress: ProgressCallback | None = None, cancel: CancelToken | None = None) -> dict[str, Any]:
    """Train (or with ``resume`` continue) the virtual-PET run in ``settings.output``; returns a JSON-able summary.

    A resume rebuilds the run from its run.json; of the settings, only epochs, lr and lr_d may change (a finished
    run may be extended, or continued at other rates; lr alone sets every network's rate, the PatchGAN's too). ``overwrite`` starts afresh in a folder that holds a run.
    """
    from MedGANSynthLib.training.distributed import context_from_env
    from MedGANSynthLib.training.engine import fit_in_run_folder, seed_everything
    from MedGANSynthLib.virtual_pet.cases import discover_cases
    from MedGANSynthLib.virtual_pet.slice_dataset import SliceDatasetConfig, VirtualPETSliceDataset
    from MedGANSynthLib.virtual_pet.training_task import (
        FCN_LR,
        PIX2PIX_LR,
        FCNTask,
        Pix2PixTask,
        VirtualPETNetworkSettings,
        VirtualPETTask,
        build_networks,
        sample_batch_from,
    )

    context = context_from_env()
    run_dir = settings.run_dir
    settings, stored = resolve_virtual_pet_run(settings, resume=resume, overwrite=overwrite)
    networks = VirtualPETNetworkSettings(**stored["networks"])
    dataset_config = SliceDatasetConfig(**stored["dataset"], crop_seed=settings.seed)
    networks.validate()
    dataset_config.validate()
    cases = discover_cases(settings.data, settings.series)
    dataset = VirtualPETSliceDataset(cases, dataset_config, progress=progress if context.is_main else None)
    seed_everything(settings.seed)  # same initial weights for the same seed
    fcn, generator, discriminator = build_networks(networks)
    if stored.get("init_weights") and not resume:  # a resumed run's networks come from its checkpoint
        from MedGANSynthLib.virtual_pet.init_weights import load_init_weights

        load_init_weights(settings.init_weights, stored["init_weights"], fcn, generator)
    sample = sample_batch_from(dataset)
    weighting = {"suv_weight_power": settings.suv_weight_power, "symmetric_suv_weight": settings.symmetric_suv_weight,
                 "overshoot_factor": settings.overshoot_factor, "overshoot_threshold": settings.overshoot_threshold}
    pix2pix = Pix2PixTask(generator, discriminator, settings.lr or PIX2PIX_LR,
                          reconstruction_weight=settings.gan_l2_weight, sample_batch=sample, gan_loss=settings.gan_loss,
                          lr_d=settings.lr_d, **weighting)
    fcn_task = FCNTask(fcn, settings.lr or FCN_LR, sample, **weighting)
    task = VirtualPETTask(fcn_task, pix2pix, sample_batch=sample, export=_exporter(dataset, cases, stored))
    result = fit_in_run_folder(task, dataset, settings, run_dir, stored, context, resume=resume, overwrite=overwrite,
                               progress=progress, cancel=cancel)
    return {"run_dir": str(run_dir), "epochs": result.epochs_completed, "global_step": result.global_step,
            "batch_size": settings.batch_size, "world_size": context.world_size, "data": dataset.describe(),
            "checkpoint": str(result.checkpoint), "weights": result.exported,
            "images_per_second": result.images_per_second, "seconds_per_epoch": result.seconds_per_epoch,
            "last_losses": result.last_losses, "files": result.files}


def read_virtual_pet_settings(output: str | Path, **invocation: Any) -> VirtualPETTrainingSettings:
    """The settings of the virtual-PET run in ``output`` (its run.json, also one written by an older version)."""
    return read_settings(VirtualPETTrainingSettings, output, VirtualPETTrainingSettings.RUN_FILE_KEYS, **invocation)


def resolve_virtual_pet_run(settings: VirtualPETTrainingSettings, *, resume: bool = False, overwrite: bool = False):
    """Check ``settings`` and work out the run: (settings, run.json contents). When resuming, the settings come
    from run.json (the networks must match the checkpoint) with a new epoch count or rates applied."""
    run_dir = settings.run_dir
    check_run_folder(run_dir, resume=resume, overwrite=overwrite)
    settings.check_run_options()
    check_positive(("--lr-d", settings.lr_d))
    if settings.gan_loss not in GAN_LOSSES:
        raise InputError(f"--gan-loss must be one of {', '.join(GAN_LOSSES)} (got '{settings.gan_loss}').")
    if resume:
        if settings.init_weights:
            raise InputError("--init-weights starts a new run from saved weights; --resume continues a run from its "
                             "checkpoint. Pass one of them.")
        stored = read_run_file(run_dir, VirtualPETTrainingSettings.RUN_FILE_KEYS, VirtualPETTrainingSettings.KIND)
        saved = VirtualPETTrainingSettings.from_run_file(stored)
        # Older run files keep only the network settings that were given; the others were the defaults (and runs
        # from before gan_loss or the overshoot factor existed trained with their defaults).
        recorded = {*stored, *NETWORK_FIELDS, *DATASET_FIELDS, "gan_loss", "overshoot_factor", "overshoot_threshold"}
        data = str(Path(settings.data).resolve()) if settings.data else None  # run.json keeps it absolute
        resumed = replace(settings, data=data).resumed_from(saved, recorded)
        if settings.lr not in (None, saved.lr) and settings.lr_d is None:
            resumed = replace(resumed, lr_d=None)  # a new --lr alone sets every rate, as at the start
        stored.setdefault("overshoot_factor", resumed.overshoot_factor)  # the card says what the run trained with
        stored.setdefault("overshoot_threshold", resumed.overshoot_threshold)
        stored["epochs"] = resumed.epochs  # resuming may extend a finished run ...
        if (resumed.lr, resumed.lr_d) != (saved.lr, saved.lr_d):  # ... or continue at other rates (to fine-tune)
            stored.update(lr=resumed.lr, lr_d=resumed.lr_d)
            rates = {"lr": resumed.lr, **({"lr_d": resumed.lr_d} if resumed.lr_d is not None else {})}
            record_learning_rate_change(stored, run_dir, **rates)
        return resumed, stored
    if not settings.data:
        raise InputError("Pass --data with the paired CT/PET cases (only --resume may leave it out).")
    check_range(("--batch-size", settings.batch_size, 1, None), ("--depth", settings.depth, 1, None),
                ("--slice-size", settings.slice_size, 1, None), ("--lesion-repeats", settings.lesion_repeats, 1, None),
                ("--crop-size", settings.crop_size, 1, None), ("--context-slices", settings.context_slices, 0, None))
    if not settings.gan_l2_weight >= 0:
        raise InputError(f"--gan-l2-weight cannot be negative (got {settings.gan_l2_weight}).")
    if not 0 < settings.suv_weight_power <= 4:
        raise InputError(f"--suv-weight-power must be above 0 and at most 4 (got {settings.suv_weight_power}).")
    if not 1 <= settings.overshoot_factor < math.inf:
        raise InputError(f"--overshoot-factor must be a number of at least 1 (1 = off; got {settings.overshoot_factor}).")
    if not 0 < settings.overshoot_threshold < math.inf:
        raise InputError(f"--overshoot-threshold must be a positive SUV (got {settings.overshoot_threshold}).")
    start: dict[str, Any] = {}
    if settings.init_weights:
        from MedGANSynthLib.virtual_pet.init_weights import init_weights_settings

        settings, networks, record = init_weights_settings(settings)
        start = {"networks": networks, "init_weights": record}
    settings = replace(settings, data=str(Path(settings.data).resolve()), epochs=settings.epochs or DEFAULT_EPOCHS)
    return settings, {**settings.to_run_file(), **settings.run_parts(), **start}


def training_data_summary(dataset, cases, data: str) -> dict[str, Any]:
    """State plainly whether the cases were MedGANSynth phantoms (their manifest.json says so) or user data."""
    from MedGANSynthLib.weights.model_card import phantom_training_data

    description = dataset.describe()
    counts = {"cases": description["cases"], "body_slices": description["body_slices"],
              "lesion_slices": description["lesion_slices"]}
    if all(_is_phantom_case(case.ct_path.parent) for case in cases):
        summary = phantom_training_data(counts, f"{description['cases']} whole-body PET/CT phantom cases written by "
                                                "'medgansynth phantoms --kind wholebody'.")
    else:
        summary = {"source": data, "patients": None, "counts": counts,
                   "description": f"{description['cases']} paired CT/PET cases from {data} (user data; describe "
                                  "their origin here)."}
    summary["dataset"] = description
    return summary


def _is_phantom_case(folder: Path) -> bool:
    manifest = folder / "manifest.json"
    if not manifest.is_file():
        return False
    try:
        return str(json.loads(manifest.read_text()).get("generator", "")).startswith("wholebody")
    except (OSError, ValueError):
        return False


def _exporter(dataset, cases, stored: dict[str, Any]):
    from MedGANSynthLib.virtual_pet.weights import save_virtual_pet

    data_summary = training_data_summary(dataset, cases, stored["data"])

    def export(fcn, generator, run_dir: Path, summary: dict[str, Any]) -> list[Path]:
        metrics = {"final_epoch": {k: v for k, v in summary.get("final_epoch_losses", {}).items()
                                   if isinstance(v, (int, float))},
                   "training": {k: stored.get(k) for k in ("lr", "lr_d", "gan_loss", "batch_size", "seed", "epochs",
                                                           "gan_l2_weight",
                                                           "suv_weight_power", "symmetric_suv_weight",
                                                           "overshoot_factor", "overshoot_threshold",
                                                           "learning_rate_changes", "init_weights")}}
        folder = run_dir / "weights"
        folder.mkdir(parents=True, exist_ok=True)
        return list(save_virtual_pet(fcn, generator, folder, data_summary, working_pixel_mm=dataset.pixel_mm,
                                     epochs=int(summary["epochs"]), metrics=metrics))

    return export
