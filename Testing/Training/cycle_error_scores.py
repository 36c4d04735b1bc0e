"""Cycle reconstruction error (CT -> PET -> CT, mean absolute HU inside the body) as an input check: does a briefly
trained CycleGAN score phantom CTs lower than real CTs, and CTs lower than images that are not CTs?

    .venv/bin/python Testing/Training/cycle_error_scores.py [WORK_DIR] [--epochs N]
    .venv/bin/python Testing/Training/cycle_error_scores.py WORK_DIR --model CYCLEGAN.safetensors --phantoms CASES/

Uses the Python API only (no 'medgansynth' command). Trains a small CycleGAN on unpaired phantom slices (CTs of
three whole-body phantoms against the PETs of three others; 8 mm voxels, 64 px, width 0.25, 3 residual blocks),
then prints the cycle error of: held-out phantom CTs, the real CTs in ../shared/data (ct-nifti, ct-dicom-thorax),
and non-CT images (the brain PET template, a phantom PET) scored as if they were CTs.
A model trained for minutes need not separate them; the numbers are printed as measured. With --model the given
CycleGAN is scored instead (no training; held-out phantom CTs from --phantoms, a folder of phantom cases), and each
row also says whether the virtual PET's input check (cyclegan/input_check.py) would warn: median slice error above
the card's band.

Measured (2026-12-06, 3 epochs = 276 steps of batch 4, 265-457 s on one thread of a busy 2-core machine; cycle MAE in
HU): phantom CTs held out 143.0 and 153.6, trained on 141.4; real CTs: ct-dicom-thorax 294.0, example_ct_sm 174.8;
not CTs: a phantom PET 836.5, the brain PET template 132.6. So it separated the 500 mm thorax CT and a PET from the
phantoms, the small torso CT only narrowly, and NOT the brain template (values 0..1, i.e. a featureless "0 HU" blob
that survives the round trip easily). Before slices kept the training pixel size (stretched to 64 px whatever the
field of view) the same weights gave example_ct_sm 713.4 and the template 806.6: there the score measured the field
of view. The library's CT check (require_ct: air below -500 HU) refuses both PETs before any score is needed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from MedGANSynthLib.cyclegan.cycle_error import cycle_error  # noqa: E402
from MedGANSynthLib.cyclegan.input_check import card_band, cycle_error_warnings  # noqa: E402
from MedGANSynthLib.cyclegan.training_run import train_cyclegan  # noqa: E402
from MedGANSynthLib.cyclegan.training_settings import CycleGANTrainingSettings  # noqa: E402
from MedGANSynthLib.cyclegan.weights import load_cyclegan  # noqa: E402
from MedGANSynthLib.errors import InputError  # noqa: E402
from MedGANSynthLib.io.volume_io import read_volume  # noqa: E402
from MedGANSynthLib.phantoms import WholeBodyConfig, make_wholebody_case, write_case  # noqa: E402
from MedGANSynthLib.virtual_pet.cases import discover_cases  # noqa: E402

SHARED = REPO.parent / "shared" / "data"
CLASSES = ("normal", "lung", "lymphoma", "head_neck", "oesophagus")


def make_phantoms(root: Path, seeds: range) -> list[Path]:
    config = WholeBodyConfig().with_voxel_mm(8.0)
    folders = []
    for seed in seeds:
        folder = root / f"phantom_{seed}"
        if not (folder / "ct.nrrd").is_file():
            write_case(make_wholebody_case(seed, CLASSES[seed % len(CLASSES)], config, version=1), folder)
        folders.append(folder)
    return folders


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("work", nargs="?", default="runs/cycle_error", help="working folder (default runs/cycle_error)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--model", help="score this CycleGAN (.safetensors) instead of training one")
    parser.add_argument("--phantoms", help="with --model: folder of held-out phantom cases (phantoms command)")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    work = Path(args.work)
    if args.model:
        score_model(load_cyclegan(args.model), [c.ct_path.parent for c in discover_cases(args.phantoms)], work)
        return
    phantoms = make_phantoms(work / "phantoms", range(100, 108))
    train_ct, train_pet, held_out = phantoms[:3], phantoms[3:6], phantoms[6:]
    for name, sources, file in (("A_ct", train_ct, "ct.nrrd"), ("B_pet", train_pet, "pet.nrrd")):
        (work / name).mkdir(parents=True, exist_ok=True)
        for folder in sources:
            link = work / name / f"{folder.name}_{file}"
            if not link.exists():
                link.symlink_to(folder.resolve() / file)
    run = work / "run"
    weights = run / "weights" / "cyclegan.safetensors"
    started = time.perf_counter()
    if not weights.is_file():
        resume = (run / "checkpoints").is_dir()
        summary = train_cyclegan(CycleGANTrainingSettings(
            output=str(run), device="cpu", **({} if resume else dict(
                data_a=str(work / "A_ct"), data_b=str(work / "B_pet"), epochs=args.epochs, image_size=64, width=0.25,
                residual_blocks=3, batch_size=4, seed=7))), resume=resume)
        print(f"trained {summary['global_step']} steps in {time.perf_counter() - started:.0f} s "
              f"({summary['seconds_per_epoch']:.1f} s per epoch, {summary['data']['items_per_epoch']} items per epoch)")
    score_model(load_cyclegan(weights), held_out, work, trained_on=train_ct[:1])


def score_model(model, held_out: list[Path], work: Path, trained_on: list[Path] = ()) -> None:
    band = card_band(model.card)
    if band:
        print(f"band (95th percentile of {band['slices']} training slices): {band['band_hu']:.1f} HU")
    inputs = [*((f"phantom CT {f.name} (held out)", _image(f, "ct"), "phantom CT") for f in held_out),
              *((f"phantom CT {f.name} (trained on)", _image(f, "ct"), "phantom CT, training") for f in trained_on),
              ("real CT ct-nifti/example_ct_sm.nii.gz", SHARED / "ct-nifti" / "example_ct_sm.nii.gz", "real CT"),
              ("real CT ct-dicom-thorax", SHARED / "ct-dicom-thorax", "real CT"),
              ("brain PET template PET.nii (not a CT)", SHARED / "brain-pet-template" / "PET.nii", "not CT"),
              (f"phantom PET {held_out[0].name} (not a CT)", _image(held_out[0], "pet"), "not CT")]
    rows = []
    print(f"{'input':58s} {'group':22s} {'cycle MAE HU':>12s} {'median slice':>12s} {'slices':>6s} {'check':>8s}")
    for label, path, group in inputs:
        try:
            volume = read_volume(path)
            score = cycle_error(model, volume)
            warned = bool(cycle_error_warnings(volume, model)[0]) if band else None
        except InputError as error:
            print(f"{label:58s} {group:22s} not scored: {error}")
            continue
        rows.append({"input": label, "group": group, **score, "input_check_warns": warned})
        print(f"{label:58s} {group:22s} {score['cycle_mae_hu']:12.1f} {score['median_slice_mae_hu']:12.1f} "
              f"{score['slices']:6d} {'-' if warned is None else 'WARNS' if warned else 'passes':>8s}")
    work.mkdir(parents=True, exist_ok=True)
    (work / "cycle_error_scores.json").write_text(json.dumps(rows, indent=1))


def _image(case_folder: Path, stem: str) -> Path:
    """The case's ct.* or pet.* (NRRD from write_case, any volume suffix from the phantoms command)."""
    return next(path for path in sorted(case_folder.iterdir()) if path.name.split(".")[0] == stem)


if __name__ == "__main__":
    main()
