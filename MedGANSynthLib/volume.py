"""The image type every part of the core passes around: a numpy array plus its physical geometry.

Conventions (the same as SimpleITK and the files it reads):

* ``array`` is indexed ``[k, j, i]`` (slice, row, column), so ``array.shape == (size_k, size_j, size_i)``.
* ``spacing``, ``origin`` are given in ``(i, j, k)`` order, in millimetres, in the **LPS** patient frame
  (x to the patient's left, y to posterior, z to superior). Slicer works in RAS; ``MedGANSynthLib.mrml``
  converts at the boundary.
* ``direction`` is a 3x3 matrix whose **columns** are the unit vectors of the i, j and k axes in LPS.
* The physical position of voxel ``(i, j, k)`` is ``origin + direction @ (spacing * (i, j, k))``.

A 2-D image such as a MIP is a Volume with one slice along the projected axis, so it keeps true pixel spacing.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from MedGANSynthLib.errors import InputError


@dataclass
class Volume:
    array: np.ndarray
    spacing: tuple[float, float, float] = (1.0, 1.0, 1.0)
    origin: tuple[float, float, float] = (0.0, 0.0, 0.0)
    direction: np.ndarray = field(default_factory=lambda: np.eye(3))
    modality: str = ""
    """"CT", "PT", "SEG" (label map), "MIP" or "" when unknown."""
    units: str = ""
    """"HU", "SUV", "BQML", "label" or "" when unknown."""
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.array = np.asarray(self.array)
        if self.array.ndim != 3:
            raise InputError(
                f"A volume needs 3 dimensions (slices, rows, columns); this image has {self.array.ndim}."
            )
        self.spacing = tuple(float(s) for s in self.spacing)
        self.origin = tuple(float(o) for o in self.origin)
        self.direction = np.asarray(self.direction, dtype=float).reshape(3, 3)
        if len(self.spacing) != 3 or len(self.origin) != 3:
            raise InputError("Spacing and origin need three values each (i, j, k).")
        if not all(np.isfinite(s) and s > 0 for s in self.spacing):
            raise InputError(f"Voxel spacing must be positive and finite; got {self.spacing} mm.")

    # --- geometry -------------------------------------------------------------------------------------
    @property
    def size(self) -> tuple[int, int, int]:
        """Number of voxels along (i, j, k)."""
        k, j, i = self.array.shape
        return (i, j, k)

    @property
    def index_to_physical(self) -> np.ndarray:
        """4x4 homogeneous matrix mapping (i, j, k, 1) to LPS millimetres."""
        matrix = np.eye(4)
        matrix[:3, :3] = self.direction @ np.diag(self.spacing)
        matrix[:3, 3] = self.origin
        return matrix

    def physical_point(self, index_ijk) -> np.ndarray:
        """LPS position (mm) of a continuous index given as (i, j, k)."""
        index = np.asarray(index_ijk, dtype=float)
        return np.asarray(self.origin) + self.direction @ (np.asarray(self.spacing) * index)

    def continuous_index(self, point_lps) -> np.ndarray:
        """Continuous (i, j, k) index of an LPS point (mm)."""
        offset = np.asarray(point_lps, dtype=float) - np.asarray(self.origin)
        return np.linalg.solve(self.direction @ np.diag(self.spacing), offset)

    def with_array(self, array: np.ndarray, **changes: Any) -> Volume:
        """A copy on the same grid holding another array (and optionally other fields)."""
        return replace(self, array=array, metadata=dict(self.metadata), **changes)

    def same_grid(self, other: Volume, tolerance_mm: float = 1e-4) -> bool:
        """True when both volumes sample exactly the same physical points."""
        return self.array.shape == other.array.shape and bool(
            np.allclose(self.index_to_physical, other.index_to_physical, atol=tolerance_mm)
        )

    def axis_along(self, patient_axis: int) -> int:
        """The array axis (0 = k, 1 = j, 2 = i) whose direction is closest to LPS axis 0 (L), 1 (P) or 2 (S)."""
        column = int(np.argmax(np.abs(self.direction[patient_axis, :])))
        return 2 - column

    def __repr__(self) -> str:
        return (
            f"Volume(shape={self.array.shape}, dtype={self.array.dtype}, spacing={self.spacing}, "
            f"origin={self.origin}, modality={self.modality!r}, units={self.units!r})"
        )
