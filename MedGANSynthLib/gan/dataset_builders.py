"""Build GAN training folders, from phantoms or from the user's own PET / CT volumes.

Each builder writes ``<output>/train`` and ``<output>/heldout`` (the held-out part is what evaluation compares
generated images against; it is never trained on), each with its images and a ``labels.csv`` (``file,label``)
that :mod:`MedGANSynthLib.training.datasets` reads, plus ``<output>/dataset.json`` describing the source.

* MIP (RadioGAN, Amyar et al.): PET in SUV -> 2 mm isotropic, nearest neighbour -> coronal MIP -> padded to the
  generator's 5:3 height:width (keeps the body's aspect ratio when the data set resizes it) -> one-slice NRRD.
* Brain (Islam & Zhang): brain FDG-PET volumes in SUV with their stage (NC / MCI / AD).
* CT (the simple CT GAN paper): stacks of axial chest-CT slices in HU.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.io import write_volume
from MedGANSynthLib.io.atomic import atomic_output
from MedGANSynthLib.jobs.progress import CancelToken, ProgressCallback, report
from MedGANSynthLib.pet.pet_input import read_listed_pet_as_suv
from MedGANSynthLib.preprocessing import resample_isotropic
from MedGANSynthLib.projection import mip
from MedGANSynthLib.volume import Volume

RADIOGAN_ASPECT = (5, 3)  # height : width of the generator's 5 x 3 base map
MIP_SPACING_MM = 2.0  # RadioGAN resamples PET to 2 mm isotropic with nearest-neighbour interpolation
SPLITS = ("train", "heldout")


def training_mip(pet_suv: Volume, aspect: tuple[int, int] = RADIOGAN_ASPECT) -> Volume:
    """RadioGAN preprocessing of one PET in SUV: 2 mm nearest resampling, coronal MIP, zero-padded to ``aspect``.

    Padding is split evenly on both sides of the short axis and the origin moves with it, so geometry stays true.
    """
    coronal = mip(resample_isotropic(pet_suv, MIP_SPACING_MM, "nearest"), "coronal")
    array = coronal.array  # (k, 1, i): rows run along S, columns along L-R for the phantoms' identity direction
    rows, cols = array.shape[0], array.shape[2]
    want_cols = int(np.ceil(rows * aspect[1] / aspect[0]))
    want_rows = int(np.ceil(cols * aspect[0] / aspect[1]))
    pad_rows, pad_cols = max(0, want_rows - rows), max(0, want_cols - cols)
    before_rows, before_cols = pad_rows // 2, pad_cols // 2
    padded = np.pad(array, [(before_rows, pad_rows - before_rows), (0, 0), (before_cols, pad_cols - before_cols)])
    origin = coronal.physical_point((-before_cols, 0, -before_rows))
    return coronal.with_array(padded.astype(np.float32), origin=tuple(origin))


def split_counts(total: int, heldout: int, selection: int = 0) -> dict[str, int]:
    """Cases per split: ``total`` includes the held-out ones; the selection cases come on top, numbered after them,
    so adding a selection split leaves the train and held-out cases of a seed exactly as they were."""
    if total < 1 or heldout < 0 or heldout >= total:
        raise InputError(f"Need at least one training case: {total} cases with {heldout} held out.")
    if selection < 0:
        raise InputError(f"--selection cannot be negative (got {selection}).")
    counts = {"train": total - heldout, "heldout": heldout}
    return {**counts, "selection": selection} if selection else counts


def case_splits(counts: dict[str, int]) -> list[str]:
    """The split of each case number, in order: train cases first, then held-out, then selection."""
    return [split for split, count in counts.items() for _ in range(count)]


def build_mip_dataset_from_phantoms(
    output: str | os.PathLike, per_class: int, heldout_per_class: int, seed: int = 0,
    classes: Sequence[str] | None = None, voxel_mm: float = 4.0,
    progress: ProgressCallback | None = None, cancel: CancelToken | None = None, selection_per_class: int = 0,
    phantom_version: int | None = None,
) -> dict:
    """Whole-body phantoms of each lesion class -> MIP training folder (``per_class`` includes the held-out; the
    ``selection_per_class`` cases for choosing between models come on top). ``phantom_version`` None is version
    1, the demo's (the bundled RadioGAN learned from version 3)."""
    from MedGANSynthLib.phantoms import LESION_CLASSES, WholeBodyConfig, make_wholebody_case
    from MedGANSynthLib.phantoms.versions import BUNDLED_MODELS_PHANTOM_VERSION

    version = BUNDLED_MODELS_PHANTOM_VERSION if phantom_version is None else phantom_version

    classes = list(classes or LESION_CLASSES)
    counts = split_counts(per_class, heldout_per_class, selection_per_class)
    config = WholeBodyConfig().with_voxel_mm(voxel_mm)
    rows: dict[str, list[tuple[str, str]]] = {split: [] for split in counts}
    splits = case_splits(counts)
    total, done = len(splits) * len(classes), 0
    for class_index, name in enumerate(classes):
        for case, split in enumerate(splits):
            case_seed = seed * 100_003 + class_index * 10_007 + case  # distinct, reproducible per (class, case)
            phantom = make_wholebody_case(case_seed, name, config, version=version)
            file = f"{name}_{case:04d}.nrrd"
            write_volume(training_mip(phantom.pet), Path(output) / split / file)
            rows[split].append((file, name))
            done += 1
            report(progress, cancel, "building MIP data set", done, total, file)
    return _finish(output, rows, {"kind": "mip", "source": "MedGANSynth whole-body phantoms (not patient data)",
                                  "seed": seed, "voxel_mm": voxel_mm, "classes": classes, "per_class": per_class,
                                  "heldout_per_class": heldout_per_class,
                                  "selection_per_class": selection_per_class, "phantom_version": version})


