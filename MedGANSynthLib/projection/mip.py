"""Maximum-intensity projection (MIP) along a patient axis, kept as a one-slice Volume with true geometry.

The output keeps the input's direction matrix and has ONE voxel along the projected array axis. That slice is
placed at the centre of the projected extent (the physical point of continuous index (n - 1) / 2 along that
axis). Its spacing along that axis stays the input's spacing (not the slab thickness, which would fail every
plausible-spacing check downstream); the kept axes keep their spacing and their origin coordinates.

Speed (measured on this 2-core machine, 600x512x512 float32, best of 3): ``arr.copy()`` 0.181 s; numpy
``max(axis)`` 0.056 / 0.088 / 0.095 s on array axes 0 / 1 / 2; ``torch.amax`` 0.052 / 0.056 / 0.053 s (it uses
both cores). So torch is used, with numpy as the fallback for dtypes torch cannot reduce (uint16, uint32).
"""

from __future__ import annotations

import warnings

import numpy as np
import torch

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.validation import require_not_empty
from MedGANSynthLib.volume import Volume

# The LPS axis each projection runs along: coronal looks from the front (anterior-posterior, y), sagittal from
# the side (left-right, x), axial from head to feet (superior, z).
PROJECTION_PATIENT_AXIS = {"coronal": 1, "sagittal": 0, "axial": 2}


def projected_array_axis(volume: Volume, axis: str) -> int:
    """The array axis (0 = k, 1 = j, 2 = i) a projection named ``axis`` collapses."""
    name = str(axis).lower()
    if name not in PROJECTION_PATIENT_AXIS:
        raise InputError(f"Unknown projection axis '{axis}'; choose coronal, sagittal or axial.")
    return volume.axis_along(PROJECTION_PATIENT_AXIS[name])


def max_along(array: np.ndarray, array_axis: int) -> np.ndarray:
    """``array.max(array_axis, keepdims=True)``, computed by torch on all cores when it can wrap the array."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # read-only arrays are fine: we only read them
            tensor = torch.from_numpy(array)
        return torch.amax(tensor, dim=array_axis, keepdim=True).numpy()
    except (TypeError, ValueError, NotImplementedError, RuntimeError):
        # dtypes torch cannot wrap or reduce (uint16/uint32), negative strides, read-only edge cases
        return array.max(axis=array_axis, keepdims=True)


def mip(volume: Volume, axis: str = "coronal") -> Volume:
    """Maximum-intensity projection of ``volume`` along the patient axis named ``axis``.

    NaN voxels propagate into the projection (a ray through NaN is NaN); the projection is checked instead of the
    whole volume because a full finiteness check would cost more than the projection itself.
    """
    require_not_empty(volume, "The volume to project")
    array_axis = projected_array_axis(volume, axis)
    projection = max_along(volume.array, array_axis)
    if not np.isfinite(projection).all():
        raise InputError("The volume holds NaN or infinite voxels; fix or mask them before computing a MIP.")
    column = 2 - array_axis  # (i, j, k) index of the projected axis
    count = volume.size[column]
    centre_index = np.zeros(3)
    centre_index[column] = (count - 1) / 2.0
    metadata = dict(volume.metadata)
    metadata.update(mip_axis=str(axis).lower(), source_modality=volume.modality, projected_voxels=count)
    return Volume(
        array=projection,
        spacing=volume.spacing,
        origin=tuple(volume.physical_point(centre_index)),
        direction=volume.direction.copy(),
        modality="MIP",
        units=volume.units,
        metadata=metadata,
    )
