"""Variants of the real DICOM in ../shared/data for the conformance tests: moved slices, other series, other
transfer syntaxes. Expected pixels come from the raw bytes with numpy (``raw_stored``), never from the reader."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pydicom
from conftest import shared_data_path
from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid


def real_ct_datasets() -> list[Dataset]:
    """The 20 real CT slices, uncompressed (they ship as JPEG 2000 lossless), sorted from feet to head."""
    datasets = []
    for path in sorted(shared_data_path("ct-dicom-thorax").iterdir()):
        dataset = pydicom.dcmread(path)
        # decoded once (pydicom's decoders); the variants are then uncompressed and compared with their raw bytes
        dataset.PixelData = dataset.pixel_array.astype(dataset.pixel_array.dtype.newbyteorder("<")).tobytes()
        dataset["PixelData"].VR = "OW"
        dataset.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        if int(pydicom.__version__.split(".")[0]) < 3:  # pydicom 2.4 (Slicer 5.10) writes by these flags
            dataset.is_little_endian, dataset.is_implicit_VR = True, False
        if not str(dataset.get("SOPClassUID", "")).strip():  # the real files leave it empty; GDCM needs it
            dataset.SOPClassUID = dataset.file_meta.MediaStorageSOPClassUID
        datasets.append(dataset)
    return sorted(datasets, key=lambda d: float(d.ImagePositionPatient[2]))


def real_pet_dataset() -> Dataset:
    return pydicom.dcmread(shared_data_path("pet-dicom-flt-breast", "1.dcm"))


def raw_stored(dataset: Dataset) -> np.ndarray:
    """Stored values straight from uncompressed little-endian PixelData bytes (numpy only)."""
    assert dataset.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian
    kind = "i" if int(dataset.PixelRepresentation) else "u"
    dtype = np.dtype(f"<{kind}{int(dataset.BitsAllocated) // 8}")
    return np.frombuffer(dataset.PixelData, dtype=dtype).reshape(int(dataset.Rows), int(dataset.Columns))


def raw_rescaled(dataset: Dataset) -> np.ndarray:
    """Stored values times slope plus intercept, in float32 as a Volume keeps them."""
    slope = float(dataset.get("RescaleSlope", 1) or 1)
    intercept = float(dataset.get("RescaleIntercept", 0) or 0)
    return (raw_stored(dataset) * slope + intercept).astype(np.float32)


def write_slices(folder: Path, datasets: list[Dataset], positions=None, orientations=None,
                 series_uid: str | None = None, **tags) -> Path:
    """Save copies of ``datasets`` into ``folder``, moved to ``positions`` / turned to ``orientations`` if given."""
    folder.mkdir(parents=True, exist_ok=True)
    series_uid = series_uid or generate_uid()
    for number, source in enumerate(datasets):
        dataset = copy.deepcopy(source)  # Dataset.copy() shares its elements with the original
        if positions is not None:
            dataset.ImagePositionPatient = [round(float(v), 6) for v in positions[number]]
        if orientations is not None:
            dataset.ImageOrientationPatient = [round(float(v), 8) for v in orientations[number]]
        dataset.SeriesInstanceUID = series_uid
        dataset.SOPInstanceUID = dataset.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        dataset.InstanceNumber = number + 1
        for keyword, value in tags.items():
            setattr(dataset, keyword, value)
        dataset.save_as(folder / f"{number:04d}.dcm")
    return folder


def transcode(source: Path, target: Path, syntax_name: str) -> Path:
    """Re-encode one file with GDCM (an independent codec library) into ``gdcm.TransferSyntax.<syntax_name>``."""
    import gdcm

    reader = gdcm.ImageReader()
    reader.SetFileName(str(source))
    assert reader.Read(), f"GDCM cannot read {source}"
    change = gdcm.ImageChangeTransferSyntax()
    change.SetTransferSyntax(gdcm.TransferSyntax(getattr(gdcm.TransferSyntax, syntax_name)))
    change.SetInput(reader.GetImage())
    assert change.Change(), f"GDCM cannot encode {syntax_name}"
    writer = gdcm.ImageWriter()
    writer.SetFileName(str(target))
    writer.SetFile(reader.GetFile())
    writer.SetImage(change.GetOutput())
    assert writer.Write(), f"GDCM cannot write {target}"
    return target
