"""Paired CT + PET cases for training and evaluating the virtual PET (Ben-Cohen et al., section 2.1).

Where cases come from (``discover_cases``):

* a folder of case sub-folders, each holding ``ct.*`` and ``pet.*`` (NIfTI, NRRD, MHA, a ``.dcm`` file or a
  DICOM folder named ``ct``/``pet``), optionally ``lesions.*``/``seg.*`` (lesion label map) — this is also what
  ``medgansynth phantoms --kind wholebody`` writes (``ct.nrrd``, ``pet.nrrd``, ``lesions.nrrd``); a folder that
  itself holds ``ct.*`` and ``pet.*`` is one case;
* the public autoPET layout, as is: ``<patient>/<study>/CTres.nii.gz``, ``SUV.nii.gz``, ``SEG.nii.gz`` (SEG is
  the lesion ground truth); when a study also holds autoPET's ``CT.nii.gz``/``PET.nii.gz`` the SUV pair wins;
* a CSV manifest with columns ``ct,pet`` and optional ``lesions``, ``case_id``, region masks (``liver_mask``, see
  :mod:`.regions`) and the SUV parameters
  ``weight_kg, dose_mbq, injection_time, scan_time, half_life_s`` for PET files stored in Bq/ml; relative paths
  are relative to the CSV file.

A case's ``ct`` or ``pet`` DICOM folder may hold several series: the CT folder gives its only CT series and the
PET folder its only PET series; otherwise ``series`` (``--series``, SeriesNumber or SeriesInstanceUID) names the
one to read in every folder that holds several.

Loading (``load_case``) follows the paper: the PET is converted to SUV (DICOM from its headers; other formats
must say SUV in their header or name — ``suv.*`` — or come with the CSV's SUV parameters), then resampled onto
the CT grid (linear; lesion labels nearest-neighbour) so every CT voxel has its PET value.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field
from pathlib import Path

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.io.dicom_folder import series_if_several
from MedGANSynthLib.io.volume_io import VOLUME_SUFFIXES, read_volume, volume_suffix
from MedGANSynthLib.pet.suv import DEFAULT_HALF_LIFE_S, load_pet_as_suv
from MedGANSynthLib.preprocessing.resample import resample_to_reference
from MedGANSynthLib.virtual_pet.inference import check_ct
from MedGANSynthLib.volume import Volume

CT_NAMES = ("ct",)
PET_NAMES = ("pet", "suv")
LESION_NAMES = ("lesions", "seg", "lesion_labels")
AUTOPET_FILES = ("ctres.nii.gz", "suv.nii.gz", "seg.nii.gz")
SUV_COLUMNS = ("weight_kg", "dose_mbq", "injection_time", "scan_time", "half_life_s")
MASK_COLUMN_SUFFIX = "_mask"
"""A manifest column ``liver_mask`` gives the case's liver mask (evaluation with --region liver)."""
MAX_SEARCH_DEPTH = 3
"""autoPET nests cases two folders deep (<patient>/<study>); one more level tolerates a wrapping folder."""


@dataclass
class PairedCase:
    """Where one CT + PET pair (and optional lesion labels) lives on disk."""

    case_id: str
    ct_path: Path
    pet_path: Path
    lesions_path: Path | None = None
    suv_parameters: dict[str, str] = field(default_factory=dict)
    folder: Path | None = None
    """The case's own folder (None for a CSV row), where :mod:`.regions` looks for organ masks."""
    region_masks: dict[str, Path] = field(default_factory=dict)
    """Region name -> mask file, from a CSV manifest's ``<region>_mask`` columns."""
    series: str | None = None
    """The series to read from a DICOM folder of the case that holds several (``--series``)."""


@dataclass
class LoadedCase:
    """A case in memory: the CT (HU), the PET in SUV and the lesion labels, all on the CT's grid."""

    case_id: str
    ct: Volume
    suv: Volume
    lesions: Volume | None = None


