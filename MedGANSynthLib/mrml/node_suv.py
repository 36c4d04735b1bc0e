"""The PET of a volume node in SUV: already SUV, from the DICOM headers it was loaded from, or from given values.

Inside Slicer a node loaded from the DICOM database keeps its instance UIDs; its headers then follow the same
Units / DecayCorrection rules as a DICOM file. Outside Slicer (or for a node from a NIfTI/NRRD file) the caller
gives weight, dose and times.
"""

from __future__ import annotations

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.mrml.volume_nodes import volume_from_node
from MedGANSynthLib.volume import Volume


def node_as_suv(node, volume: Volume, weight_kg, dose_mbq, injection_time, scan_time, half_life_s) -> Volume:
    """SUV of a PET node: already SUV, from its DICOM headers (inside Slicer), else from the given values."""
    from MedGANSynthLib.pet.suv import (
        DEFAULT_HALF_LIFE_S,
        SuvOverrides,
        bqml_to_suv,
        suv_from_dicom_headers,
        suv_parameters_from_values,
    )

    given = (weight_kg, dose_mbq, injection_time, scan_time, half_life_s)
    if volume.units == "SUV":
        if any(value is not None for value in given):
            raise InputError(f"Volume '{node.GetName()}' is already in SUV; use SUV from DICOM tags (no values).")
        return volume
    volume = volume.with_array(volume.array.astype("float32"), modality="PT", units="BQML")
    headers = dicom_headers_of(node)
    overrides = SuvOverrides(weight_kg, dose_mbq, injection_time, scan_time, half_life_s)
    if headers:  # the same Units / DecayCorrection rules as a DICOM file (Philips CNTS, NONE, GML)
        return suv_from_dicom_headers(volume, headers, overrides)
    missing = [name for name, value in zip(("weightKg", "doseMBq", "injectionTime", "scanTime"), given, strict=False)
               if value is None]
    if missing:
        raise InputError(f"Volume '{node.GetName()}' has no DICOM headers to read SUV parameters from; "
                         f"enter {', '.join(missing)}.")
    return bqml_to_suv(volume, suv_parameters_from_values(overrides, DEFAULT_HALF_LIFE_S))


def dicom_pet_in_suv(node, volume: Volume) -> Volume:
    """A node loaded from a DICOM PET (Slicer's DICOM database) in SUV; every other volume unchanged."""
    if volume.units.upper() == "SUV":
        return volume
    headers = dicom_headers_of(node)
    if not headers or str(headers[0].get("Modality", "")).upper() != "PT":
        return volume
    return node_as_suv(node, volume, None, None, None, None, None)  # the vendor rules of DICOM files (Units ...)


def pet_for_projection(node, units: str | None) -> Volume:
    """The PET of ``node`` in SUV (or, with ``units="bqml"``, as it is); a CT or an unlabelled volume is refused."""
    from MedGANSynthLib.validation import require_pet, require_suv

    what = f"Volume '{node.GetName()}'"
    if units not in (None, "suv", "bqml"):
        raise InputError(f"units must be 'suv' or 'bqml' (got '{units}').")
    volume = volume_from_node(node)
    require_pet(volume, what)
    if units == "bqml":
        return volume.with_array(volume.array, units=volume.units or "BQML")
    volume = dicom_pet_in_suv(node, volume)
    if volume.units.upper() == "SUV":
        return volume
    if units == "suv":
        require_suv(volume, what)
        return volume.with_array(volume.array, units="SUV")
    raise InputError(f"{what} does not say it holds SUV (no SUV units, no DICOM PET headers); compute the SUV first "
                     "(PET section: weight, dose and times), or pass units='suv' if it holds SUV or units='bqml' to "
                     "project Bq/ml.")


def dicom_headers_of(node) -> list:
    """pydicom headers of the files a node was loaded from (Slicer's DICOM database); [] outside Slicer."""
    uids = (node.GetAttribute("DICOM.instanceUIDs") or "").split()
    database = getattr(__import__("slicer"), "dicomDatabase", None) if uids else None
    if database is None:
        return []
    import pydicom

    files = [database.fileForInstance(uid) for uid in uids]
    return [pydicom.dcmread(path, stop_before_pixels=True) for path in files if path]
