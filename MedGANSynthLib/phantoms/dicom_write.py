"""Write a phantom Volume as a valid single-frame DICOM CT or PET series (one file per slice), atomically.

* CT: HU stored as int16 with RescaleSlope 1 and RescaleIntercept -1024, so integer HU round-trip exactly.
* PET: activity concentration in Bq/ml (Units BQML, DecayCorrection START or ADMIN) stored as int16 with a
  per-slice RescaleSlope (slice maximum / 32767), as scanners do, so the quantisation error is at most half a
  step of each slice's own range. A Volume in SUV is converted with the given SUV parameters first. The SUV tags
  (PatientWeight, RadiopharmaceuticalInformationSequence with dose, start time/date-time and half-life, Series
  and Acquisition date/time) come from those parameters, so any DICOM reader can recompute SUV.

Geometry (DICOM PS3.3 C.7.6.2): ImagePositionPatient of slice k = origin + k * spacing_k * k-axis;
ImageOrientationPatient = i-axis then j-axis; PixelSpacing = [j spacing, i spacing]. The reader orders slices along
i-axis x j-axis, so a left-handed direction (k-axis opposite to that cross product) comes back flipped along k --
same physical voxels, different array order.

The series is written into a temporary sibling folder and renamed into place, so a failure leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import (
    PYDICOM_IMPLEMENTATION_UID,
    CTImageStorage,
    ExplicitVRLittleEndian,
    PositronEmissionTomographyImageStorage,
    generate_uid,
)

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.jobs.progress import CancelToken, ProgressCallback, report
from MedGANSynthLib.pet.suv import SuvParameters, suv_to_bqml
from MedGANSynthLib.volume import Volume

CT_INTERCEPT = -1024.0
INT16_MAX = 32767


def write_dicom_series(
    volume: Volume,
    folder: str | os.PathLike,
    suv_parameters: SuvParameters | None = None,
    patient_name: str = "MedGANSynth^Phantom",
    patient_id: str = "PHANTOM",
    series_description: str = "",
    study_instance_uid: str | None = None,
    frame_of_reference_uid: str | None = None,
    series_number: int = 1,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> Path:
    """Write ``volume`` (CT in HU, or PET in SUV/Bq/ml with ``suv_parameters``) as a DICOM series in ``folder``.

    ``folder`` must not exist or be empty. Pass the same ``study_instance_uid`` and ``frame_of_reference_uid`` to a
    CT and its PET so viewers fuse them. Returns the folder.
    """
    target = Path(folder)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise InputError(f"'{target}' already exists and is not an empty folder; choose a new output folder.")
    _require_orthonormal(volume.direction)
    builder = _slice_builder(volume, suv_parameters)
    shared = _shared_header(
        volume, patient_name, patient_id, series_description, series_number,
        study_instance_uid or generate_uid(), frame_of_reference_uid or generate_uid(),
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        count = volume.array.shape[0]
        for k in range(count):
            report(progress, cancel, "write DICOM", k, count)
            dataset = _slice_dataset(shared, volume, k)
            builder(dataset, k)
            _finish_meta(dataset)
            _save_conformant(dataset, temp / f"IM{k + 1:05d}.dcm")
        report(progress, cancel, "write DICOM", count, count)
        if target.exists():
            target.rmdir()
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            shutil.rmtree(temp)
        raise
    return target


def _require_orthonormal(direction: np.ndarray) -> None:
    if not np.allclose(direction.T @ direction, np.eye(3), atol=1e-5):
        raise InputError("The volume's direction matrix is not orthonormal (sheared grid); DICOM cannot store it.")


def _save_conformant(dataset: FileDataset, path: Path) -> None:
    """Write with preamble and file meta. pydicom 3 spells this enforce_file_format; 2.4 (shipped by Slicer 5.10)
    write_like_original=False."""
    if int(pydicom.__version__.split(".")[0]) >= 3:
        dataset.save_as(path, enforce_file_format=True)
    else:
        dataset.save_as(path, write_like_original=False)


# --- modality-specific pixels -----------------------------------------------------------------------------


def _slice_builder(volume: Volume, suv_parameters: SuvParameters | None):
    """A function filling pixels (and modality tags) of slice k, chosen from the volume's modality/units."""
    if volume.modality == "CT" or volume.units == "HU":
        _require_int16_range(volume.array.astype(np.float64) - CT_INTERCEPT)
        return lambda dataset, k: _fill_ct(dataset, volume.array[k])
    if volume.modality == "PT" or volume.units in ("SUV", "BQML"):
        if suv_parameters is None:
            raise InputError("Writing a PET DICOM needs SUV parameters (weight, dose, injection and scan times).")
        if volume.units not in ("SUV", "BQML"):
            raise InputError(f"A PET to write as DICOM must be in SUV or BQML; this one is in '{volume.units}'.")
        bqml = suv_to_bqml(volume, suv_parameters) if volume.units == "SUV" else volume
        if not np.all(np.isfinite(bqml.array)):
            raise InputError("The PET holds NaN or infinite voxels; DICOM cannot store them.")
        return lambda dataset, k: _fill_pet(dataset, bqml.array[k], suv_parameters, k, bqml.array.shape[0])
    raise InputError(
        f"Only CT (HU) and PET (SUV or Bq/ml) volumes can be written as DICOM; this one is "
        f"'{volume.modality or '?'}' in '{volume.units or '?'}'."
    )


