"""Train one of the papers' GANs from Python: :func:`train_gan` does all that ``medgansynth train`` does but read
flags and print (the command is a thin layer over it).

    from MedGANSynthLib.gan.training_settings import GanTrainingSettings
    from MedGANSynthLib.gan.training_run import train_gan
    summary = train_gan(GanTrainingSettings(architecture="ct_gan", data="CT/", output="runs/ct", epochs=2))

The run folder keeps ``run.json`` (the settings, so a resume rebuilds exactly the same networks), the checkpoint,
loss tables and pictures (see :mod:`MedGANSynthLib.training.engine`) and, when finished,
``weights/<architecture>.safetensors`` + ``.json`` model card. Runs on several processes under torchrun (DDP).
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.gan.training_settings import ARCHITECTURE_NAMES, ARCHITECTURE_TITLES, GanTrainingSettings
from MedGANSynthLib.jobs.progress import CancelToken, ProgressCallback
from MedGANSynthLib.training.augmentation_policy import augment_policy_names, parse_augment_policy
from MedGANSynthLib.training.run_file import read_run_file, record_learning_rate_change
from MedGANSynthLib.training.settings import (
    check_positive,
    check_range,
    check_run_folder,
    read_settings,
    refuse_other_architecture_options,
)

_NETWORK_FIELDS = ("image_size", "width", "discriminator_norm", "auxiliary_classifier", "minibatch_std",
                   "discriminator_dropout", "latent_coordinates", "class_projection", "class_batchnorm",
                   "generator_upsampling", "global_latent")
"""The settings that shape the networks: a warm start takes them from the model card instead."""


def train_gan(settings: GanTrainingSettings, *, resume: bool = False, overwrite: bool = False,
              progress: ProgressCallback | None = None, cancel: CancelToken | None = None) -> dict[str, Any]:
    """Train (or with ``resume`` continue) the GAN run in ``settings.output``; returns a JSON-able summary.

    A resume rebuilds the run from its run.json: pass the settings of :func:`read_gan_settings` with any of
    epochs, lr, lr_d and generator_ema changed (anything else changed is refused). ``overwrite`` starts afresh in a
    folder that holds a run. Cancel through ``cancel``: the engine stops between steps, keeping its checkpoint.
    """
    from MedGANSynthLib.gan.task import GANTask, GANTaskSettings
    from MedGANSynthLib.networks.registry import build_gan, config_to_dict
    from MedGANSynthLib.training.distributed import context_from_env
    from MedGANSynthLib.training.engine import fit_in_run_folder, seed_everything
    from MedGANSynthLib.training.optimizers import paper_settings

    context = context_from_env()
    run_dir = settings.run_dir
    settings, stored, start = resolve_gan_run(settings, resume=resume, overwrite=overwrite)
    architecture = settings.architecture
    optimizer = paper_settings(architecture, lr=settings.lr, lr_discriminator=settings.lr_d)
    settings = replace(settings, epochs=settings.epochs or optimizer.epochs,
                       batch_size=settings.batch_size or optimizer.batch_size)
    stored.update(epochs=settings.epochs, batch_size=settings.batch_size)

    dataset = dataset_for_run(architecture, stored)
    network_config = dict(stored["network_config"])
    if architecture == "radiogan":
        network_config["num_classes"] = dataset.num_classes
    if list(dataset.image_shape) != list(_image_shape(architecture, network_config)):
        raise InputError(f"The data give images of shape {dataset.image_shape} but the network makes "
                         f"{_image_shape(architecture, network_config)}; check --image-size.")
    seed_everything(settings.seed)  # same initial weights for the same seed (DDP also broadcasts rank 0's)
    generator, discriminator, config = build_gan(architecture, network_config)
    stored["network_config"] = config_to_dict(config)
    if start is not None:  # a resumed run takes its weights from the checkpoint
        _warm_start(start, stored, dataset, generator, discriminator)
    task = GANTask(generator, discriminator, optimizer,
                   GANTaskSettings(loss=settings.loss, n_critic=settings.n_critic,
                                   auxiliary_class_weight=settings.auxiliary_classifier or 0.0,
                                   mismatched_labels=bool(settings.mismatched_labels),
                                   hardest_mismatch=bool(settings.hardest_mismatch),
                                   generator_ema=settings.generator_ema or 0.0,
                                   augment=augment_policy_names(settings.augment)),
                   export=_weights_exporter(architecture, dataset, stored))
    result = fit_in_run_folder(task, dataset, settings, run_dir, stored, context, resume=resume, overwrite=overwrite,
                               amp=not settings.no_amp, progress=progress, cancel=cancel)
    return {
        "run_dir": str(run_dir), "architecture": architecture, "epochs": result.epochs_completed,
        "global_step": result.global_step, "batch_size": settings.batch_size, "world_size": context.world_size,
        "images": len(dataset), "classes": dataset.class_names, "checkpoint": str(result.checkpoint),
        "weights": result.exported, "images_per_second": result.images_per_second,
        "seconds_per_epoch": result.seconds_per_epoch, "last_losses": result.last_losses, "files": result.files,
    }


def read_gan_settings(output: str | Path, **invocation: Any) -> GanTrainingSettings:
    """The settings of the GAN run in ``output`` (its run.json, also one written by an older version)."""
    return read_settings(GanTrainingSettings, output, GanTrainingSettings.RUN_FILE_KEYS, **invocation)


# ---- settings --------------------------------------------------------------------------------------------------
def resolve_gan_run(settings: GanTrainingSettings, *, resume: bool = False, overwrite: bool = False):
    """Check ``settings`` and work out the run: (settings, run.json contents, warm start or None). When resuming,
    the settings come from run.json (the networks must match the checkpoint) with the allowed changes applied."""
    run_dir = settings.run_dir
    check_run_folder(run_dir, resume=resume, overwrite=overwrite)
    _check_generator_ema(settings.generator_ema)
    check_positive(("--lr-d", settings.lr_d), ("--auxiliary-classifier", settings.auxiliary_classifier))
    settings.check_run_options()
    if settings.augment is not None:  # the Python API may spell it as the flag may (e.g. 'cutout, translation')
        settings = replace(settings, augment=parse_augment_policy(settings.augment))
    if resume:
        return _resumed(settings, run_dir)
    start = None
    if settings.init_weights:
        settings, start = _apply_warm_start_settings(settings)
    if settings.architecture is None:
        raise InputError(f"Pass --architecture ({', '.join(ARCHITECTURE_NAMES)}); only --resume and "
                         "--init-weights may leave it out.")
    if settings.architecture == "cyclegan":  # two folders, image to image: its own API (cyclegan/training_run.py)
        raise InputError("A CycleGAN trains on two unpaired folders: run 'medgansynth train-cyclegan --data-a DIR "
                         "--data-b DIR -o RUN'.")
    if settings.architecture not in ARCHITECTURE_NAMES:
        raise InputError(f"Unknown architecture '{settings.architecture}'; choose one of "
                         f"{', '.join(ARCHITECTURE_NAMES)}.")
    if not settings.data:
        raise InputError("Pass --data with the training images (only --resume may leave it out).")
    check_range(("--batch-size", settings.batch_size, 1, None), ("--n-critic", settings.n_critic, 1, None))
    refuse_other_architecture_options(settings, settings.architecture, ARCHITECTURE_TITLES)
    check_range(("--global-latent", settings.global_latent, 0, None))
    settings = _with_resolved_paths(settings)
    network_config = (start.network_config if start else
                      _network_overrides(settings.architecture, settings.image_size, settings.width,
                                         settings.discriminator_norm, _network_options(settings)))
    stored = {**settings.to_run_file(), "network_config": network_config,
              "init_weights": start.record() if start else None}
    return settings, stored, start


def _resumed(settings: GanTrainingSettings, run_dir: Path):
    """The saved run with the changes a resume may make: the weight average and the learning rates (which
    run.json records with the epoch they took effect after)."""
    if settings.init_weights:
        raise InputError("--init-weights starts a new run from saved weights; --resume continues a run from its "
                         "checkpoint. Pass one of them.")
    stored = read_run_file(run_dir, GanTrainingSettings.RUN_FILE_KEYS)
    if settings.augment and "augment" not in stored:  # older than the option: it trained without augmentation
        raise InputError(f"--resume continues the run with the settings in its run.json; the run in '{run_dir}' "
                         "trained without --augment, so leave it out.")
    saved = GanTrainingSettings.from_run_file(stored)
    if settings.architecture not in (None, saved.architecture):
        raise InputError(f"The run in '{run_dir}' trains '{saved.architecture}', not '{settings.architecture}'.")
    resumed = _with_resolved_paths(settings).resumed_from(saved, stored)
    if settings.lr is not None and settings.lr_d is None:
        resumed = replace(resumed, lr_d=None)  # --lr alone sets both networks' rates, as at the start
    stored.update(epochs=resumed.epochs, generator_ema=resumed.generator_ema)
    if (resumed.lr, resumed.lr_d) != (saved.lr, saved.lr_d):
        _change_learning_rates(stored, resumed.lr, resumed.lr_d, run_dir)
    return resumed, stored, None


def _with_resolved_paths(settings: GanTrainingSettings) -> GanTrainingSettings:
    """Data and labels as absolute paths, as run.json keeps them."""
    return replace(settings, data=str(Path(settings.data).resolve()) if settings.data else None,
                   labels=str(Path(settings.labels).resolve()) if settings.labels else None)


def _apply_warm_start_settings(settings: GanTrainingSettings):
    """--init-weights: the architecture, networks and window come from the model card; options that would build
    other networks are refused rather than silently ignored."""
    from MedGANSynthLib.training.warm_start import read_warm_start

    shaping = [name for name in _NETWORK_FIELDS
               if getattr(settings, name) != GanTrainingSettings.__dataclass_fields__[name].default]
    if shaping:
        names = [f"--{name.replace('_', '-')}" for name in shaping]
        raise InputError(f"--init-weights takes the networks from the model card; leave out {', '.join(names)}.")
    start = read_warm_start(settings.init_weights)
    if settings.architecture not in (None, start.architecture):
        raise InputError(f"{Path(start.path).name} is a '{start.architecture}' model, not '{settings.architecture}'.")
    changes: dict[str, Any] = {"architecture": start.architecture}
    if settings.stage is None and start.architecture == "brain_dcgan":
        changes["stage"] = start.class_names[0]
    if settings.window is None and start.window_units:  # a physical window (grey-value PNGs have their own)
        changes["window"] = [float(v) for v in start.window]
    return replace(settings, **changes), start


def _warm_start(start, stored: dict[str, Any], dataset, generator, discriminator) -> None:
    """Check the data against the card read by _apply_warm_start_settings and load its weights."""
    from MedGANSynthLib.training.warm_start import check_data_matches, load_warm_start_weights

    check_data_matches(start, dataset.class_names, (dataset.window.low, dataset.window.high),
                       conditional=generator.num_classes > 0)
    stored["init_weights"]["discriminator"] = load_warm_start_weights(start, generator, discriminator)


def _change_learning_rates(stored: dict[str, Any], lr: float | None, lr_d: float | None, run_dir: Path) -> None:
    """Continue a run at new learning rates (e.g. lower ones to fine-tune); run.json keeps each change with the
    epoch it took effect after."""
    from MedGANSynthLib.training.optimizers import paper_settings

    stored.update(lr=lr, lr_d=lr_d)
    rates = paper_settings(stored["architecture"], lr=lr, lr_discriminator=lr_d)
    record_learning_rate_change(stored, run_dir, lr_generator=rates.lr_generator,
                                lr_discriminator=rates.lr_discriminator)


def _check_generator_ema(decay: float | None) -> None:
    if decay is not None and not 0.0 <= decay < 1.0:
        raise InputError(f"--generator-ema is a decay per step in [0, 1), e.g. 0.999 (got {decay}).")


def _network_options(settings: GanTrainingSettings) -> dict[str, Any]:
    """The network-config entries of the settings that change the architectures' defaults."""
    options: dict[str, Any] = {}
    if settings.auxiliary_classifier:
        options["auxiliary_classifier"] = True
    if settings.minibatch_std:
        options["minibatch_std"] = True
    if settings.discriminator_dropout is not None:
        options["discriminator_dropout"] = settings.discriminator_dropout
    if settings.latent_coordinates:
        options["latent_coordinates"] = True
    if settings.class_projection:
        options["class_projection"] = True
    if settings.class_batchnorm:
        options["generator_class_norm"] = True
    if settings.generator_upsampling:
        options["generator_upsampling"] = settings.generator_upsampling
    if settings.global_latent:
        options["global_latent_channels"] = settings.global_latent
    return options


