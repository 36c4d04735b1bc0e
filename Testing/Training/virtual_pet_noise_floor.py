"""The margin rule's false-positive floor: what a perfect virtual PET scores on whole-body phantoms.

    PYTHONPATH=. .venv/bin/python Testing/Training/virtual_pet_noise_floor.py DATA [DATA ...] \
        [--noise-seeds 27 28 29 30] [--slice-smoothing 12] [--json OUT.json]

Answers: how many margin false positives (and what margin TPR) does ``evaluate-virtual-pet`` give a virtual PET
that is (a) the phantom's noiseless PET, the expected image, a perfect smooth predictor, and (b) that image with an
independent noise realisation of the same statistics, the floor for any output with realistic noise (a GAN that
learns PET texture draws noise blobs at random places), each raw and after the slice smoothing inference applies
(``--slice-smoothing``, :func:`~MedGANSynthLib.virtual_pet.inference.predict_virtual_pet`'s own functions).

Each DATA is a folder of version-2+ whole-body phantom cases (``ct.nrrd``, ``pet.nrrd``, ``lesions.nrrd``,
``organs.nrrd``, ``manifest.json``). Every case is regenerated from its manifest (seed, class, contrast, config):
with noise the PET must equal ``pet.nrrd`` bit for bit, and the library's noise function applied to the noiseless
PET with the generator's own PET stream must give it again, so the noiseless PET is exactly the image the disk's
noise was drawn around. A second realisation is that function with another seed, one per ``--noise-seeds``; the
"second_noise" rows pool them (FP per scan averaged over the realisations). Every image is scored by
:func:`~MedGANSynthLib.virtual_pet.evaluation.score_case` against the disk's PET and lesions, as the evaluation does.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.io.atomic import atomic_output
from MedGANSynthLib.io.volume_io import read_volume
from MedGANSynthLib.phantoms.tissues import LIVER_COV_RANGE
from MedGANSynthLib.phantoms.wholebody import WholeBodyConfig, add_pet_noise, make_wholebody_case
from MedGANSynthLib.preprocessing.resample import resample_to_reference
from MedGANSynthLib.virtual_pet.cases import discover_cases, load_case
from MedGANSynthLib.virtual_pet.evaluation import margin_organs, margin_rates, score_case
from MedGANSynthLib.virtual_pet.false_positive_organs import load_organ_labels
from MedGANSynthLib.virtual_pet.inference import average_across_slices, smoothing_slices
from MedGANSynthLib.virtual_pet.lesions import MIN_LESION_VOLUME_ML, PAPER_THRESHOLD_SUV
from MedGANSynthLib.virtual_pet.regions import organ_map_path
from MedGANSynthLib.volume import Volume

PET_STREAM = 4
"""Index of the PET stream among the six the whole-body generator (versions 2+) spawns from SeedSequence([seed, 2])."""
NOISELESS = "noiseless"
SECOND_NOISE = "second_noise"


def regenerate(folder: Path):
    """(noiseless PET, (liver CoV, liver SUV)) of the case in ``folder``, after checking it is the disk's phantom."""
    if not (folder / "manifest.json").is_file():
        raise InputError(f"{folder.name}: no manifest.json; this script needs phantom cases as generated.")
    manifest = json.loads((folder / "manifest.json").read_text())
    if manifest.get("kind") != "wholebody" or manifest.get("generator_version", 1) < 2:
        raise InputError(f"{folder.name}: not a version-2+ whole-body phantom (its manifest says otherwise).")
    noisy, quiet = generate_pair(manifest)
    disk_pet = read_volume(folder / "pet.nrrd")
    _require(np.array_equal(noisy.pet.array, disk_pet.array), folder, "regenerated noisy PET differs from pet.nrrd")
    for name in ("organs", "lesions"):
        _require(np.array_equal(getattr(quiet, name).array, read_volume(folder / f"{name}.nrrd").array), folder,
                 f"{name} without noise differ from {name}.nrrd")
    liver_cov, liver_suv, stream = generator_noise(manifest)
    again = add_pet_noise(quiet.pet.array, liver_cov, liver_suv, stream)
    _require(np.array_equal(again, disk_pet.array), folder, "noiseless PET + the generator's noise is not pet.nrrd")
    return disk_pet.with_array(quiet.pet.array), (liver_cov, liver_suv)


