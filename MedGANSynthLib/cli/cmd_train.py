"""``medgansynth train``: train one of the papers' GANs on a folder of images, resumable, single- or multi-process.

    medgansynth train --architecture radiogan --data MIPS/ -o runs/radiogan
    torchrun --nproc_per_node=2 -m MedGANSynthLib train --architecture ct_gan --data CT/ -o runs/ct

The run folder keeps ``run.json`` (the settings, so ``--resume`` rebuilds exactly the same networks), the
checkpoint, loss tables and pictures (see :mod:`MedGANSynthLib.training.engine`) and, when finished,
``weights/<architecture>.safetensors`` + ``.json`` model card.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

from MedGANSynthLib.cli.main import (
    apply_training_run_options,
    check_at_least_one,
    check_not_negative,
    check_positive,
    training_run_folder,
)
from MedGANSynthLib.cli.window_option import parse_window
from MedGANSynthLib.errors import InputError
from MedGANSynthLib.training.run_file import read_run_file, record_learning_rate_change, write_run_file

ARCHITECTURE_NAMES = ("radiogan", "brain_dcgan", "ct_gan")
LOSS_NAMES = ("bce", "wgan-gp", "hinge")
# Settings --resume takes from run.json rather than from the command line (they define the networks and data).
_RUN_KEYS = ("architecture", "data", "labels", "stage", "loss", "lr", "n_critic", "batch_size", "seed",
             "checkpoint_every", "network_config")


def register(subparsers) -> None:
    from MedGANSynthLib.cli.main import add_common_options, add_training_run_options

    parser = subparsers.add_parser(
        "train",
        help="train a GAN (RadioGAN, brain-PET DCGAN or CT GAN) on a data folder",
        description="Train a GAN with the paper's defaults (optimiser, learning rate, batch size, epochs); every "
        "setting can be overridden. Checkpoints every --checkpoint-every epochs; --resume continues the same "
        "run exactly. Runs on several processes with torchrun (DDP).",
    )
    parser.add_argument("--architecture", help=f"one of {', '.join(ARCHITECTURE_NAMES)} (--resume reads it from the run)")
    parser.add_argument("--data", help="data folder: MIP PNG/NRRD images (radiogan), PET volumes (brain_dcgan) "
                        "or CT volumes / DICOM folders (ct_gan); optional labels.csv (file,label)")
    parser.add_argument("-o", "--output", required=True, help="run folder (created; holds checkpoints and weights)")
    parser.add_argument("--labels", help="labels CSV with columns file,label (default: DATA/labels.csv if present)")
    parser.add_argument("--stage", help="brain_dcgan: train on the volumes of this stage only (e.g. NC, MCI, AD)")
    parser.add_argument("--epochs", type=int, help="epochs (paper: radiogan 300, brain_dcgan 500)")
    parser.add_argument("--batch-size", type=int, help="images per step (paper: brain_dcgan 64, ct_gan 16)")
    parser.add_argument("--lr", type=float, help="learning rate of both networks (default: the paper's); with "
                        "--resume, the run continues at this rate (e.g. a lower one to fine-tune)")
    parser.add_argument("--lr-d", type=float, default=None,
                        help="discriminator learning rate when it should differ from --lr (default: the paper's); "
                             "with --resume, like --lr")
    parser.add_argument("--loss", choices=LOSS_NAMES, default=None, help="adversarial loss (default bce)")
    parser.add_argument("--n-critic", type=int, help="discriminator steps per generator step (wgan-gp: 5)")
    parser.add_argument("--image-size", help="image size HxW (e.g. 160x96) or N for square images")
    parser.add_argument("--width", type=float, help="multiply every channel count of both networks (e.g. 0.25)")
    parser.add_argument("--discriminator-norm", choices=("batch", "spectral", "none"), default=None,
                        help="normalisation in the discriminator (default: the paper's; the bundled models use "
                        "spectral, see the README)")
    parser.add_argument("--auxiliary-classifier", type=float, metavar="WEIGHT",
                        help="radiogan: add an AC-GAN class head to the discriminator, its cross-entropy weighted by "
                             "WEIGHT (e.g. 1); not in the paper")
    parser.add_argument("--window", metavar="LOW,HIGH",
                        help="intensity window mapped onto the generator's output range, in the data's units "
                             "(default: radiogan SUV 0,30 as in the paper; brain_dcgan SUV 0,15; ct_gan HU "
                             "-1000,1000); e.g. 0,10 gives whole-body MIPs, mostly below SUV 3, more contrast; write a "
                             "negative LOW as --window=-160,240")
    parser.add_argument("--discriminator-dropout", type=float, metavar="P",
                        help="radiogan, ct_gan: dropout rate of the discriminator (paper: 0.25 and 0.6); "
                             "--minibatch-std needs 0")
    parser.add_argument("--minibatch-std", action="store_true",
                        help="let the discriminator see the batch's spread (fights mode collapse); not in the papers")
    parser.add_argument("--class-projection", action="store_true",
                        help="radiogan: projection discriminator, which judges real-or-fake per class on its final "
                             "features (Miyato & Koyama 2018); not in the paper")
    parser.add_argument("--mismatched-labels", action="store_true",
                        help="radiogan: also show the discriminator real images with a wrong class as fakes "
                             "(matching-aware discriminator, Reed et al. 2016), so it must check the class; not in "
                             "the paper")
    parser.add_argument("--hardest-mismatch", action="store_true",
                        help="radiogan, with --mismatched-labels: show each real image with the wrong class the "
                             "discriminator currently finds most believable rather than a random one (hard "
                             "negatives; one extra discriminator pass per class); not in the paper")
    parser.add_argument("--class-batchnorm", action="store_true",
                        help="radiogan: class-conditional BatchNorm after every generator up-sampling, so the class "
                             "reaches every resolution (de Vries et al. 2017); not in the paper")
    parser.add_argument("--generator-upsampling", choices=("transposed", "resize"),
                        help="radiogan, brain_dcgan: the papers' transposed convolutions (default) or nearest "
                             "resize + 3x3 conv, which cannot paint a checkerboard; not in the papers")
    parser.add_argument("--generator-ema", type=float, metavar="DECAY",
                        help="keep an exponential moving average of the generator's weights with this decay per "
                             "step (e.g. 0.999) and export it instead of the last weights; may be switched on when "
                             "resuming (the average then starts from the resumed weights); 0 = off; not in the "
                             "papers")
    parser.add_argument("--latent-coordinates", action="store_true",
                        help="ct_gan: give the fully convolutional generator each latent cell's position, so it "
                             "can lay out a whole slice rather than a texture; not in the paper")
    parser.add_argument("--global-latent", type=int, metavar="N",
                        help="ct_gan: N latent numbers shared by the whole latent map, for what the whole slice must "
                             "agree on (body size); not in the paper")
    parser.add_argument("--init-weights", metavar="MODEL",
                        help="start from saved weights (a bundled model id such as radiogan-phantom, or a "
                             ".safetensors file with its card) and fine-tune them on --data: the networks and the "
                             "window come from the model card, the data must have the same classes; a lower --lr "
                             "suits a fine-tune")
    parser.add_argument("--no-amp", action="store_true", help="no mixed precision on CUDA")
    add_training_run_options(parser)
    add_common_options(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> dict[str, Any]:
    from MedGANSynthLib.cli.progress_display import progress_display
    from MedGANSynthLib.gan.task import GANTask, GANTaskSettings
    from MedGANSynthLib.networks.registry import build_gan, config_to_dict
    from MedGANSynthLib.training.distributed import context_from_env
    from MedGANSynthLib.training.engine import Trainer, TrainerConfig, seed_everything
    from MedGANSynthLib.training.optimizers import paper_settings

    context = context_from_env()
    apply_training_run_options(args)
    run_dir = Path(args.output)
    settings = _run_settings(args, run_dir)
    architecture = settings["architecture"]
    optimizer = paper_settings(architecture, lr=settings["lr"], lr_discriminator=settings.get("lr_d"))
    epochs = args.epochs if args.epochs is not None else settings.get("epochs") or optimizer.epochs
    batch_size = settings["batch_size"] or optimizer.batch_size
    settings.update(epochs=epochs, batch_size=batch_size)

    dataset = dataset_for_run(architecture, settings)
    network_config = dict(settings["network_config"])
    if architecture == "radiogan":
        network_config["num_classes"] = dataset.num_classes
    if list(dataset.image_shape) != list(_image_shape(architecture, network_config)):
        raise InputError(f"The data give images of shape {dataset.image_shape} but the network makes "
                         f"{_image_shape(architecture, network_config)}; check --image-size.")
    seed_everything(settings["seed"])  # same initial weights for the same seed (DDP also broadcasts rank 0's)
    generator, discriminator, config = build_gan(architecture, network_config)
    settings["network_config"] = config_to_dict(config)
    if settings.get("init_weights") and not args.resume:  # a resumed run takes its weights from the checkpoint
        _warm_start(args.warm_start, settings, dataset, generator, discriminator)
    with training_run_folder(args, context.is_main):
        if context.is_main:
            write_run_file(run_dir, settings)
        task = GANTask(generator, discriminator, optimizer,
                       GANTaskSettings(loss=settings["loss"], n_critic=settings["n_critic"],
                                       auxiliary_class_weight=settings.get("auxiliary_class_weight") or 0.0,
                                       mismatched_labels=bool(settings.get("mismatched_labels")),
                                       hardest_mismatch=bool(settings.get("hardest_mismatch")),
                                       generator_ema=settings.get("generator_ema") or 0.0),
                       export=_weights_exporter(architecture, dataset, settings))
        trainer = Trainer(TrainerConfig(run_dir=run_dir, epochs=epochs, batch_size=batch_size, seed=settings["seed"],
                                        device=args.device, checkpoint_every=settings["checkpoint_every"],
                                        checkpoint_steps=args.checkpoint_steps, resume=args.resume,
                                        amp=not args.no_amp, num_workers=args.workers), context)
        with progress_display(args.progress_lines) as show:
            result = trainer.fit(task, dataset, progress=show)
    if not context.is_main:
        args.json, args.quiet = False, True  # one JSON summary and closing line per run, from rank 0
    return {
        "run_dir": str(run_dir), "architecture": architecture, "epochs": result.epochs_completed,
        "global_step": result.global_step, "batch_size": batch_size, "world_size": context.world_size,
        "images": len(dataset), "classes": dataset.class_names, "checkpoint": str(result.checkpoint),
        "weights": result.exported, "images_per_second": result.images_per_second,
        "seconds_per_epoch": result.seconds_per_epoch, "last_losses": result.last_losses, "files": result.files,
    }


# ---- settings --------------------------------------------------------------------------------------------------
def _run_settings(args: argparse.Namespace, run_dir: Path) -> dict[str, Any]:
    """The run's settings: from run.json when resuming (the networks must match the checkpoint), else the CLI."""
    from MedGANSynthLib.training.checkpoint import checkpoint_path

    if not args.resume and not args.overwrite and checkpoint_path(run_dir).exists():
        raise InputError(f"-o/--output '{run_dir}' already holds a training run; pass --resume to continue it, "
                         "--overwrite to start afresh, or choose a new folder.")
    _check_generator_ema(args.generator_ema)
    check_positive(("--lr", args.lr), ("--lr-d", args.lr_d), ("--auxiliary-classifier", args.auxiliary_classifier))
    if args.resume:
        if args.init_weights:
            raise InputError("--init-weights starts a new run from saved weights; --resume continues a run from its "
                             "checkpoint. Pass one of them.")
        saved = read_run_file(run_dir, _RUN_KEYS)
        if args.architecture not in (None, saved["architecture"]):
            raise InputError(f"The run in '{run_dir}' trains '{saved['architecture']}', not '{args.architecture}'.")
        # Settings a resumed run may change, as they do not touch the networks: the weight average and the rates.
        if args.generator_ema is not None:
            saved["generator_ema"] = args.generator_ema
        if args.lr is not None or args.lr_d is not None:
            _change_learning_rates(saved, args.lr, args.lr_d, run_dir)
        return saved
    if args.init_weights:
        _apply_warm_start_settings(args)
    if args.architecture is None:
        raise InputError(f"Pass --architecture ({', '.join(ARCHITECTURE_NAMES)}); only --resume and "
                         "--init-weights may leave it out.")
    if args.architecture == "cyclegan":  # image-to-image on two folders: its own command (cmd_train_cyclegan.py)
        raise InputError("A CycleGAN trains on two unpaired folders: run 'medgansynth train-cyclegan --data-a DIR "
                         "--data-b DIR -o RUN'.")
    if args.architecture not in ARCHITECTURE_NAMES:
        raise InputError(f"Unknown architecture '{args.architecture}'; choose one of {', '.join(ARCHITECTURE_NAMES)}.")
    if not args.data:
        raise InputError("Pass --data with the training images (only --resume may leave it out).")
    check_at_least_one(*((f"--{name.replace('_', '-')}", getattr(args, name))
                         for name in ("epochs", "batch_size", "checkpoint_every", "n_critic")))
    for option, value in (("--auxiliary-classifier", args.auxiliary_classifier),
                          ("--class-projection", args.class_projection), ("--class-batchnorm", args.class_batchnorm),
                          ("--mismatched-labels", args.mismatched_labels),
                          ("--hardest-mismatch", args.hardest_mismatch)):
        if value and args.architecture != "radiogan":
            raise InputError(f"{option} is a RadioGAN option.")
    if args.generator_upsampling and args.architecture == "ct_gan":
        raise InputError("--generator-upsampling is a RadioGAN and brain DCGAN option.")
    for option, value in (("--latent-coordinates", args.latent_coordinates), ("--global-latent", args.global_latent)):
        if value and args.architecture != "ct_gan":
            raise InputError(f"{option} is a CT GAN option (the only fully convolutional generator).")
    if args.discriminator_dropout is not None and args.architecture == "brain_dcgan":
        raise InputError("--discriminator-dropout is for radiogan and ct_gan; the brain DCGAN has no dropout.")
    check_not_negative(("--global-latent", args.global_latent))
    network_config = (args.warm_start.network_config if args.init_weights else
                      _network_overrides(args.architecture, args.image_size, args.width, args.discriminator_norm,
                                         _network_options(args)))
    return {
        "architecture": args.architecture, "data": str(Path(args.data).resolve()),
        "labels": str(Path(args.labels).resolve()) if args.labels else None, "stage": args.stage,
        "loss": args.loss or "bce", "lr": args.lr, "lr_d": args.lr_d, "n_critic": args.n_critic, "batch_size": args.batch_size,
        "seed": 0 if args.seed is None else args.seed,
        "checkpoint_every": args.checkpoint_every or 1, "epochs": args.epochs,
        "auxiliary_class_weight": args.auxiliary_classifier, "mismatched_labels": args.mismatched_labels,
        "hardest_mismatch": args.hardest_mismatch,
        "generator_ema": args.generator_ema,
        "window": parse_window(args.window) if args.window else None,
        "network_config": network_config,
        "init_weights": args.warm_start.record() if args.init_weights else None,
    }


