"""Find the DICOM series in a folder as a user copies it off a PACS, and pick the one a command needs.

A folder may hold one series, several (PET + CT + RTSTRUCT, or several reconstructions of one PET), or a
patient/study tree with one series per subfolder. :func:`list_dicom_series` reads the headers (not the pixels)
of every file up to ``MAX_DEPTH`` folders down and groups them by SeriesInstanceUID. :func:`choose_series` then
picks, in this order: the series the user named (SeriesNumber or SeriesInstanceUID); the only image series; the
only image series of the modality the command needs. Anything else is refused with the list, so the user can
name one. Objects without an image volume (RTSTRUCT, SEG, SR, RT plans, presentation states, DICOMDIR) are
listed but never picked.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError

from MedGANSynthLib.errors import InputError

# Depth of subfolders searched below the given folder: patient / study / series / (one spare level).
MAX_DEPTH = 4
# Modalities whose objects are not image volumes even when they carry pixel-like data (SEG frames, dose grids).
NON_IMAGE_MODALITIES = frozenset({"RTSTRUCT", "SEG", "SR", "RTPLAN", "RTDOSE", "RTRECORD", "KO", "PR", "REG",
                                  "RWV", "DOC", "PLAN", "FID"})
SERIES_OPTION_HINT = "choose one with --series NUMBER|UID (series= in Python)"
MODALITY_NAMES = {"CT": "CT", "PT": "PET"}


@dataclass
class SeriesEntry:
    """One series (or one non-series object such as a DICOMDIR) found in a folder."""

    uid: str
    number: str
    modality: str
    description: str
    is_image: bool
    files: list[Path] = field(default_factory=list)

    def line(self) -> str:
        """``#4 PT 'WB 3D' 263 files UID 1.2...``; objects that are no image say so instead of their UID."""
        identity = f"UID {self.uid or '-'}" if self.is_image else "not an image"
        return (f"#{self.number or '-'} {self.modality or '?'} '{self.description}' {len(self.files)} "
                f"file{'s' if len(self.files) != 1 else ''} {identity}")

    def as_dict(self) -> dict:
        return {"SeriesNumber": self.number, "SeriesInstanceUID": self.uid, "Modality": self.modality,
                "SeriesDescription": self.description, "files": len(self.files), "image": self.is_image}


@dataclass
class FolderListing:
    """The series found under a path, and how many files were looked at."""

    series: list[SeriesEntry]
    files_checked: int

    def lines(self) -> str:
        return "; ".join(entry.line() for entry in self.series)


def list_dicom_series(path: str | os.PathLike, max_depth: int = MAX_DEPTH) -> FolderListing:
    """Every series under ``path`` (a folder searched ``max_depth`` levels down, or one file), sorted."""
    source = Path(path)
    if not source.exists():
        raise InputError(f"'{source}' does not exist; check the path.")
    files = _candidate_files(source, max_depth)
    entries: dict[str, SeriesEntry] = {}
    without_uid: list[tuple[Path, SeriesEntry]] = []
    for file in files:
        header = _read_header_or_none(file)
        if header is None:
            continue
        entry = _entry_for(header)
        if entry.uid:
            entries.setdefault(entry.uid, entry).files.append(file)
        else:
            without_uid.append((file, entry))
    for file, entry in without_uid:
        _add_without_uid(entries, file, entry)
    return FolderListing(sorted(entries.values(), key=_sort_key), len(files))


def _add_without_uid(entries: dict[str, SeriesEntry], file: Path, entry: SeriesEntry) -> None:
    """Anonymised exports may blank SeriesInstanceUID, and a file cut short loses it: such image files belong to
    the one series of their folder, or else form one series per folder. Other objects stay on their own."""
    if not entry.is_image:
        entries[f"file:{file}"] = entry
        entry.files.append(file)
        return
    beside = {key for key, other in entries.items() if other.files and other.files[0].parent == file.parent
              and other.is_image and not key.startswith("file:")}
    key = beside.pop() if len(beside) == 1 else f"folder:{file.parent}"
    entries.setdefault(key, entry).files.append(file)