def generate_pair(manifest: dict):
    """The case the manifest describes, generated with its PET noise and without (nothing else changes)."""
    settings = dict(manifest["config"], pet_origin_shift_mm=tuple(manifest["config"]["pet_origin_shift_mm"]))
    config = WholeBodyConfig(**settings)
    arguments = dict(seed=manifest["seed"], lesion_class=manifest["class"], version=manifest["generator_version"],
                     contrast=manifest["contrast"])
    return (make_wholebody_case(config=replace(config, noise=True), **arguments),
            make_wholebody_case(config=replace(config, noise=False), **arguments))


def generator_noise(manifest: dict) -> tuple[float, float, np.random.Generator]:
    """The generator's PET noise parameters (liver CoV unrounded, liver SUV) and its PET stream after the CoV draw:
    :func:`add_pet_noise` with them on the noiseless PET draws the case's own noise."""
    stream = np.random.default_rng(np.random.SeedSequence([int(manifest["seed"]), 2]).spawn(6)[PET_STREAM])
    liver_cov = float(stream.uniform(*LIVER_COV_RANGE))  # the generator's first PET draw
    if round(liver_cov, 4) != manifest["pet_liver_cov"]:
        raise InputError(f"Seed {manifest['seed']}: the drawn liver CoV {liver_cov:.4f} is not the manifest's "
                         f"{manifest['pet_liver_cov']}; not a phantom of this generator.")
    return liver_cov, manifest["organ_suv"]["liver"], stream


def _require(condition: bool, folder: Path, problem: str) -> None:
    if not condition:
        raise InputError(f"{folder.name}: {problem}; not the phantom this library generates.")


def second_realisation(quiet_pet: Volume, liver_cov: float, liver_suv: float, noise_seed: int, seed: int) -> Volume:
    """The library's PET noise, same liver CoV and liver SUV, drawn from a stream of its own."""
    rng = np.random.default_rng([int(noise_seed), int(seed)])
    return quiet_pet.with_array(add_pet_noise(quiet_pet.array, liver_cov, liver_suv, rng))


def smoothed_across_slices(image: Volume, length_mm: float) -> Volume:
    """What inference does to its outputs with ``slice_smoothing_mm``: a moving average across slices."""
    slice_axis = image.axis_along(2)
    array = image.array.copy()
    width = smoothing_slices(length_mm, image, slice_axis)
    if width > 1:
        average_across_slices(np.moveaxis(array, slice_axis, 0), width)
    return image.with_array(array)


def floor_predictions(quiet_pet: Volume, noisy_pets: dict[str, Volume], ct: Volume,
                      smoothing_mm: float) -> dict[str, Volume]:
    """The noiseless PET and ``noisy_pets`` (name -> image), each raw and smoothed (``<name>_smoothed``), on the CT
    grid as the evaluation loads the true PET (linear, 0 outside)."""
    on_ct = {name: resample_to_reference(image, ct, "linear", default_value=0.0)
             for name, image in {NOISELESS: quiet_pet, **noisy_pets}.items()}
    on_ct = {name: image.with_array(image.array.astype(np.float32, copy=False)) for name, image in on_ct.items()}
    smoothed = {f"{name}_smoothed": smoothed_across_slices(image, smoothing_mm) for name, image in on_ct.items()}
    return on_ct | smoothed