def _apply_warm_start_settings(args: argparse.Namespace) -> None:
    """--init-weights: the architecture, networks and window come from the model card; options that would build
    other networks are refused rather than silently ignored."""
    from MedGANSynthLib.training.warm_start import read_warm_start

    shaping = [option for option, value in (("--image-size", args.image_size), ("--width", args.width),
                                            ("--discriminator-norm", args.discriminator_norm))
               if value is not None]
    if shaping or _network_options(args):
        names = shaping + [f"--{key.replace('_', '-')}" for key in _network_options(args)]
        raise InputError(f"--init-weights takes the networks from the model card; leave out {', '.join(names)}.")
    start = read_warm_start(args.init_weights)
    if args.architecture not in (None, start.architecture):
        raise InputError(f"{Path(start.path).name} is a '{start.architecture}' model, not '{args.architecture}'.")
    args.architecture = start.architecture
    if args.stage is None and start.architecture == "brain_dcgan":
        args.stage = start.class_names[0]
    if args.window is None and start.window_units:  # a physical window (grey-value PNGs have their own)
        args.window = ",".join(f"{v:g}" for v in start.window)
    args.warm_start = start


def _warm_start(start, settings: dict[str, Any], dataset, generator, discriminator) -> None:
    """Check the data against the card read by _apply_warm_start_settings and load its weights."""
    from MedGANSynthLib.training.warm_start import (
        check_data_matches,
        load_warm_start_weights,
    )

    check_data_matches(start, dataset.class_names, (dataset.window.low, dataset.window.high),
                       conditional=generator.num_classes > 0)
    settings["init_weights"]["discriminator"] = load_warm_start_weights(start, generator, discriminator)