def _require_int16_range(stored: np.ndarray) -> None:
    if not np.all(np.isfinite(stored)) or stored.min() < -32768 or stored.max() > INT16_MAX:
        raise InputError("The CT has values outside -33792..31743 HU (or NaN); DICOM int16 cannot store them.")


def _fill_ct(dataset: FileDataset, hu: np.ndarray) -> None:
    dataset.SOPClassUID = CTImageStorage
    dataset.RescaleSlope = 1
    dataset.RescaleIntercept = int(CT_INTERCEPT)
    dataset.RescaleType = "HU"
    dataset.ImageType = ["DERIVED", "SECONDARY", "AXIAL"]
    dataset.WindowCenter, dataset.WindowWidth = 40, 400
    _set_pixels(dataset, np.rint(hu.astype(np.float64) - CT_INTERCEPT))


def _fill_pet(dataset: FileDataset, bqml: np.ndarray, parameters: SuvParameters, k: int, count: int) -> None:
    dataset.SOPClassUID = PositronEmissionTomographyImageStorage
    peak = float(np.max(np.abs(bqml)))
    slope = peak / INT16_MAX if peak > 0 else 1.0
    dataset.RescaleSlope = _ds_text(slope)
    slope = float(dataset.RescaleSlope)  # quantise with the slope exactly as stored (DS has 16 characters)
    dataset.RescaleIntercept = 0
    dataset.RescaleType = "BQML"
    dataset.ImageType = ["ORIGINAL", "PRIMARY"]
    dataset.Units = "BQML"
    dataset.DecayCorrection = parameters.decay_correction
    dataset.CorrectedImage = ["ATTN", "DECY"]
    dataset.SeriesType = ["STATIC", "IMAGE"]
    dataset.CountsSource = "EMISSION"
    dataset.ImageIndex = k + 1
    # Pixels represent activity at the series start itself: frame reference 0 ms, decay factor 1 (PS3.3 C.8.9.4).
    dataset.FrameReferenceTime = 0
    dataset.DecayFactor = 1
    dataset.ActualFrameDuration = 180000
    dataset.NumberOfSlices = count
    dataset.PatientWeight = _ds_text(parameters.weight_kg)
    _set_scan_time(dataset, parameters)
    dataset.RadiopharmaceuticalInformationSequence = Sequence([_radiopharmaceutical_item(parameters)])
    _set_pixels(dataset, np.clip(np.rint(bqml / slope), -INT16_MAX, INT16_MAX))


def _set_scan_time(dataset: FileDataset, parameters: SuvParameters) -> None:
    """Series/acquisition date-time = the decay reference time, so readers recompute the same uptake time."""
    scan, injection = parameters.scan_time, parameters.injection_time
    if scan.has_date:
        moment = scan.moment
    elif injection.has_date:
        moment = injection.moment + timedelta(seconds=parameters.uptake_s)
    else:
        moment = None  # clock times only: keep the series date of writing, readers apply the midnight rule
    clock = (moment or scan.moment).strftime("%H%M%S.%f")
    dataset.SeriesTime = dataset.AcquisitionTime = dataset.StudyTime = dataset.ContentTime = clock
    if moment is not None:
        day = moment.strftime("%Y%m%d")
        dataset.SeriesDate = dataset.AcquisitionDate = dataset.StudyDate = dataset.ContentDate = day


