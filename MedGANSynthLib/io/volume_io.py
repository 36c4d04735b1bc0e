"""Read and write volumes with exact geometry. Files go through SimpleITK; DICOM folders through pydicom."""

from __future__ import annotations

import json
import os
from pathlib import Path

import SimpleITK as sitk

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.io.atomic import atomic_output
from MedGANSynthLib.io.file_integrity import check_file_integrity
from MedGANSynthLib.io.sitk_convert import from_sitk, to_sitk
from MedGANSynthLib.validation import require_plausible_spacing
from MedGANSynthLib.volume import Volume

VOLUME_SUFFIXES = (".nii", ".nii.gz", ".nrrd", ".nhdr", ".mha", ".mhd")
WRITABLE_SUFFIXES = (".nii", ".nii.gz", ".nrrd", ".mha")
# Stored in NRRD/MHA headers so modality and units survive a round trip through a file.
_MODALITY_KEY = "MedGANSynth.Modality"
_UNITS_KEY = "MedGANSynth.Units"
_METADATA_KEY = "MedGANSynth.Metadata"


def volume_suffix(path: str | os.PathLike) -> str:
    name = Path(path).name.lower()
    for suffix in sorted(VOLUME_SUFFIXES, key=len, reverse=True):
        if name.endswith(suffix):
            return suffix
    return Path(path).suffix.lower()


def read_volume(path: str | os.PathLike, *, series: str | int | None = None, modality: str | None = None) -> Volume:
    """Read a NIfTI / NRRD / MHA file, or a DICOM series (folder or .dcm file), keeping its geometry exactly.

    For DICOM folders holding several series, ``series`` (SeriesNumber or SeriesInstanceUID) names one and
    ``modality`` ("PT", "CT") picks the only series of that modality; both are ignored for other formats.

    Files that are truncated, whose header voxel size is 0, negative or NaN (io.file_integrity), or whose spacing
    is outside the plausible range (validation.PLAUSIBLE_SPACING_MM) are refused with an InputError.
    """
    source = Path(path)
    if not source.exists():
        raise InputError(f"'{source}' does not exist; check the path.")
    suffix = volume_suffix(source)
    if source.is_dir() or suffix == ".dcm":
        from MedGANSynthLib.io.dicom_series import read_dicom_series

        return read_dicom_series(source, series=series, modality=modality)
    if suffix not in VOLUME_SUFFIXES:
        raise InputError(
            f"'{source.name}' is not a volume format MedGANSynth reads; use NIfTI (.nii/.nii.gz), NRRD, MHA "
            "or a folder of DICOM files."
        )
    check_file_integrity(source, suffix)  # ITK pads truncated NIfTI with zeros and reads pixdim 0 as 1 mm
    try:
        image = sitk.ReadImage(str(source))
    except RuntimeError as error:
        raise InputError(f"'{source.name}' could not be read as {suffix} (truncated or corrupt file?).") from error
    volume = from_sitk(image)
    _read_header_metadata(image, volume)
    require_plausible_spacing(volume, f"'{source.name}'")
    return volume


def write_volume(volume: Volume, path: str | os.PathLike, compress: bool = True) -> Path:
    """Write ``volume`` atomically (temporary name, then rename); returns the final path."""
    target = Path(path)
    suffix = volume_suffix(target)
    if suffix not in WRITABLE_SUFFIXES:
        raise InputError(f"Cannot write '{target.name}': choose a .nrrd, .nii.gz, .nii or .mha file name.")
    image = to_sitk(volume)
    if suffix in (".nrrd", ".mha"):
        if volume.modality:
            image.SetMetaData(_MODALITY_KEY, volume.modality)
        if volume.units:
            image.SetMetaData(_UNITS_KEY, volume.units)
        if volume.metadata:
            image.SetMetaData(_METADATA_KEY, json.dumps(volume.metadata, default=str))
    with atomic_output(target) as temp:
        sitk.WriteImage(image, str(temp), useCompression=compress)
    return target


def _read_header_metadata(image: sitk.Image, volume: Volume) -> None:
    keys = set(image.GetMetaDataKeys())
    if _MODALITY_KEY in keys:
        volume.modality = image.GetMetaData(_MODALITY_KEY)
    if _UNITS_KEY in keys:
        volume.units = image.GetMetaData(_UNITS_KEY)
    if _METADATA_KEY in keys:
        try:
            volume.metadata = json.loads(image.GetMetaData(_METADATA_KEY))
        except ValueError:
            volume.metadata = {}
