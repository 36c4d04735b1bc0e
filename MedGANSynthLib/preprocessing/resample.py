"""Resampling in physical (LPS) coordinates with SimpleITK, so every output carries exact geometry.

* :func:`resample_isotropic` puts a volume on a grid of cubic voxels (default 2 mm, as RadioGAN, Amyar et al.,
  seed 000; its data-set builder asks for the paper's nearest neighbour explicitly).
* :func:`resample_to_reference` puts a PET on its CT's grid (virtual PET, Ben-Cohen et al., seed 002). It works
  through physical points, so grids with different origins, spacings and direction matrices line up.

The default interpolation, ``"auto"``, is linear for images (nearest neighbour would copy blocks of voxels and
move edges by up to half a voxel) and nearest neighbour for label maps. A label map is a volume with modality
"SEG" or units "label" (always nearest, whatever is asked: interpolating labels invents classes), or by its values:
an integer array with at most :data:`LABEL_MAP_MAX_VALUES` distinct non-negative values.
"""

from __future__ import annotations

import numpy as np
import SimpleITK as sitk

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.io.sitk_convert import from_sitk, to_sitk
from MedGANSynthLib.validation import (
    PLAUSIBLE_SPACING_MM,
    require_finite,
    require_not_empty,
    require_plausible_spacing,
)
from MedGANSynthLib.volume import Volume

INTERPOLATORS = {
    "nearest": sitk.sitkNearestNeighbor,
    "linear": sitk.sitkLinear,
    "bspline": sitk.sitkBSpline,
}
AUTO = "auto"
LABEL_MAP_MAX_VALUES = 32  # a CT or PET holds hundreds of distinct values; label maps a handful
# A grid this large (8 GB of float32) is a typo in the spacing, not a request.
MAX_OUTPUT_VOXELS = 2_000_000_000


def is_label_map(volume: Volume) -> bool:
    """Declared a label map: modality "SEG" or units "label"."""
    return volume.modality.upper() == "SEG" or volume.units.lower() == "label"


def looks_like_label_map(volume: Volume) -> bool:
    """Declared a label map, or an integer array of at most LABEL_MAP_MAX_VALUES distinct non-negative values."""
    if is_label_map(volume):
        return True
    if volume.array.dtype.kind not in "iub" or volume.array.size == 0:
        return False
    values = np.unique(volume.array)
    return values.size <= LABEL_MAP_MAX_VALUES and values[0] >= 0


def resample_isotropic(volume: Volume, spacing_mm: float = 2.0, interpolation: str = AUTO) -> Volume:
    """Resample ``volume`` to cubic voxels of ``spacing_mm`` with the same direction and field of view.

    The new grid is centred on the old field of view (the box spanned by the old voxels' edges) and has
    ``round(extent / spacing_mm)`` voxels per axis, so every new voxel centre lies inside the old field of view
    and no border voxel is filled with a default value.
    """
    _require_volume(volume, "The volume to resample")
    method = _interpolation_for(volume, interpolation)
    spacing_mm = _require_spacing(spacing_mm)
    old_spacing = np.asarray(volume.spacing)
    extent = np.asarray(volume.size) * old_spacing
    new_size = np.maximum(1, np.round(extent / spacing_mm)).astype(int)
    _require_reasonable_size(new_size, spacing_mm)
    # Centres of the old and new fields of view coincide: shift the first voxel centre accordingly.
    half_old = (extent - old_spacing) / 2.0
    half_new = (new_size * spacing_mm - spacing_mm) / 2.0
    origin = np.asarray(volume.origin) + volume.direction @ (half_old - half_new)
    reference = sitk.Image([int(n) for n in new_size], sitk.sitkUInt8)
    reference.SetSpacing([float(spacing_mm)] * 3)
    reference.SetOrigin([float(o) for o in origin])
    reference.SetDirection(tuple(volume.direction.ravel()))
    return _resample_onto(volume, reference, method, 0.0)


def resample_to_reference(
    moving: Volume, reference: Volume, interpolation: str = AUTO, default_value: float = 0.0
) -> Volume:
    """Resample ``moving`` (e.g. a PET) onto the exact grid of ``reference`` (e.g. its CT).

    Each reference voxel takes the value of ``moving`` at the same physical LPS point; points outside ``moving``
    get ``default_value``. Modality, units and metadata of ``moving`` are kept. Raises :class:`InputError` when
    the two volumes do not overlap at all (usually a PET and CT of different patients or studies), instead of
    returning a volume full of ``default_value``.
    """
    _require_volume(moving, "The image to resample")
    require_not_empty(reference, "The reference image")
    require_plausible_spacing(reference, "The reference image")
    method = _interpolation_for(moving, interpolation)
    if not grids_overlap(moving, reference):
        raise InputError(
            "The image and the reference do not overlap in space (different patient position or study?); "
            "choose the CT acquired with this PET."
        )
    target = sitk.Image([int(n) for n in reference.size], sitk.sitkUInt8)
    target.SetSpacing(reference.spacing)
    target.SetOrigin(reference.origin)
    target.SetDirection(tuple(reference.direction.ravel()))
    return _resample_onto(moving, target, method, float(default_value))