def _change_learning_rates(saved: dict[str, Any], lr: float | None, lr_d: float | None, run_dir: Path) -> None:
    """Continue a run at new learning rates (e.g. lower ones to fine-tune), with the same meaning as at the start:
    --lr sets both networks unless --lr-d is given, --lr-d alone the discriminator only. run.json keeps each change
    with the epoch it took effect after."""
    from MedGANSynthLib.training.optimizers import paper_settings

    if lr is not None:
        saved["lr"] = lr
    saved["lr_d"] = lr_d  # with --lr alone, None: the discriminator follows --lr, as at the start
    rates = paper_settings(saved["architecture"], lr=saved["lr"], lr_discriminator=saved.get("lr_d"))
    record_learning_rate_change(saved, run_dir, lr_generator=rates.lr_generator,
                                lr_discriminator=rates.lr_discriminator)


def _check_generator_ema(decay: float | None) -> None:
    if decay is not None and not 0.0 <= decay < 1.0:
        raise InputError(f"--generator-ema is a decay per step in [0, 1), e.g. 0.999 (got {decay}).")


def _network_options(args: argparse.Namespace) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if args.auxiliary_classifier:
        options["auxiliary_classifier"] = True
    if args.minibatch_std:
        options["minibatch_std"] = True
    if args.discriminator_dropout is not None:
        options["discriminator_dropout"] = args.discriminator_dropout
    if args.latent_coordinates:
        options["latent_coordinates"] = True
    if args.class_projection:
        options["class_projection"] = True
    if args.class_batchnorm:
        options["generator_class_norm"] = True
    if args.generator_upsampling:
        options["generator_upsampling"] = args.generator_upsampling
    if args.global_latent:
        options["global_latent_channels"] = args.global_latent
    return options