# ---- discovery ---------------------------------------------------------------------------------------------------
def discover_cases(data: str | os.PathLike, series: str | None = None) -> list[PairedCase]:
    """All paired cases in a folder (see the module text) or a CSV manifest, in a stable (sorted) order;
    ``series`` names the series of their DICOM folders that hold several."""
    source = Path(data)
    if not source.exists():
        raise InputError(f"'{source}' does not exist; pass a folder of CT/PET cases or a CSV manifest (ct,pet).")
    if source.is_file():
        if source.suffix.lower() != ".csv":
            raise InputError(f"'{source.name}' is neither a folder of cases nor a .csv manifest with columns ct,pet.")
        cases = _cases_from_csv(source)
    else:
        cases = _cases_in_folder(source, source, depth=0)
    if not cases:
        raise InputError(f"No CT + PET pairs found in '{source}': each case folder needs ct.* and pet.* "
                         "(or autoPET's CTres.nii.gz and SUV.nii.gz).")
    for case in cases:
        case.series = series
    return cases


def _entry_stem(path: Path) -> str:
    """Lower-case name without its volume suffix (``CTres.nii.gz`` -> ``ctres``; a folder keeps its name)."""
    name = path.name.lower()
    if path.is_dir():
        return name
    suffix = volume_suffix(path)
    return name[: -len(suffix)] if suffix and name.endswith(suffix) else path.stem.lower()


def _is_volume_entry(path: Path) -> bool:
    if path.name.startswith("."):
        return False
    if path.is_dir():
        return True  # a DICOM series folder
    return volume_suffix(path) in VOLUME_SUFFIXES or volume_suffix(path) == ".dcm"


def _pick(entries: dict[str, Path], names: tuple[str, ...]) -> Path | None:
    for name in names:
        if name in entries:
            return entries[name]
    return None


def _case_in(folder: Path, root: Path) -> PairedCase | None:
    """The case held directly in ``folder``, None when it holds neither a CT nor a PET."""
    entries = {_entry_stem(p): p for p in sorted(folder.iterdir()) if _is_volume_entry(p)}
    case_id = folder.relative_to(root).as_posix() if folder != root else folder.name
    case_id = case_id.replace("/", "_") or folder.name
    if "ctres" in entries and "suv" in entries:  # autoPET: CT resampled to the PET grid + SUV + lesion SEG
        return PairedCase(case_id, entries["ctres"], entries["suv"], entries.get("seg"), folder=folder)
    ct, pet = _pick(entries, CT_NAMES), _pick(entries, PET_NAMES)
    if ct is None and pet is None:
        return None
    if ct is None or pet is None:
        have, missing = ("CT", "PET (pet.nii.gz, pet.nrrd or a 'pet' DICOM folder)") if pet is None else \
            ("PET", "CT (ct.nii.gz, ct.nrrd or a 'ct' DICOM folder)")
        raise InputError(f"Case folder '{folder}' has a {have} but no {missing}; add it or remove the folder.")
    return PairedCase(case_id, ct, pet, _pick(entries, LESION_NAMES), folder=folder)


def _cases_in_folder(folder: Path, root: Path, depth: int) -> list[PairedCase]:
    case = _case_in(folder, root)
    if case is not None:
        return [case]
    if depth >= MAX_SEARCH_DEPTH:
        return []
    cases: list[PairedCase] = []
    for child in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        cases.extend(_cases_in_folder(child, root, depth + 1))
    return cases


