"""The PET a command works on, in SUV: downstream of a DICOM PET everything is SUV.

* A DICOM PET (folder or .dcm) is converted with :func:`~MedGANSynthLib.pet.suv.load_pet_as_suv` from its headers;
  the user's SUV options override tags, and a missing tag is named with its option (e.g. ``--weight-kg``).
* A NIfTI/NRRD/MHA file has no SUV headers. It is used as SUV only when its header says so (files MedGANSynth
  wrote) or the user says so (``units="suv"``); with the SUV options it is converted from Bq/ml. Otherwise it is
  refused, because projecting Bq/ml and calling it SUV is exactly the silent error to avoid. ``units="bqml"`` is
  the explicit acknowledgement: the result stays in Bq/ml (and says so), for DICOM too.
* Every input must look like a PET: a CT (Modality CT, or values down to air at about -1000 HU) is refused.
"""

from __future__ import annotations

import os
from dataclasses import asdict
from pathlib import Path

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.io.dicom_folder import series_if_several
from MedGANSynthLib.io.dicom_series import read_dicom_series_with_headers
from MedGANSynthLib.io.volume_io import read_volume, volume_suffix
from MedGANSynthLib.pet.suv import SuvOverrides, load_pet_as_suv, suv_from_dicom_headers
from MedGANSynthLib.validation import require_pet, require_suv
from MedGANSynthLib.volume import Volume

ACKNOWLEDGED_UNITS = ("suv", "bqml")
SUV_FLAGS = "--weight-kg, --dose-mbq, --injection-time and --scan-time"


def is_dicom_input(path: str | os.PathLike) -> bool:
    source = Path(path)
    return source.is_dir() or volume_suffix(source) == ".dcm"


def read_pet_in_suv(path: str | os.PathLike, overrides: SuvOverrides | None = None, units: str | None = None,
                    units_flag: bool = True, series: str | int | None = None) -> Volume:
    """The PET at ``path`` in SUV (or in Bq/ml with ``units="bqml"``); see the module notes for the rules.

    ``units_flag``: whether the caller offers ``--units`` (the refusal of an unlabelled file then mentions it).
    ``series`` names the PET series of a DICOM folder holding several.
    """
    overrides = overrides or SuvOverrides()
    if units is not None and units not in ACKNOWLEDGED_UNITS:
        raise InputError(f"--units must be one of {', '.join(ACKNOWLEDGED_UNITS)} (got '{units}').")
    if units == "bqml" and overrides.given():
        raise InputError("--units bqml keeps activity concentration; drop it or the SUV options (--weight-kg ...).")
    source = Path(path)
    if is_dicom_input(source) and units != "bqml":
        return load_pet_as_suv(source, **asdict(overrides), series=series)
    volume = read_volume(source, series=series, modality="PT")
    require_pet(volume, f"'{source.name}'")
    if units == "bqml":
        return volume.with_array(volume.array, modality=volume.modality or "PT", units=volume.units or "BQML")
    if volume.units.upper() in ("SUV", "GML"):
        return volume
    if units == "suv":
        require_suv(volume, f"'{source.name}'")
        return volume.with_array(volume.array, modality=volume.modality or "PT", units="SUV")
    if overrides.given() or not units_flag:
        return load_pet_as_suv(source, **asdict(overrides))  # names the missing options itself
    raise InputError(f"'{source.name}' does not say whether it holds SUV or Bq/ml. Pass {SUV_FLAGS} (and "
                     "--half-life-s) to convert Bq/ml to SUV, --units suv if it already holds SUV, or --units bqml "
                     "to keep Bq/ml.")


def read_volume_with_pet_in_suv(path: str | os.PathLike, overrides: SuvOverrides | None = None,
                                units: str | None = None, series: str | int | None = None) -> Volume:
    """Any volume (CT, label map, PET) as :func:`read_volume` gives it, except that a DICOM PET comes in SUV
    (converted from the headers read with it: the series is read once)."""
    if units == "bqml" or not is_dicom_input(path):
        return read_volume(path, series=series)
    volume, headers = read_dicom_series_with_headers(path, series=series)
    if volume.modality.upper() != "PT" or volume.units.upper() == "SUV":
        return volume
    return suv_from_dicom_headers(volume, headers, overrides)


def read_listed_pet_as_suv(path: str | os.PathLike, series: str | int | None = None) -> Volume:
    """A PET a user listed as SUV (data-set CSV): DICOM converted from its headers; a file must hold SUV values.
    ``series`` names the PET in DICOM folders that hold several series (one name for every listed folder)."""
    source = Path(path)
    if is_dicom_input(source):
        return load_pet_as_suv(source, series=series_if_several(source, series))
    volume = read_volume(source)
    require_suv(volume, f"'{source.name}'")
    return volume if volume.units.upper() == "SUV" else volume.with_array(volume.array, units="SUV")