def _radiopharmaceutical_item(parameters: SuvParameters) -> Dataset:
    item = Dataset()
    injection = parameters.injection_time.moment
    item.RadiopharmaceuticalStartTime = injection.strftime("%H%M%S.%f")
    if parameters.injection_time.has_date:
        item.RadiopharmaceuticalStartDateTime = injection.strftime("%Y%m%d%H%M%S.%f")
    item.RadionuclideTotalDose = _ds_text(parameters.dose_bq)
    item.RadionuclideHalfLife = _ds_text(parameters.half_life_s)
    return item


def _set_pixels(dataset: FileDataset, stored: np.ndarray) -> None:
    values = stored.astype(np.int16)
    dataset.Rows, dataset.Columns = values.shape
    dataset.SamplesPerPixel = 1
    dataset.PhotometricInterpretation = "MONOCHROME2"
    dataset.BitsAllocated = 16
    dataset.BitsStored = 16
    dataset.HighBit = 15
    dataset.PixelRepresentation = 1
    dataset.PixelData = values.tobytes()


def _ds_text(value: float) -> str:
    """A Decimal String of at most 16 characters keeping as many significant digits as fit."""
    for digits in range(15, 5, -1):
        text = f"{value:.{digits}g}"
        if len(text) <= 16:
            return text
    return f"{value:.6g}"


# --- headers shared by every slice ------------------------------------------------------------------------


def _shared_header(
    volume: Volume, patient_name: str, patient_id: str, description: str, number: int, study: str, frame: str
) -> dict:
    stamp = datetime.now()
    return {
        "PatientName": patient_name,
        "PatientID": patient_id,
        "PatientBirthDate": "",
        "PatientSex": "O",
        "ReferringPhysicianName": "",
        "AccessionNumber": "",
        "StudyID": "1",
        "StudyInstanceUID": study,
        "SeriesInstanceUID": generate_uid(),
        "FrameOfReferenceUID": frame,
        "StudyDate": stamp.strftime("%Y%m%d"),
        "StudyTime": stamp.strftime("%H%M%S"),
        "SeriesNumber": number,
        "SeriesDescription": description or f"MedGANSynth {volume.modality or 'image'}",
        "PositionReferenceIndicator": "",
        "PatientPosition": "HFS",
        "Manufacturer": "MedGANSynth",
        "ImageOrientationPatient": [_ds_text(v) for v in (*volume.direction[:, 0], *volume.direction[:, 1])],
        "PixelSpacing": [_ds_text(volume.spacing[1]), _ds_text(volume.spacing[0])],
        "SliceThickness": _ds_text(volume.spacing[2]),
        "SpacingBetweenSlices": _ds_text(volume.spacing[2]),
    }


def _slice_dataset(shared: dict, volume: Volume, k: int) -> FileDataset:
    meta = FileMetaDataset()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    dataset = FileDataset(None, {}, file_meta=meta, preamble=b"\0" * 128)
    for keyword, value in shared.items():
        setattr(dataset, keyword, value)
    dataset.Modality = "CT" if volume.modality == "CT" or volume.units == "HU" else "PT"
    dataset.SOPInstanceUID = generate_uid()
    dataset.InstanceNumber = k + 1
    position = volume.physical_point((0.0, 0.0, float(k)))
    dataset.ImagePositionPatient = [_ds_text(v) for v in position]
    dataset.SliceLocation = _ds_text(float(np.dot(position, np.cross(volume.direction[:, 0], volume.direction[:, 1]))))
    dataset.SeriesDate = dataset.AcquisitionDate = dataset.ContentDate = dataset.StudyDate
    dataset.SeriesTime = dataset.AcquisitionTime = dataset.ContentTime = dataset.StudyTime
    return dataset


def _finish_meta(dataset: FileDataset) -> None:
    dataset.file_meta.MediaStorageSOPClassUID = dataset.SOPClassUID
    dataset.file_meta.MediaStorageSOPInstanceUID = dataset.SOPInstanceUID
