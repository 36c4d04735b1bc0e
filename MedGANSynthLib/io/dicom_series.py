"""Read one DICOM image series (from a folder tree, or a single ``.dcm`` file) into a :class:`Volume`.

Decisions, so that odd folders give one clear sentence instead of a wrong image:

* Which series: :mod:`MedGANSynthLib.io.dicom_folder` lists every series up to 4 folders down and picks the one
  named by ``series=`` (SeriesNumber or SeriesInstanceUID), or the only image series, or the only one of the
  ``modality`` the caller needs; otherwise the list comes back in the error. Non-image objects (RTSTRUCT, SEG,
  SR, DICOMDIR) are listed, never read as images; files that are not DICOM (README, thumbnails) are ignored.
* A file whose SOP class is an image storage class but whose pixel data is missing or short is a truncated copy:
  it is refused, never skipped, because a missing slice would silently corrupt the volume.
* Pixels are decoded by :mod:`MedGANSynthLib.io.dicom_pixels` (every transfer syntax PACS export).
* Slices are ordered by their position along the slice normal (ImagePositionPatient . (row x column cosines)),
  never by file name or InstanceNumber. :mod:`MedGANSynthLib.io.dicom_geometry` then accepts position jitter,
  resamples (with one warning line and a note in ``metadata["dicom"]["resampled"]``) or refuses missing slices,
  varying spacing and gantry tilt, and refuses slices that are not parallel; its docstring gives the thresholds.
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

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.io.dicom_folder import SeriesEntry, choose_series, list_dicom_series
from MedGANSynthLib.io.dicom_geometry import apply_grid, describe_resampling, plan_grid, require_parallel
from MedGANSynthLib.io.dicom_pixels import stored_pixels
from MedGANSynthLib.jobs.progress import CancelToken, ProgressCallback, report
from MedGANSynthLib.volume import Volume

LOGGER = logging.getLogger(__name__)


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
    *,
    series: str | int | None = None,
    modality: str | None = None,
) -> Volume:
    """Read one DICOM series from folder ``path`` (searched 4 levels down) or the file ``path`` as a Volume.

    ``series`` names the series (SeriesNumber or SeriesInstanceUID) when the folder holds several; ``modality``
    ("PT", "CT") picks the only series of that modality when the caller needs one. CT comes back in HU; PET in
    the units of its Units tag (``BQML``; ``GML`` is reported as ``SUV``). Use
    :func:`MedGANSynthLib.pet.suv.load_pet_as_suv` to get SUV from a Bq/ml PET.
    """
    volume, _ = read_dicom_series_with_headers(path, progress, cancel, series=series, modality=modality)
    return volume


def read_dicom_series_with_headers(
    path: str | os.PathLike,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    *,
    series: str | int | None = None,
    modality: str | None = None,
) -> tuple[Volume, list[Dataset]]:
    """Like :func:`read_dicom_series`, also returning the headers in slice order (for SUV parameters)."""
    source = Path(path)
    listing = list_dicom_series(source)
    chosen = choose_series(listing, source, series, modality)
    slices = _read_image_files(chosen.files, source, progress, cancel)
    _require_consistent_frames(slices, source)
    row, column, normal = _orientation(slices[0].header)
    slices.sort(key=lambda s: float(np.dot(_position(s.header), normal)))
    first = slices[0].header
    row_spacing, column_spacing = (float(v) for v in first.PixelSpacing)
    pixel_spacing_ij = (column_spacing, row_spacing)
    plan = plan_grid(np.array([_position(s.header) for s in slices]), row, column, pixel_spacing_ij,
                     [_instance_number(s.header) for s in slices], source)
    array = apply_grid(np.stack([s.pixels for s in slices]).astype(np.float32), plan, pixel_spacing_ij)
    metadata = _series_metadata(slices, source, chosen, listing.series)
    if plan.resampled:
        metadata["dicom"]["resampled"] = describe_resampling(plan.notes)
        metadata["dicom"]["geometry"] = plan.notes
        LOGGER.warning("DICOM series '%s' resampled onto a uniform grid: %s.", source, metadata["dicom"]["resampled"])
    modality_tag = str(first.get("Modality", "")).upper()
    volume = Volume(
        array=array.astype(np.float32, copy=False),
        spacing=(column_spacing, row_spacing, plan.slice_spacing or _single_slice_thickness(first)),
        origin=tuple(plan.origin),
        direction=np.column_stack([row, column, normal]),
        modality=modality_tag,
        units=_units(first, modality_tag),
        metadata=metadata,
    )
    return volume, [s.header for s in slices]


# --- reading files --------------------------------------------------------------------------------------


def _read_image_files(
    files: list[Path], source: Path, progress: ProgressCallback | None, cancel: CancelToken | None
) -> list[DicomSlice]:
    slices: list[DicomSlice] = []
    for number, file in enumerate(files):
        report(progress, cancel, "read DICOM", number, len(files), file.name)
        try:
            dataset = pydicom.dcmread(file)
        except Exception as error:  # the header read before; what fails now is the pixel data
            raise InputError(f"'{file.name}' is a damaged DICOM file ({error}); re-export or remove it.") from error
        _require_pixel_data(dataset, file)
        slices.append(DicomSlice(file, dataset, _rescaled_pixels(dataset, file)))
    report(progress, cancel, "read DICOM", len(files), len(files))
    return slices


def _require_pixel_data(dataset: Dataset, file: Path) -> None:
    if "PixelData" not in dataset:
        raise InputError(
            f"'{file.name}' is an image DICOM file without its pixel data (truncated copy?); copy the series again."
        )


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
    stored = stored_pixels(dataset, file.name)
    slope = float(dataset.get("RescaleSlope", 1.0) or 1.0)
    intercept = float(dataset.get("RescaleIntercept", 0.0) or 0.0)
    del dataset.PixelData  # headers are kept for SUV parameters; the pixels live in the array
    return stored.astype(np.float64) * slope + intercept


# --- consistency checks ---------------------------------------------------------------------------------


def _require_consistent_frames(slices: list[DicomSlice], source: Path) -> None:
    first = slices[0]
    for other in slices[1:]:
        if other.pixels.shape != first.pixels.shape:
            raise InputError(
                f"'{source}': images have different sizes ({first.path.name} is {first.pixels.shape[1]}x"
                f"{first.pixels.shape[0]}, {other.path.name} is {other.pixels.shape[1]}x{other.pixels.shape[0]}); "
                "they are not one series."
            )
        if not np.allclose(_floats(other.header.PixelSpacing), _floats(first.header.PixelSpacing), atol=1e-4):
            raise InputError(f"'{source}': slices have different PixelSpacing; they are not one volume.")
    require_parallel([_cosines(s.header) for s in slices], [s.path.name for s in slices], source)


# --- geometry --------------------------------------------------------------------------------------------


def _floats(values) -> np.ndarray:
    return np.array([float(v) for v in values], dtype=float)


def _position(header: Dataset) -> np.ndarray:
    return _floats(header.ImagePositionPatient)


def _cosines(header: Dataset) -> np.ndarray:
    return _floats(header.ImageOrientationPatient)


def _instance_number(header: Dataset) -> int | None:
    try:
        return int(header.InstanceNumber)
    except (AttributeError, TypeError, ValueError):
        return None


def _orientation(header: Dataset) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unit row direction (i grows), column direction (j grows) and slice normal = row x column."""
    cosines = _cosines(header)
    row, column = cosines[:3], cosines[3:]
    if not np.isclose(np.linalg.norm(row), 1.0, atol=1e-3) or not np.isclose(np.linalg.norm(column), 1.0, atol=1e-3):
        raise InputError("ImageOrientationPatient does not hold two unit vectors; the DICOM header is damaged.")
    row, column = row / np.linalg.norm(row), column / np.linalg.norm(column)
    return row, column, np.cross(row, column)


def _single_slice_thickness(header: Dataset) -> float:
    """The k spacing of a one-slice volume: SpacingBetweenSlices, else SliceThickness, else 1 mm."""
    thickness = header.get("SpacingBetweenSlices") or header.get("SliceThickness")
    return float(thickness) if thickness and float(thickness) > 0 else 1.0


# --- labels ------------------------------------------------------------------------------------------------


def _units(header: Dataset, modality: str) -> str:
    if modality == "CT":
        return "HU"
    if modality == "PT":
        units = str(header.get("Units", "")).upper()
        return "SUV" if units == "GML" else units
    return ""


def _series_metadata(slices: list[DicomSlice], source: Path, chosen: SeriesEntry,
                     entries: list[SeriesEntry]) -> dict:
    first = slices[0].header
    dicom = {
        "SeriesInstanceUID": str(first.get("SeriesInstanceUID", "")),
        "SeriesNumber": chosen.number,
        "SeriesDescription": str(first.get("SeriesDescription", "")),
        "Modality": str(first.get("Modality", "")),
        "files": len(slices),
    }
    if len(entries) > 1:
        dicom["other_series"] = [entry.as_dict() for entry in entries if entry is not chosen]
    return {"source": str(source), "dicom": dicom}
