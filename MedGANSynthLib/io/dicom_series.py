"""Read one DICOM image series (a folder, or a single ``.dcm`` file) into a :class:`Volume` with exact geometry.

Decisions, so that odd folders give one clear sentence instead of a wrong image:

* Files that are not DICOM (README, thumbnails) and DICOM files without an image (DICOMDIR, structured reports)
  are skipped with a warning; if no image is left the folder is refused.
* A file whose SOP class is an image storage class but whose pixel data is missing or short is a truncated copy:
  it is refused, never skipped, because a missing slice would silently corrupt the volume.
* Two or more SeriesInstanceUIDs are refused: the user passes one folder per series.
* Slices are ordered by their position along the slice normal (ImagePositionPatient . (row x column cosines)),
  never by file name or InstanceNumber. The gaps between consecutive slices must be uniform; duplicated or
  irregular positions (dynamic frames, missing slices) are refused.
* Rescale slope AND intercept are applied per file: PET series change them slice by slice.

Geometry follows DICOM PS3.3 C.7.6.2: ImageOrientationPatient holds the row direction (the way the column index
i grows) then the column direction (the way the row index j grows). PixelSpacing is [spacing between rows,
spacing between columns], i.e. [j spacing, i spacing] -- the reverse of the (i, j, k) order used by Volume.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.jobs.progress import CancelToken, ProgressCallback, report
from MedGANSynthLib.volume import Volume

LOGGER = logging.getLogger(__name__)

# Slice gaps may differ by this fraction of the mean gap (plus an absolute 0.01 mm for rounded positions).
GAP_TOLERANCE_FRACTION = 0.01
GAP_TOLERANCE_MM = 0.01
# Orientation cosines written with few digits still agree to this tolerance between slices of one series.
ORIENTATION_TOLERANCE = 1e-4


@dataclass
class DicomSlice:
    """One decoded image file: rescaled pixels plus the header (pixel data dropped to save memory)."""

    path: Path
    header: Dataset
    pixels: np.ndarray


def read_dicom_series(
    path: str | os.PathLike,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> Volume:
    """Read the single DICOM series in folder ``path`` (or the single file ``path``) as a Volume.

    CT comes back in HU; PET in the units of its Units tag (``BQML``; ``GML`` is reported as ``SUV``). Use
    :func:`MedGANSynthLib.pet.suv.load_pet_as_suv` to get SUV from a Bq/ml PET.
    """
    volume, _ = read_dicom_series_with_headers(path, progress, cancel)
    return volume


def read_dicom_series_with_headers(
    path: str | os.PathLike,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> tuple[Volume, list[Dataset]]:
    """Like :func:`read_dicom_series`, also returning the headers in slice order (for SUV parameters)."""
    source = Path(path)
    if not source.exists():
        raise InputError(f"'{source}' does not exist; check the path.")
    files = sorted(p for p in source.iterdir() if p.is_file()) if source.is_dir() else [source]
    slices = _read_image_files(files, source, progress, cancel)
    _require_one_series(slices, source)
    _require_consistent_frames(slices, source)
    row, column, normal = _orientation(slices[0].header)
    slices.sort(key=lambda s: float(np.dot(_position(s.header), normal)))
    slice_spacing = _slice_spacing(slices, normal, source)
    array = np.stack([s.pixels for s in slices]).astype(np.float32)
    first = slices[0].header
    row_spacing, column_spacing = (float(v) for v in first.PixelSpacing)
    modality = str(first.get("Modality", "")).upper()
    volume = Volume(
        array=array,
        spacing=(column_spacing, row_spacing, slice_spacing),
        origin=tuple(_position(first)),
        direction=np.column_stack([row, column, normal]),
        modality=modality,
        units=_units(first, modality),
        metadata=_series_metadata(slices, source),
    )
    return volume, [s.header for s in slices]


# --- reading files --------------------------------------------------------------------------------------


def _read_image_files(
    files: list[Path], source: Path, progress: ProgressCallback | None, cancel: CancelToken | None
) -> list[DicomSlice]:
    slices: list[DicomSlice] = []
    skipped: list[str] = []
    for number, file in enumerate(files):
        report(progress, cancel, "read DICOM", number, len(files), file.name)
        dataset = _read_dicom_or_none(file)
        if dataset is None or not _holds_image(dataset):
            skipped.append(file.name)
            continue
        slices.append(DicomSlice(file, dataset, _rescaled_pixels(dataset, file)))
    report(progress, cancel, "read DICOM", len(files), len(files))
    if skipped:
        LOGGER.warning("Skipped %d file(s) without a DICOM image in '%s': %s", len(skipped), source, skipped[:5])
    if not slices:
        raise InputError(
            f"'{source}' holds no DICOM image files ({len(files)} file(s) checked); choose the folder of one "
            "DICOM series or a .dcm image file."
        )
    return slices


def _read_dicom_or_none(file: Path) -> Dataset | None:
    """The dataset, or None for files that are not DICOM at all (a README beside the images)."""
    try:
        return pydicom.dcmread(file)
    except InvalidDicomError:
        return None
    except (OSError, EOFError, ValueError, KeyError, TypeError) as error:
        raise InputError(f"'{file.name}' is a damaged DICOM file ({error}); re-export or remove it.") from error


def _is_image_storage(dataset: Dataset) -> bool:
    meta = getattr(dataset, "file_meta", None)
    for uid in (dataset.get("SOPClassUID", ""), meta.get("MediaStorageSOPClassUID", "") if meta else ""):
        if uid and "Image Storage" in pydicom.uid.UID(str(uid)).name:
            return True
    return False


def _holds_image(dataset: Dataset) -> bool:
    """True for image files; False for DICOMDIR and other image-less DICOM; truncated images are refused."""
    if "PixelData" in dataset:
        return True
    if _is_image_storage(dataset) or "Rows" in dataset:
        raise InputError(
            f"'{Path(dataset.filename).name}' is an image DICOM file without its pixel data (truncated copy?); "
            "copy the series again."
        )
    return False


def _rescaled_pixels(dataset: Dataset, file: Path) -> np.ndarray:
    """Stored values times this file's own RescaleSlope plus its RescaleIntercept, in float64."""
    if int(dataset.get("NumberOfFrames", 1) or 1) > 1:
        raise InputError(
            f"'{file.name}' is a multi-frame DICOM object; export the series as one file per slice."
        )
    if int(dataset.get("SamplesPerPixel", 1)) != 1:
        raise InputError(f"'{file.name}' is a colour image (screenshot?), not a CT or PET slice.")
    for tag in ("ImagePositionPatient", "ImageOrientationPatient", "PixelSpacing"):
        if tag not in dataset:
            raise InputError(f"'{file.name}' has no {tag}, so its position in the patient is unknown.")
    try:
        stored = dataset.pixel_array
    except (ValueError, AttributeError, RuntimeError, NotImplementedError) as error:
        raise InputError(
            f"'{file.name}' pixel data cannot be decoded (truncated file or unsupported compression)."
        ) from error
    slope = float(dataset.get("RescaleSlope", 1.0) or 1.0)
    intercept = float(dataset.get("RescaleIntercept", 0.0) or 0.0)
    del dataset.PixelData  # headers are kept for SUV parameters; the pixels live in the array
    return stored.astype(np.float64) * slope + intercept