def _cases_from_csv(manifest: Path) -> list[PairedCase]:
    try:
        with open(manifest, newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise InputError(f"'{manifest.name}' could not be read as a CSV manifest ({error}).") from None
    if not rows or not {"ct", "pet"} <= {key.strip().lower() for key in rows[0] if key}:
        raise InputError(f"'{manifest.name}' needs a header row with columns ct,pet (optional lesions) and one "
                         "row per case.")
    cases = []
    for number, raw in enumerate(rows, start=2):
        row = {(key or "").strip().lower(): (value or "").strip() for key, value in raw.items()}
        if not row["ct"] or not row["pet"]:
            raise InputError(f"'{manifest.name}' line {number} lacks a CT or a PET path; every row needs both.")
        paths = {}
        for column in ("ct", "pet", "lesions", *(key for key in row if key.endswith(MASK_COLUMN_SUFFIX))):
            if row.get(column):
                path = Path(row[column])
                path = path if path.is_absolute() else manifest.parent / path
                if not path.exists():
                    raise InputError(f"'{manifest.name}' line {number}: {column} file '{path}' does not exist.")
                paths[column] = path
        case_id = row.get("case_id") or f"case_{number - 1:04d}"
        parameters = {key: row[key] for key in SUV_COLUMNS if row.get(key)}
        masks = {column.removesuffix(MASK_COLUMN_SUFFIX): path for column, path in paths.items()
                 if column.endswith(MASK_COLUMN_SUFFIX)}
        cases.append(PairedCase(case_id, paths["ct"], paths["pet"], paths.get("lesions"), parameters,
                                region_masks=masks))
    return cases


# ---- loading -----------------------------------------------------------------------------------------------------
def read_pet_as_suv(case: PairedCase) -> Volume:
    """The case's PET in SUV on its own grid (DICOM: from the headers; files: header/name says SUV, or CSV)."""
    path = case.pet_path
    if path.is_dir() or volume_suffix(path) == ".dcm":
        return load_pet_as_suv(path, **_suv_arguments(case.suv_parameters),
                               series=series_if_several(path, case.series), default_half_life_s=DEFAULT_HALF_LIFE_S)
    volume = read_volume(path)
    if volume.units.upper() == "SUV" or _entry_stem(path) == "suv":
        return volume.with_array(volume.array.astype("float32", copy=False), modality="PT", units="SUV")
    if not case.suv_parameters:
        raise InputError(f"PET '{path.name}' of case {case.case_id} does not say it holds SUV; name it suv.nii.gz, "
                         "convert it with 'medgansynth suv', or give weight_kg,dose_mbq,injection_time,scan_time "
                         "columns in the CSV.")
    return load_pet_as_suv(path, **_suv_arguments(case.suv_parameters), default_half_life_s=DEFAULT_HALF_LIFE_S)


def _suv_arguments(parameters: dict[str, str]) -> dict:
    arguments: dict = {}
    for key, value in parameters.items():
        if key in ("weight_kg", "dose_mbq", "half_life_s"):
            try:
                arguments[key] = float(value)
            except ValueError:
                raise InputError(f"The manifest's {key} '{value}' is not a number.") from None
        else:
            arguments[key] = value
    return arguments


def load_case(case: PairedCase) -> LoadedCase:
    """Read a pair, check the CT, convert the PET to SUV and resample PET (and lesion labels) onto the CT grid."""
    ct = read_volume(case.ct_path, series=series_if_several(case.ct_path, case.series), modality="CT")
    try:
        check_ct(ct)
    except InputError as error:
        raise InputError(f"Case {case.case_id}: {error}") from None
    suv = read_pet_as_suv(case)
    if not suv.same_grid(ct):
        suv = resample_to_reference(suv, ct, "linear", default_value=0.0)
    suv = suv.with_array(suv.array.astype("float32", copy=False), modality="PT", units="SUV")
    lesions = None
    if case.lesions_path is not None:
        lesions = read_volume(case.lesions_path)
        if not lesions.same_grid(ct):
            lesions = resample_to_reference(lesions.with_array(lesions.array, units="label"), ct, "nearest")
        lesions = lesions.with_array(lesions.array.astype("int32", copy=False), modality="SEG", units="label")
    return LoadedCase(case.case_id, ct, suv, lesions)
