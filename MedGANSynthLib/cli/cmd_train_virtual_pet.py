"""``medgansynth train-virtual-pet``: train the FCN-4s and the pix2pix of the virtual PET on paired CT/PET cases.

    medgansynth train-virtual-pet --data CASES/ -o runs/vpet --epochs 30 --threads 1
    medgansynth train-virtual-pet --data CASES/ -o runs/vpet --epochs 30 --resume     # continue a stopped run
    torchrun --nproc_per_node=2 -m MedGANSynthLib train-virtual-pet --data CASES/ -o runs/vpet

Both networks train in ONE run on the shared engine (MedGANSynthLib.training.engine): every batch updates the
FCN-4s (SUV-weighted L2, Adam 1e-4) and then the pix2pix pair (PatchGAN BCE + 100 x SUV-weighted L2, Adam 2e-4,
beta1 0.5), so one checkpoint, one --resume and one progress bar cover the whole model, and the sample pictures
show CT | true PET | FCN | GAN | blended. --data takes a folder of case folders (ct.*, pet.*, optional lesions.*;
'medgansynth phantoms --kind wholebody' writes exactly that), autoPET's <patient>/<study>/CTres.nii.gz + SUV.nii.gz
+ SEG.nii.gz, or a CSV manifest (ct,pet[,lesions]). At the end: weights/virtual_pet.safetensors + .json card.
Batch size default 8 (pix2pix used 1; 8 keeps BatchNorm statistics meaningful and the CPU busy).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from MedGANSynthLib.cli.main import (
    apply_training_run_options,
    check_at_least_one,
    check_not_negative,
    check_positive,
    training_run_folder,
)
from MedGANSynthLib.errors import InputError
from MedGANSynthLib.training.run_file import read_run_file, record_learning_rate_change, write_run_file

DEFAULT_EPOCHS = 30
DEFAULT_BATCH_SIZE = 8
_RUN_KEYS = ("data", "epochs", "batch_size", "lr", "seed", "checkpoint_every", "networks", "dataset")


def register(subparsers) -> None:
    from MedGANSynthLib.cli.main import add_common_options, add_training_run_options

    parser = subparsers.add_parser(
        "train-virtual-pet", help="train the virtual-PET FCN-4s + pix2pix on paired CT/PET cases",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", help="folder of CT/PET case folders, autoPET folder, or CSV manifest (ct,pet)")
    parser.add_argument("-o", "--output", required=True, help="run folder (checkpoints, pictures, weights)")
    parser.add_argument("--epochs", type=int, help=f"epochs (default {DEFAULT_EPOCHS})")
    parser.add_argument("--batch-size", type=int, help=f"slices per step (default {DEFAULT_BATCH_SIZE})")
    parser.add_argument("--lr", type=float, help="learning rate of all networks (default FCN 1e-4, pix2pix 2e-4); "
                        "with --resume, the run continues at this rate")
    parser.add_argument("--width-fcn", type=float, help="FCN-4s channel factor (default 0.125; paper 1)")
    parser.add_argument("--width-gan", type=float, help="U-Net and PatchGAN channel factor (default 0.25; paper 1)")
    parser.add_argument("--depth", type=int, help="U-Net down-samplings (default 7 for 128 px; paper 8 for 256 px)")
    parser.add_argument("--gan-upsampling", choices=("transposed", "resize"),
                        help="U-Net decoder: paper's transposed convs (default) or resize + conv (no checkerboard)")
    parser.add_argument("--context-slices", type=int, help="neighbouring CT slices per side as channels (default 1)")
    parser.add_argument("--slice-size", type=int, help="resample slices in-plane to N x N (default 128)")
    parser.add_argument("--lesion-repeats", type=int, help="times a lesion slice appears per epoch (default 3)")
    parser.add_argument("--crop-size", type=int,
                        help="train on random N x N windows of the slices (a lesion slice's window holds a lesion), "
                             "e.g. --slice-size 256 --crop-size 128 learns at 256-pixel detail for the cost of 128; "
                             "keep N >= 2**(depth + 1) so the U-Net's innermost layer sees 2 x 2 pixels as it will "
                             "on whole slices; not in the paper (default: whole slices)")
    parser.add_argument("--gan-l2-weight", type=float,
                        help="lambda of the generator's SUV-weighted L2 term, in SUV^2 (default 100, pix2pix)")
    parser.add_argument("--suv-weight-power", type=float,
                        help="raise the L2 loss weight (1 + SUV) to this power so lesions count more (default 1, "
                             "the paper's linear weight; 2 = a pixel of SUV 8 counts 81x air); not in the paper")
    parser.add_argument("--symmetric-suv-weight", action="store_true",
                        help="weigh each pixel by the larger of its true and predicted SUV, so a hot spot drawn on "
                             "cold tissue costs as much as a missed lesion; not in the paper (its weight is the "
                             "true SUV alone)")
    add_training_run_options(parser)
    add_common_options(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> dict[str, Any]:

    from MedGANSynthLib.cli.progress_display import progress_display
    from MedGANSynthLib.training.distributed import context_from_env
    from MedGANSynthLib.training.engine import Trainer, TrainerConfig, seed_everything
    from MedGANSynthLib.virtual_pet.cases import discover_cases
    from MedGANSynthLib.virtual_pet.losses import PIX2PIX_RECONSTRUCTION_WEIGHT
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
    apply_training_run_options(args)
    run_dir = Path(args.output)
    settings = _run_settings(args, run_dir)
    networks = VirtualPETNetworkSettings(**settings["networks"])
    dataset_config = SliceDatasetConfig(**settings["dataset"], crop_seed=settings["seed"])
    networks.validate()
    dataset_config.validate()
    cases = discover_cases(settings["data"])
    with progress_display(args.progress_lines) as show:
        dataset = VirtualPETSliceDataset(cases, dataset_config, progress=show if context.is_main else None)
        seed_everything(settings["seed"])  # same initial weights for the same seed
        fcn, generator, discriminator = build_networks(networks)
        sample = sample_batch_from(dataset)
        lr = settings["lr"]
        weighting = {"suv_weight_power": settings.get("suv_weight_power", 1.0),  # runs from before the options
                     "symmetric_suv_weight": settings.get("symmetric_suv_weight", False)}  # have neither
        pix2pix = Pix2PixTask(generator, discriminator, lr or PIX2PIX_LR,
                              reconstruction_weight=settings.get("gan_l2_weight", PIX2PIX_RECONSTRUCTION_WEIGHT),
                              sample_batch=sample, **weighting)
        fcn_task = FCNTask(fcn, lr or FCN_LR, sample, **weighting)
        task = VirtualPETTask(fcn_task, pix2pix, sample_batch=sample,
                              export=_exporter(dataset, cases, settings))
        with training_run_folder(args, context.is_main):
            if context.is_main:
                write_run_file(run_dir, settings)
            trainer = Trainer(TrainerConfig(run_dir=run_dir, epochs=settings["epochs"],
                                            batch_size=settings["batch_size"], seed=settings["seed"],
                                            device=args.device, checkpoint_every=settings["checkpoint_every"],
                                            checkpoint_steps=args.checkpoint_steps, resume=args.resume,
                                            num_workers=args.workers), context)
            result = trainer.fit(task, dataset, progress=show)
    if not context.is_main:
        args.json, args.quiet = False, True  # one summary and closing line per run, from rank 0
    return {"run_dir": str(run_dir), "epochs": result.epochs_completed, "global_step": result.global_step,
            "batch_size": settings["batch_size"], "world_size": context.world_size, "data": dataset.describe(),
            "checkpoint": str(result.checkpoint), "weights": result.exported,
            "images_per_second": result.images_per_second, "seconds_per_epoch": result.seconds_per_epoch,
            "last_losses": result.last_losses, "files": result.files}


def _run_settings(args: argparse.Namespace, run_dir: Path) -> dict[str, Any]:
    """From run.json when resuming (the networks must match the checkpoint), else from the command line."""
    from MedGANSynthLib.training.checkpoint import checkpoint_path

    if not args.resume and not args.overwrite and checkpoint_path(run_dir).exists():
        raise InputError(f"-o/--output '{run_dir}' already holds a training run; pass --resume to continue it, "
                         "--overwrite to start afresh, or choose a new "
                         "folder.")
    if args.resume:
        settings = read_run_file(run_dir, _RUN_KEYS, "virtual-PET")
        if args.epochs is not None:
            check_at_least_one(("--epochs", args.epochs))
            settings["epochs"] = args.epochs  # resuming may extend a finished run
        if args.lr is not None:  # ... or continue at another rate (e.g. a lower one to fine-tune)
            check_positive(("--lr", args.lr))
            settings["lr"] = args.lr
            record_learning_rate_change(settings, run_dir, lr=args.lr)
        return settings
    if not args.data:
        raise InputError("Pass --data with the paired CT/PET cases (only --resume may leave it out).")
    check_at_least_one(*((f"--{name.replace('_', '-')}", getattr(args, name))
                         for name in ("epochs", "batch_size", "checkpoint_every", "depth", "slice_size", "lesion_repeats",
                                      "crop_size")))
    check_positive(("--lr", args.lr))
    if args.gan_l2_weight is not None and not args.gan_l2_weight >= 0:
        raise InputError(f"--gan-l2-weight cannot be negative (got {args.gan_l2_weight}).")
    if args.suv_weight_power is not None and not 0 < args.suv_weight_power <= 4:
        raise InputError(f"--suv-weight-power must be above 0 and at most 4 (got {args.suv_weight_power}).")
    check_not_negative(("--context-slices", args.context_slices))
    context = 1 if args.context_slices is None else args.context_slices
    networks = {"in_channels": 2 * context + 1}
    for option, key in (("width_fcn", "width_fcn"), ("width_gan", "width_gan"), ("depth", "depth"),
                        ("gan_upsampling", "gan_upsampling")):
        if getattr(args, option) is not None:
            networks[key] = getattr(args, option)
    dataset = {"context_slices": context, "slice_size": 128 if args.slice_size is None else args.slice_size,
               "lesion_repeats": 3 if args.lesion_repeats is None else args.lesion_repeats}
    if args.crop_size is not None:
        dataset["crop_size"] = args.crop_size
    return {"data": str(Path(args.data).resolve()), "epochs": args.epochs or DEFAULT_EPOCHS,
            "batch_size": args.batch_size or DEFAULT_BATCH_SIZE, "lr": args.lr,
            "seed": 0 if args.seed is None else args.seed, "checkpoint_every": args.checkpoint_every or 1,
            "gan_l2_weight": 100.0 if args.gan_l2_weight is None else args.gan_l2_weight,
            "suv_weight_power": 1.0 if args.suv_weight_power is None else args.suv_weight_power,
            "symmetric_suv_weight": args.symmetric_suv_weight,
            "networks": networks, "dataset": dataset}


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


def _exporter(dataset, cases, settings: dict[str, Any]):
    from MedGANSynthLib.virtual_pet.weights import save_virtual_pet

    data_summary = training_data_summary(dataset, cases, settings["data"])

    def export(fcn, generator, run_dir: Path, summary: dict[str, Any]) -> list[Path]:
        metrics = {"final_epoch": {k: v for k, v in summary.get("final_epoch_losses", {}).items()
                                   if isinstance(v, (int, float))},
                   "training": {k: settings.get(k) for k in ("lr", "batch_size", "seed", "epochs", "gan_l2_weight",
                                                                 "suv_weight_power", "symmetric_suv_weight",
                                                                 "learning_rate_changes")}}
        folder = run_dir / "weights"
        folder.mkdir(parents=True, exist_ok=True)
        return list(save_virtual_pet(fcn, generator, folder, data_summary, working_pixel_mm=dataset.pixel_mm,
                                     epochs=int(summary["epochs"]), metrics=metrics))

    return export