def build_mip_dataset_from_volumes(
    output: str | os.PathLike, labels_csv: str | os.PathLike, heldout_fraction: float = 0.2, seed: int = 0,
    progress: ProgressCallback | None = None, cancel: CancelToken | None = None, series: str | None = None,
) -> dict:
    """The user's PET volumes listed in a CSV ``file,label``: DICOM PET is converted to SUV from its headers;
    NIfTI/NRRD/MHA must hold SUV (a CT in HU, other header units, or values no SUV reaches are refused).
    ``series`` names the PET in the listed DICOM folders that hold several series."""
    entries = _read_file_label_csv(labels_csv)
    order = np.random.default_rng(seed).permutation(len(entries))
    heldout = set(order[: int(round(heldout_fraction * len(entries)))].tolist())
    rows: dict[str, list[tuple[str, str]]] = {split: [] for split in SPLITS}
    for number, (path, label) in enumerate(entries):
        pet = read_listed_pet_as_suv(path, series)
        split = "heldout" if number in heldout else "train"
        file = f"{Path(path).name.split('.')[0]}_{number:04d}.nrrd"
        write_volume(training_mip(pet), Path(output) / split / file)
        rows[split].append((file, label))
        report(progress, cancel, "building MIP data set", number + 1, len(entries), file)
    return _finish(output, rows, {"kind": "mip", "source": f"user volumes listed in {labels_csv}", "seed": seed})


def build_brain_dataset_from_phantoms(
    output: str | os.PathLike, per_stage: int, heldout_per_stage: int, seed: int = 0,
    stages: Sequence[str] | None = None,
    progress: ProgressCallback | None = None, cancel: CancelToken | None = None, selection_per_stage: int = 0,
) -> dict:
    """Brain FDG-PET phantoms per stage -> volumes + ``labels.csv`` (stage per volume)."""
    from MedGANSynthLib.phantoms import STAGES, make_brain_case

    stages = list(stages or STAGES)
    counts = split_counts(per_stage, heldout_per_stage, selection_per_stage)
    rows: dict[str, list[tuple[str, str]]] = {split: [] for split in counts}
    splits = case_splits(counts)
    total, done = len(splits) * len(stages), 0
    template = None
    for stage_index, stage in enumerate(stages):
        for case, split in enumerate(splits):
            brain = make_brain_case(seed * 100_003 + stage_index * 10_007 + case, stage)
            template = brain.manifest["anatomy_source"]
            file = f"{stage}_{case:04d}.nrrd"
            write_volume(brain.pet, Path(output) / split / file)
            rows[split].append((file, stage))
            done += 1
            report(progress, cancel, "building brain data set", done, total, file)
    return _finish(output, rows, {"kind": "brain", "source": "MedGANSynth brain FDG-PET phantoms (not patient data)",
                                  "seed": seed, "stages": stages, "per_stage": per_stage,
                                  "heldout_per_stage": heldout_per_stage, "selection_per_stage": selection_per_stage,
                                  "base_brain": template})