# --- consistency checks ---------------------------------------------------------------------------------


def _require_one_series(slices: list[DicomSlice], source: Path) -> None:
    uids = {str(s.header.get("SeriesInstanceUID", "")) for s in slices}
    if len(uids) > 1:
        raise InputError(
            f"'{source}' mixes {len(uids)} DICOM series (different SeriesInstanceUID); pass one folder per series."
        )


def _require_consistent_frames(slices: list[DicomSlice], source: Path) -> None:
    first = slices[0]
    for other in slices[1:]:
        if other.pixels.shape != first.pixels.shape:
            raise InputError(
                f"'{source}': images have different sizes ({first.path.name} is {first.pixels.shape[1]}x"
                f"{first.pixels.shape[0]}, {other.path.name} is {other.pixels.shape[1]}x{other.pixels.shape[0]}); "
                "they are not one series."
            )
        if not np.allclose(_cosines(other.header), _cosines(first.header), atol=ORIENTATION_TOLERANCE):
            raise InputError(f"'{source}': slices have different ImageOrientationPatient; they are not one volume.")
        if not np.allclose(_floats(other.header.PixelSpacing), _floats(first.header.PixelSpacing), atol=1e-4):
            raise InputError(f"'{source}': slices have different PixelSpacing; they are not one volume.")


# --- geometry --------------------------------------------------------------------------------------------


def _floats(values) -> np.ndarray:
    return np.array([float(v) for v in values], dtype=float)


def _position(header: Dataset) -> np.ndarray:
    return _floats(header.ImagePositionPatient)


def _cosines(header: Dataset) -> np.ndarray:
    return _floats(header.ImageOrientationPatient)


def _orientation(header: Dataset) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unit row direction (i grows), column direction (j grows) and slice normal = row x column."""
    cosines = _cosines(header)
    row, column = cosines[:3], cosines[3:]
    if not np.isclose(np.linalg.norm(row), 1.0, atol=1e-3) or not np.isclose(np.linalg.norm(column), 1.0, atol=1e-3):
        raise InputError("ImageOrientationPatient does not hold two unit vectors; the DICOM header is damaged.")
    row, column = row / np.linalg.norm(row), column / np.linalg.norm(column)
    return row, column, np.cross(row, column)


def _slice_spacing(slices: list[DicomSlice], normal: np.ndarray, source: Path) -> float:
    """Distance between consecutive slice planes; SliceThickness for a one-slice volume."""
    if len(slices) == 1:
        header = slices[0].header
        thickness = header.get("SpacingBetweenSlices") or header.get("SliceThickness")
        return float(thickness) if thickness and float(thickness) > 0 else 1.0
    offsets = np.array([np.dot(_position(s.header), normal) for s in slices])
    gaps = np.diff(offsets)
    mean_gap = float(np.mean(gaps))
    if np.min(gaps) <= GAP_TOLERANCE_MM:
        raise InputError(
            f"'{source}' has several images at the same slice position (a dynamic or multi-phase series?); "
            "pass one time frame or phase per folder."
        )
    if np.max(np.abs(gaps - mean_gap)) > GAP_TOLERANCE_FRACTION * mean_gap + GAP_TOLERANCE_MM:
        raise InputError(
            f"'{source}' has non-uniform slice gaps ({np.min(gaps):.3g} to {np.max(gaps):.3g} mm; missing "
            "slices?); copy the complete series."
        )
    return mean_gap


# --- labels ------------------------------------------------------------------------------------------------


def _units(header: Dataset, modality: str) -> str:
    if modality == "CT":
        return "HU"
    if modality == "PT":
        units = str(header.get("Units", "")).upper()
        return "SUV" if units == "GML" else units
    return ""


def _series_metadata(slices: list[DicomSlice], source: Path) -> dict:
    first = slices[0].header
    return {
        "source": str(source),
        "dicom": {
            "SeriesInstanceUID": str(first.get("SeriesInstanceUID", "")),
            "SeriesDescription": str(first.get("SeriesDescription", "")),
            "Modality": str(first.get("Modality", "")),
            "files": len(slices),
        },
    }