def grids_overlap(moving: Volume, reference: Volume) -> bool:
    """True when some reference voxel centre falls inside the moving image's field of view.

    Both are boxes (parallelepipeds) in physical space: the moving image's voxel edges, the reference's voxel
    centres. Two convex boxes are disjoint exactly when one of 15 axes separates them (separating-axis theorem):
    the 3 + 3 face normals and the 9 cross products of edge directions.
    """
    moving_corners = _box_corners(moving, -0.5, 0.5)
    reference_corners = _box_corners(reference, 0.0, -1.0)
    edges_moving = [moving.direction[:, c] for c in range(3)]
    edges_reference = [reference.direction[:, c] for c in range(3)]
    axes = [np.cross(a, b) for group in (edges_moving, edges_reference) for a, b in _pairs(group)]
    axes += [np.cross(a, b) for a in edges_moving for b in edges_reference]
    tolerance = 1e-6
    for axis in axes:
        norm = np.linalg.norm(axis)
        if norm < 1e-9:
            continue  # parallel edges: the face normals already cover this direction
        axis = axis / norm
        a, b = moving_corners @ axis, reference_corners @ axis
        if a.max() < b.min() - tolerance or b.max() < a.min() - tolerance:
            return False
    return True


def _pairs(vectors: list[np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(vectors[0], vectors[1]), (vectors[1], vectors[2]), (vectors[2], vectors[0])]


def _box_corners(volume: Volume, low: float, high_offset: float) -> np.ndarray:
    """8 physical corners of the index box [low, size + high_offset] along each axis."""
    high = np.asarray(volume.size, dtype=float) + high_offset
    corners = np.array([[x, y, z] for x in (low, high[0]) for y in (low, high[1]) for z in (low, high[2])])
    matrix = volume.index_to_physical
    return corners @ matrix[:3, :3].T + matrix[:3, 3]


def _resample_onto(volume: Volume, target: sitk.Image, method: int, default_value: float) -> Volume:
    image = to_sitk(volume)
    if method != sitk.sitkNearestNeighbor and image.GetPixelID() != sitk.sitkFloat64:
        # Interpolating integers would truncate (and B-spline overshoot could wrap around).
        image = sitk.Cast(image, sitk.sitkFloat32)
    result = sitk.Resample(image, target, sitk.Transform(), method, default_value, image.GetPixelID())
    out = from_sitk(result, modality=volume.modality, units=volume.units)
    out.metadata = dict(volume.metadata)
    out.metadata["interpolation"] = {v: k for k, v in INTERPOLATORS.items()}[method]
    return out


def _require_volume(volume: Volume, what: str) -> None:
    if not isinstance(volume, Volume):
        shape = getattr(volume, "shape", None)
        if shape is not None and len(shape) == 2:
            raise InputError(f"{what} is a 2-D image; resampling needs a 3-D volume with several slices.")
        raise InputError(f"{what} must be a Volume (array with geometry); got {type(volume).__name__}.")
    require_not_empty(volume, what)
    require_finite(volume, what)
    require_plausible_spacing(volume, what)


def _interpolation_for(volume: Volume, interpolation: str) -> int:
    name = str(interpolation).lower()
    if name != AUTO and name not in INTERPOLATORS:
        raise InputError(
            f"Unknown interpolation '{interpolation}'; choose one of {', '.join(INTERPOLATORS)} or {AUTO}."
        )
    if is_label_map(volume) or (name == AUTO and looks_like_label_map(volume)):
        return sitk.sitkNearestNeighbor
    return INTERPOLATORS["linear" if name == AUTO else name]


def _require_spacing(spacing_mm: float) -> float:
    low, high = PLAUSIBLE_SPACING_MM
    try:
        value = float(spacing_mm)
    except (TypeError, ValueError):
        raise InputError(f"Voxel spacing must be a number of millimetres; got {spacing_mm!r}.") from None
    if not (np.isfinite(value) and low <= value <= high):
        raise InputError(f"Voxel spacing {spacing_mm} mm is outside the plausible {low}-{high} mm; use e.g. 2.")
    return value


def _require_reasonable_size(size: np.ndarray, spacing_mm: float) -> None:
    voxels = int(np.prod(size.astype(np.int64)))
    if voxels > MAX_OUTPUT_VOXELS:
        raise InputError(
            f"Resampling to {spacing_mm} mm would create {voxels:,} voxels; choose a coarser spacing."
        )