def _network_overrides(architecture: str, image_size: str | None, width: float | None,
                       discriminator_norm: str | None = None, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    from MedGANSynthLib.networks.registry import config_from_dict, config_to_dict

    values: dict[str, Any] = {"discriminator_norm": discriminator_norm} if discriminator_norm else {}
    values.update(extra or {})
    if image_size:
        height, width_px = parse_size(image_size)
        if architecture == "brain_dcgan":
            if height != width_px:
                raise InputError(f"The brain DCGAN makes square images; give --image-size N, not {image_size}.")
            values["image_size"] = height
        else:
            values.update(image_height=height, image_width=width_px)
    if width is not None:
        if not 0 < width <= 16:
            raise InputError(f"--width must be a factor between 0 and 16 (got {width}).")
        defaults = config_to_dict(config_from_dict(architecture, {}))
        for key, value in defaults.items():
            if _is_width_setting(key):
                scaled = [max(1, round(v * width)) for v in value] if isinstance(value, list) else \
                    max(1, round(value * width))
                values[key] = scaled
    return config_to_dict(config_from_dict(architecture, values)) if values else {}


def _is_width_setting(key: str) -> bool:
    """Channel counts of hidden layers (not the image's channels nor the latent's)."""
    return (key.endswith("_channels") and "latent" not in key) or key == "discriminator_dense"


def parse_size(text: str) -> tuple[int, int]:
    """--image-size: 'HxW' or 'N' (square) as (height, width)."""
    match = re.fullmatch(r"\s*(\d+)\s*(?:[xX×]\s*(\d+))?\s*", text)
    if not match:
        raise InputError(f"--image-size must look like 160x96 or 128, got '{text}'.")
    height = int(match.group(1))
    width = int(match.group(2) or height)
    if height < 1 or width < 1:
        raise InputError(f"--image-size must be positive, got '{text}'.")
    return height, width


def _image_shape(architecture: str, network_config: dict[str, Any]) -> tuple[int, int, int]:
    from MedGANSynthLib.networks.registry import config_from_dict

    return tuple(config_from_dict(architecture, network_config).image_shape)


# ---- data and weights --------------------------------------------------------------------------------------------
def dataset_for_run(architecture: str, settings: dict[str, Any]):
    """The training data set of a run's settings (run.json), prepared exactly as training sees it."""
    from MedGANSynthLib.networks.registry import config_from_dict
    from MedGANSynthLib.preprocessing.windows import CT_GAN_WINDOW, RADIOGAN_SUV_WINDOW
    from MedGANSynthLib.training.datasets import (
        BRAIN_PET_SUV_WINDOW,
        BrainSliceDataset,
        CTSliceDataset,
        ImageFolderDataset,
    )

    config = config_from_dict(architecture, settings["network_config"])
    size = tuple(config.image_shape[1:])
    data, labels = settings["data"], settings["labels"]
    if architecture == "radiogan":
        # tanh output (Amyar et al.): SUV [0, 30] onto [-1, 1] (the paper's [0, 1] scaling, stretched to tanh's range)
        window = _chosen_window(RADIOGAN_SUV_WINDOW, settings.get("window"), (-1.0, 1.0))
        dataset = ImageFolderDataset(data, labels, size, window)
        if settings.get("window") and dataset.window.units != window.units:
            raise InputError("--window is in SUV, but these MIPs are PNG grey values; leave it out, or train on "
                             "NRRD/NIfTI MIPs in SUV.")
        return dataset
    if architecture == "brain_dcgan":
        window = _chosen_window(BRAIN_PET_SUV_WINDOW, settings.get("window"), (-1.0, 1.0))
        dataset = BrainSliceDataset(data, labels, settings["stage"], size, window)
        if dataset.num_classes > 1:
            raise InputError("The brain DCGAN trains one model per stage (Islam & Zhang); pass --stage, e.g. --stage AD.")
        return dataset
    window = _chosen_window(CT_GAN_WINDOW, settings.get("window"), (config.output_low, config.output_high))
    return CTSliceDataset(data, size, window)


def _chosen_window(default, low_high: list[float] | None, output_range: tuple[float, float]):
    """The architecture's default window, or the user's --window bounds under the same name and units."""
    from MedGANSynthLib.training.datasets import window_for_output

    window = default if low_high is None else replace(default, name=f"{default.name} (user window)",
                                                      low=float(low_high[0]), high=float(low_high[1]))
    return window_for_output(window, output_range)


def _training_data_summary(data: str, images: int, counts: dict) -> dict[str, Any]:
    """Say plainly whether the images were phantoms: 'medgansynth dataset' leaves dataset.json beside train/."""
    from MedGANSynthLib.weights.model_card import phantom_training_data

    counts = {str(k): int(v) for k, v in counts.items()}
    for description_file in (Path(data) / "dataset.json", Path(data).parent / "dataset.json"):
        if description_file.is_file():
            built = json.loads(description_file.read_text())
            if "phantom" in str(built.get("source", "")).lower():
                summary = phantom_training_data(counts, f"{images} training images built by 'medgansynth dataset "
                                                        f"{built.get('kind', '')}' (seed {built.get('seed')}).")
                summary["dataset"] = built
                return summary
    return {"source": data, "patients": None, "counts": counts,
            "description": f"{images} training images from {data} (user data; describe its origin here)."}


def _weights_exporter(architecture: str, dataset, stored: dict[str, Any]):
    """The finish hook: safetensors + model card through MedGANSynthLib.weights."""
    from MedGANSynthLib.training.datasets import window_to_dict
    from MedGANSynthLib.weights.model_card import ModelCard
    from MedGANSynthLib.weights.safetensors_io import save_model

    window = window_to_dict(dataset.window)
    kind = {"SUV": "suv", "HU": "hu"}.get(window["units"], "intensity")
    description = dataset.describe()
    # The card's names of the training settings (older than the settings' field names).
    training = {"auxiliary_class_weight": "auxiliary_classifier"}

    def export(generator, discriminator, run_dir: Path, summary: dict[str, Any]) -> list[Path]:
        class_names = list(dataset.class_names) if generator.num_classes else (
            [stored["stage"]] if stored.get("stage") else [])
        counts = description.get("class_counts") or {(class_names[0] if class_names else "all"): len(dataset)}
        card = ModelCard(
            architecture=architecture,
            config={},
            normalisation={"kind": kind, "low": window["low"], "high": window["high"],
                           "output_range": [window["out_low"], window["out_high"]], "window": window["name"]},
            class_names=class_names,
            training_data=_training_data_summary(stored["data"], len(dataset), counts),
            epochs=int(summary["epochs"]),
            metrics={"final_epoch": {k: v for k, v in summary.get("final_epoch_losses", {}).items()
                                     if isinstance(v, (int, float))},
                     "training": {k: stored.get(training.get(k, k), stored.get(k))
                                  for k in ("loss", "lr", "lr_d", "batch_size", "seed", "epochs",
                                            "auxiliary_class_weight", "mismatched_labels", "hardest_mismatch",
                                            "generator_ema", "augment", "learning_rate_changes",
                                            "init_weights")}},
        )
        folder = run_dir / "weights"
        folder.mkdir(parents=True, exist_ok=True)
        return list(save_model({"generator": generator, "discriminator": discriminator}, card, folder))

    return export