def build_ct_dataset_from_phantoms(
    output: str | os.PathLike, cases: int, heldout_cases: int, slices_per_case: int = 32, size: int = 64,
    seed: int = 0, progress: ProgressCallback | None = None, cancel: CancelToken | None = None,
    selection_cases: int = 0, phantom_version: int | None = None,
) -> dict:
    """Chest-CT phantoms -> stacks of axial slices in HU (one NRRD per simulated subject): the chest-slice
    phantom when ``phantom_version`` is None, else chest slices of whole-body phantoms of that version."""
    from MedGANSynthLib.phantoms import make_chest_ct_slices
    from MedGANSynthLib.phantoms.wholebody_ct_slices import wholebody_chest_ct_slices

    counts = split_counts(cases, heldout_cases, selection_cases)
    rows: dict[str, list[tuple[str, str]]] = {split: [] for split in counts}
    splits = case_splits(counts)
    for case, split in enumerate(splits):
        case_seed = seed * 100_003 + case
        stack = (make_chest_ct_slices(case_seed, slices_per_case, size=size).ct if phantom_version is None
                 else wholebody_chest_ct_slices(case_seed, slices_per_case, size, phantom_version))
        file = f"chest_{case:04d}.nrrd"
        write_volume(stack, Path(output) / split / file)
        rows[split].append((file, "chest"))
        report(progress, cancel, "building CT data set", case + 1, len(splits), file)
    source = ("MedGANSynth chest-CT slice phantoms (not patient data)" if phantom_version is None else
              f"chest slices of MedGANSynth whole-body phantoms, version {phantom_version} (not patient data)")
    return _finish(output, rows, {"kind": "ct", "source": source, "phantom_version": phantom_version,
                                  "seed": seed, "cases": cases, "heldout_cases": heldout_cases,
                                  "selection_cases": selection_cases,
                                  "slices_per_case": slices_per_case, "size": size})


def _finish(output: str | os.PathLike, rows: dict[str, list[tuple[str, str]]], description: dict) -> dict:
    root = Path(output)
    for split, entries in rows.items():
        if not entries:
            continue
        with atomic_output(root / split / "labels.csv") as temp, open(temp, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["file", "label"])
            writer.writerows(entries)
    description = {**description, "counts": {split: len(entries) for split, entries in rows.items()},
                   "folders": {split: str(root / split) for split in rows if rows[split]}}
    with atomic_output(root / "dataset.json") as temp:
        temp.write_text(json.dumps(description, indent=2))
    return description


def _read_file_label_csv(path: str | os.PathLike) -> list[tuple[Path, str]]:
    source = Path(path)
    if not source.is_file():
        raise InputError(f"Labels file '{source}' does not exist; give a CSV with columns file,label.")
    try:
        with open(source, newline="", encoding="utf-8-sig") as handle:
            table = list(csv.DictReader(handle))
    except UnicodeDecodeError:
        raise InputError(f"Labels file '{source.name}' is not UTF-8 text; save it as 'CSV UTF-8' "
                         "(columns file,label).") from None
    if not table or not {"file", "label"} <= set(table[0]):
        raise InputError(f"'{source.name}' needs a header 'file,label' and at least one row.")
    entries = []
    for number, row in enumerate(table, start=2):  # line 1 is the header
        name, label = (row["file"] or "").strip(), (row["label"] or "").strip()
        if not name or not label:
            raise InputError(f"Line {number} of '{source.name}' needs a file and a label.")
        file = Path(name)
        file = file if file.is_absolute() else source.parent / file
        if not file.exists():
            raise InputError(f"'{name}' listed in {source.name} does not exist.")
        entries.append((file, label))
    return entries