def score_folder(data: Path, noise_seeds: list[int], smoothing_mm: float) -> list[dict]:
    scans = []
    for case in discover_cases(data):
        quiet_pet, (liver_cov, liver_suv) = regenerate(case.folder)
        seed = json.loads((case.folder / "manifest.json").read_text())["seed"]
        noisy = {f"{SECOND_NOISE}_{noise_seed}": second_realisation(quiet_pet, liver_cov, liver_suv, noise_seed, seed)
                 for noise_seed in noise_seeds}
        pair = load_case(case)
        organs = load_organ_labels(organ_map_path(case), pair.ct)
        predictions = floor_predictions(quiet_pet, noisy, pair.ct, smoothing_mm)
        scans.append(score_case(pair.case_id, pair.ct, pair.suv, pair.lesions, predictions, PAPER_THRESHOLD_SUV,
                                MIN_LESION_VOLUME_ML, None, organs))
        print(f"{pair.case_id}: " + ", ".join(f"{name} {scans[-1][name]['margin_fp']} FP" for name in predictions),
              file=sys.stderr)
    return scans


def summarise(scans: list[dict], noise_seeds: list[int]) -> dict:
    """Per image, the evaluation's own pooled margin figures (TPR, FP per scan, FP per organ per scan); the
    second_noise rows pool every realisation, each (scan, realisation) counted as a scan."""
    groups = {}
    for suffix in ("", "_smoothed"):
        seeded = [f"{SECOND_NOISE}_{noise_seed}{suffix}" for noise_seed in noise_seeds]
        groups |= {f"{NOISELESS}{suffix}": [f"{NOISELESS}{suffix}"], f"{SECOND_NOISE}{suffix}": seeded}
        groups |= {name: [name] for name in seeded} if len(seeded) > 1 else {}
    summary = {}
    for group, names in groups.items():
        rows = [scan[name] for name in names for scan in scans]
        organs = {row["organ"]: row["per_scan"] for row in margin_organs(rows)["margin_fp_by_organ"]}
        summary[group] = {**margin_rates(rows), "margin_fp": sum(row["margin_fp"] for row in rows),
                          "scored_scans": len(rows), "fp_marrow_per_scan": organs.get("cancellous_bone", 0.0),
                          "fp_muscle_per_scan": organs.get("muscle", 0.0), "fp_by_organ_per_scan": organs}
    true = sum(scan["true_pet"]["n_true"] for scan in scans)
    summary["true_pet"] = {"margin_tp": sum(scan["true_pet"]["margin_tp"] for scan in scans), "true_lesions": true}
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", type=Path, nargs="+", help="folders of whole-body phantom cases")
    parser.add_argument("--noise-seeds", type=int, nargs="+", default=[27, 28, 29, 30],
                        help="one second noise realisation per seed")
    parser.add_argument("--slice-smoothing", type=float, default=12.0, help="mm, as evaluate-virtual-pet's")
    parser.add_argument("--json", type=Path, help="write per-scan and pooled figures here")
    args = parser.parse_args(argv)
    try:
        if args.slice_smoothing < 0:
            raise InputError(f"--slice-smoothing must be 0 mm or more; got {args.slice_smoothing}.")
        scans = [scan for folder in args.data for scan in score_folder(folder, args.noise_seeds, args.slice_smoothing)]
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    summary = summarise(scans, args.noise_seeds)
    print("| image | margin TPR | margin FP / scan (count) | in marrow | in muscle |\n|---|---|---|---|---|")
    for name, row in summary.items():
        if name != "true_pet":
            print(f"| {name} | {row['tpr_margin']:.3f} | {row['fp_margin_per_scan']:.2f} "
                  f"({row['margin_fp']}/{row['scored_scans']}) | {row['fp_marrow_per_scan']:.2f} | "
                  f"{row['fp_muscle_per_scan']:.2f} |")
    print(f"true PET (pet.nrrd) itself: margin TPR {summary['true_pet']['margin_tp']}/"
          f"{summary['true_pet']['true_lesions']}; {len(scans)} scans")
    if args.json:
        record = {"data": [str(d) for d in args.data], "noise_seeds": args.noise_seeds,
                  "slice_smoothing_mm": args.slice_smoothing, "scans": len(scans), "summary": summary,
                  "per_scan": scans}
        with atomic_output(args.json) as temp:
            temp.write_text(json.dumps(record, indent=2, default=float) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
