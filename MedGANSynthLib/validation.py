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