def _network_overrides(architecture: str, image_size: str | None, width: float | None,
                       discriminator_norm: str | None = None, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    from MedGANSynthLib.networks.registry import config_from_dict, config_to_dict

    values: dict[str, Any] = {"discriminator_norm": discriminator_norm} if discriminator_norm else {}
    values.update(extra or {})
    if image_size:
        height, width_px = _parse_size(image_size)
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


def _parse_size(text: str) -> tuple[int, int]:
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
    from dataclasses import replace

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


def _weights_exporter(architecture: str, dataset, settings: dict[str, Any]):
    """The finish hook: safetensors + model card through MedGANSynthLib.weights."""
    from MedGANSynthLib.training.datasets import window_to_dict
    from MedGANSynthLib.weights.model_card import ModelCard
    from MedGANSynthLib.weights.safetensors_io import save_model

    window = window_to_dict(dataset.window)
    kind = {"SUV": "suv", "HU": "hu"}.get(window["units"], "intensity")
    description = dataset.describe()

    def export(generator, discriminator, run_dir: Path, summary: dict[str, Any]) -> list[Path]:
        class_names = list(dataset.class_names) if generator.num_classes else (
            [settings["stage"]] if settings.get("stage") else [])
        counts = description.get("class_counts") or {(class_names[0] if class_names else "all"): len(dataset)}
        card = ModelCard(
            architecture=architecture,
            config={},
            normalisation={"kind": kind, "low": window["low"], "high": window["high"],
                           "output_range": [window["out_low"], window["out_high"]], "window": window["name"]},
            class_names=class_names,
            training_data=_training_data_summary(settings["data"], len(dataset), counts),
            epochs=int(summary["epochs"]),
            metrics={"final_epoch": {k: v for k, v in summary.get("final_epoch_losses", {}).items()
                                     if isinstance(v, (int, float))},
                     "training": {k: settings.get(k) for k in ("loss", "lr", "lr_d", "batch_size", "seed",
                                                               "epochs", "auxiliary_class_weight",
                                                               "mismatched_labels", "hardest_mismatch",
                                                               "generator_ema",
                                                               "learning_rate_changes", "init_weights")}},
        )
        folder = run_dir / "weights"
        folder.mkdir(parents=True, exist_ok=True)
        return list(save_model({"generator": generator, "discriminator": discriminator}, card, folder))

    return export