def choose_series(listing: FolderListing, source, series: str | int | None = None,
                  modality: str | None = None) -> SeriesEntry:
    """The series the caller asked for, or the one unambiguous image series (see the module docstring)."""
    entries = listing.series
    if series is not None and str(series).strip():
        return _named_series(entries, source, str(series).strip(), listing.lines())
    images = [entry for entry in entries if entry.is_image]
    if not images:
        found = f"; it holds: {listing.lines()}" if entries else ""
        depth = f", {MAX_DEPTH} folder levels down" if Path(source).is_dir() else ""
        raise InputError(f"'{source}' holds no DICOM image files ({listing.files_checked} file(s) checked{depth}"
                         f"{found}); "
                         "choose the folder of a CT or PET series or a .dcm image file.")
    if len(images) == 1:
        return images[0]
    wanted = (modality or "").upper()
    matching = [entry for entry in images if entry.modality.upper() == wanted] if wanted else []
    if len(matching) == 1:
        return matching[0]
    if wanted and not matching and all(entry.modality for entry in images):  # --series could only pick a wrong one
        kinds = ", ".join(sorted({entry.modality.upper() for entry in images}))
        name = MODALITY_NAMES.get(wanted, wanted)
        raise InputError(f"'{source}' holds {len(images)} image series, none of them {name} (they are {kinds}); "
                         f"this needs the {name} series: choose a folder that holds it. Found: {listing.lines()}")
    what = f"{len(matching)} {wanted} series" if len(matching) > 1 else f"{len(images)} image series"
    raise InputError(f"'{source}' holds {what}; {SERIES_OPTION_HINT}. Found: {listing.lines()}")


def series_if_several(path: str | os.PathLike, series: str | int | None) -> str | int | None:
    """``series`` when the DICOM folder ``path`` holds several image series, else None. A data set of many
    folders takes one --series: it chooses where there is a choice, and a folder with one image series is read
    as it is (naming a series it lacks would refuse it)."""
    source = Path(path)
    if series is None or not str(series).strip() or not source.is_dir():
        return None
    images = [entry for entry in list_dicom_series(source).series if entry.is_image]
    return series if len(images) > 1 else None


def _named_series(entries: list[SeriesEntry], source, name: str, listing: str) -> SeriesEntry:
    chosen = [entry for entry in entries if entry.uid == name] or [
        entry for entry in entries if entry.number and _same_number(entry.number, name)]
    if not chosen:
        raise InputError(f"'{source}' has no series '{name}' (SeriesNumber or SeriesInstanceUID). Found: {listing}")
    if len(chosen) > 1:
        raise InputError(f"'{source}' has {len(chosen)} series numbered {name}; pass the SeriesInstanceUID "
                         f"instead. Found: {listing}")
    if not chosen[0].is_image:
        raise InputError(f"Series '{name}' in '{source}' is a {chosen[0].modality or 'non-image'} object, not an "
                         f"image series; choose a CT or PET series. Found: {listing}")
    return chosen[0]


def _same_number(number: str, name: str) -> bool:
    try:
        return int(float(number)) == int(name)
    except ValueError:
        return number == name


def _candidate_files(source: Path, max_depth: int) -> list[Path]:
    if not source.is_dir():
        return [source]
    files: list[Path] = []
    for folder, subfolders, names in os.walk(source):
        depth = len(Path(folder).relative_to(source).parts)
        subfolders[:] = sorted(s for s in subfolders if not s.startswith(".")) if depth < max_depth else []
        files += [Path(folder) / name for name in sorted(names) if not name.startswith(".")]
    return files


def _read_header_or_none(file: Path) -> Dataset | None:
    """The header without pixel data, or None for a file that is not DICOM (a README beside the images)."""
    try:
        return pydicom.dcmread(file, stop_before_pixels=True)
    except InvalidDicomError:
        return None
    except (OSError, EOFError, ValueError, KeyError, TypeError) as error:
        raise InputError(f"'{file.name}' is a damaged DICOM file ({error}); re-export or remove it.") from error


def _entry_for(header: Dataset) -> SeriesEntry:
    uid = str(header.get("SeriesInstanceUID", "") or "")
    modality = str(header.get("Modality", "") or "")
    number = header.get("SeriesNumber", "")
    sop_name = sop_class_name(header)
    if "Directory Storage" in sop_name:
        modality = modality or "DICOMDIR"
    return SeriesEntry(
        uid=uid,
        number="" if number in (None, "") else str(number),
        modality=modality,
        description=str(header.get("SeriesDescription", "") or ""),
        is_image=modality.upper() not in NON_IMAGE_MODALITIES and (
            "Image Storage" in sop_name or (not sop_name and "Rows" in header)),
    )


def sop_class_name(header: Dataset) -> str:
    """The SOP class name from SOPClassUID or, when empty (real files have it so), the file meta's."""
    meta = getattr(header, "file_meta", None)
    for uid in (header.get("SOPClassUID", ""), meta.get("MediaStorageSOPClassUID", "") if meta else ""):
        if uid and str(uid).strip():
            return pydicom.uid.UID(str(uid)).name
    return ""


def _sort_key(entry: SeriesEntry) -> tuple:
    try:
        number = int(float(entry.number))
    except ValueError:
        number = 1 << 30
    return (not entry.is_image, number, entry.modality, entry.uid)
