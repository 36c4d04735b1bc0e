"""Checks that turn unusable input into one clear sentence instead of silent garbage."""

from __future__ import annotations

import numpy as np

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.volume import Volume

# Spacing outside this range is almost surely a header error (metres written as mm, or a missing tag).
PLAUSIBLE_SPACING_MM = (0.05, 50.0)


def require_finite(volume: Volume, what: str = "The volume") -> None:
    bad = ~np.isfinite(volume.array)
    if bad.any():
        raise InputError(
            f"{what} has {int(bad.sum())} NaN or infinite voxels; fix or mask them before processing."
        )


def require_not_empty(volume: Volume, what: str = "The volume") -> None:
    if volume.array.size == 0:
        raise InputError(f"{what} has no voxels.")


def require_not_constant(volume: Volume, what: str = "The volume") -> None:
    require_not_empty(volume, what)
    if float(np.min(volume.array)) == float(np.max(volume.array)):
        raise InputError(
            f"{what} holds one constant value ({float(np.min(volume.array)):g}) everywhere; it is not an image."
        )


def require_plausible_spacing(volume: Volume, what: str = "The volume") -> None:
    low, high = PLAUSIBLE_SPACING_MM
    if not all(low <= s <= high for s in volume.spacing):
        raise InputError(
            f"{what} has voxel spacing {tuple(round(s, 4) for s in volume.spacing)} mm, outside the plausible "
            f"{low}-{high} mm; check the file header."
        )


def require_image(volume: Volume, what: str = "The volume") -> None:
    """The checks every imaging input passes: voxels exist, are finite, vary, and spacing is plausible."""
    require_not_empty(volume, what)
    require_finite(volume, what)
    require_not_constant(volume, what)
    require_plausible_spacing(volume, what)


# --- is it the kind of image the command expects? ---------------------------------------------------------------
# A CT in HU always holds air (about -1000 HU) around the body or in the lungs; a PET (Bq/ml or SUV) is >= ~0.
AIR_HU_BELOW = -500.0
PET_UNITS = {"SUV", "BQML", "CNTS", "GML", "CM2ML", "PROPCPS"}
SUV_MAX_PLAUSIBLE = 100.0
"""Above this a value is not SUV: no tissue reaches SUV 100, while Bq/ml images reach thousands."""


def require_pet(volume: Volume, what: str = "The image") -> None:
    """Refuse a CT (DICOM Modality CT, units HU, or values below -500 like air in HU) where a PET is expected."""
    modality, units = volume.modality.upper(), volume.units.upper()
    if modality == "CT" or units == "HU":
        raise InputError(f"{what} is a CT (modality '{volume.modality}', units '{volume.units}'), not a PET; "
                         "pass the PET series of the study.")
    if modality in {"SEG", "RTSTRUCT"} or units == "LABEL":
        raise InputError(f"{what} is a label map (segmentation), not a PET; pass the PET series of the study.")
    lowest = float(np.nanmin(volume.array)) if volume.array.size else 0.0
    if modality != "PT" and units not in PET_UNITS and lowest < AIR_HU_BELOW:
        raise InputError(f"{what} goes down to {lowest:.0f}, as a CT in Hounsfield units does (air is -1000 HU); "
                         "a PET is 0 or above. Pass the PET, not the CT.")


def require_ct(volume: Volume, what: str = "The image") -> None:
    """Refuse a PET (DICOM Modality PT, PET units, or no value below -500 HU: no air) where a CT is expected."""
    modality, units = volume.modality.upper(), volume.units.upper()
    if modality in {"PT", "PET"} or units in PET_UNITS:
        raise InputError(f"{what} is a PET (modality '{volume.modality}', units '{volume.units}'), not a CT; "
                         "pass the CT series of the study.")
    if modality in {"SEG", "RTSTRUCT"} or units == "LABEL":
        raise InputError(f"{what} is a label map (segmentation), not a CT; pass the CT series of the study.")
    lowest = float(np.nanmin(volume.array)) if volume.array.size else 0.0
    if lowest >= AIR_HU_BELOW:
        raise InputError(f"{what} never goes below {lowest:.0f}, so it holds no air (about -1000 HU): it is not a "
                         "CT in Hounsfield units (a PET, or a CT without its rescale intercept?); pass the CT.")


def require_suv(volume: Volume, what: str = "The image") -> None:
    """Refuse an image that is not SUV: other units in its header, a CT, or values no SUV reaches (Bq/ml)."""
    require_pet(volume, what)
    units = volume.units.upper()
    if units and units not in {"SUV", "GML"}:
        raise InputError(f"{what} is in {volume.units}, not SUV; convert it first with 'medgansynth suv'.")
    highest = float(np.nanmax(volume.array)) if volume.array.size else 0.0
    if highest > SUV_MAX_PLAUSIBLE:
        raise InputError(f"{what} reaches {highest:,.0f}, far above any SUV (<= {SUV_MAX_PLAUSIBLE:g}): it looks like "
                         "Bq/ml; convert it first with 'medgansynth suv'.")
