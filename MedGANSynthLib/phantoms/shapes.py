"""Vectorised solid shapes on an axis-aligned physical grid (LPS millimetres).

Every shape is evaluated only inside its bounding box: a function returns ``(box, mask)`` where ``box`` is a
tuple of slices ``(k, j, i)`` into the full array and ``mask`` a boolean array of the box's shape. Painting
is then ``labels[box][mask] = value``. No Python loop ever runs over voxels.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Box = tuple[slice, slice, slice]


@dataclass(frozen=True)
class AxisGrid:
    """Voxel-centre coordinates of an identity-direction grid: ``x[i]``, ``y[j]``, ``z[k]`` in mm (LPS)."""

    x: np.ndarray
    y: np.ndarray
    z: np.ndarray

    @classmethod
    def from_geometry(cls, shape_kji, spacing_ijk, origin_ijk) -> AxisGrid:
        nk, nj, ni = shape_kji
        return cls(
            x=origin_ijk[0] + spacing_ijk[0] * np.arange(ni),
            y=origin_ijk[1] + spacing_ijk[1] * np.arange(nj),
            z=origin_ijk[2] + spacing_ijk[2] * np.arange(nk),
        )

    @property
    def shape(self) -> tuple[int, int, int]:
        return (self.z.size, self.y.size, self.x.size)

    def box(self, low_xyz, high_xyz) -> Box | None:
        """Slices covering the physical box [low, high]; None when it misses the grid."""
        slices = []
        for axis, lo, hi in ((self.z, low_xyz[2], high_xyz[2]), (self.y, low_xyz[1], high_xyz[1]),
                             (self.x, low_xyz[0], high_xyz[0])):
            start = int(np.searchsorted(axis, lo, side="left"))
            stop = int(np.searchsorted(axis, hi, side="right"))
            if stop <= start:
                return None
            slices.append(slice(start, stop))
        return tuple(slices)

    def coords(self, box: Box) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Broadcastable coordinate arrays (z[:,None,None], y[None,:,None], x[None,None,:]) of a box."""
        return (self.z[box[0]][:, None, None], self.y[box[1]][None, :, None], self.x[box[2]][None, None, :])


Shape = tuple[Box, np.ndarray] | None


def ellipsoid(grid: AxisGrid, centre, radii, rotation: np.ndarray | None = None) -> Shape:
    """Solid ellipsoid; ``rotation`` (3x3, columns = the ellipsoid's axes in LPS) tilts it."""
    centre = np.asarray(centre, float)
    radii = np.asarray(radii, float)
    rotation = np.eye(3) if rotation is None else np.asarray(rotation, float)
    reach = np.abs(rotation) @ radii  # half-extent of the rotated ellipsoid along x, y, z (upper bound)
    box = grid.box(centre - reach, centre + reach)
    if box is None:
        return None
    z, y, x = grid.coords(box)
    d = (x - centre[0], y - centre[1], z - centre[2])
    total = 0.0
    for axis in range(3):
        local = d[0] * rotation[0, axis] + d[1] * rotation[1, axis] + d[2] * rotation[2, axis]
        total = total + (local / radii[axis]) ** 2
    return box, np.broadcast_to(total <= 1.0, tuple(s.stop - s.start for s in box))


def vertical_superellipse(
    grid: AxisGrid,
    z_range: tuple[float, float],
    centre_x: Callable[[np.ndarray], np.ndarray],
    centre_y: Callable[[np.ndarray], np.ndarray],
    half_x: Callable[[np.ndarray], np.ndarray],
    half_y: Callable[[np.ndarray], np.ndarray],
    exponent: float = 2.0,
) -> Shape:
    """A stack of axial superellipses |dx/a|^n + |dy/b|^n <= 1 whose centre and half-axes vary with z.

    The callables take the z coordinates (mm) of the slices and return one value per slice; exponent 2 gives
    ellipses (tubes along z), larger exponents boxier cross-sections (a torso).
    """
    z_lo, z_hi = min(z_range), max(z_range)
    zs = grid.z[(grid.z >= z_lo) & (grid.z <= z_hi)]
    if zs.size == 0:
        return None
    cx, cy = np.broadcast_to(centre_x(zs), zs.shape), np.broadcast_to(centre_y(zs), zs.shape)
    ax = np.maximum(np.broadcast_to(half_x(zs), zs.shape), 1e-6)
    ay = np.maximum(np.broadcast_to(half_y(zs), zs.shape), 1e-6)
    low = (float(np.min(cx - ax)), float(np.min(cy - ay)), z_lo)
    high = (float(np.max(cx + ax)), float(np.max(cy + ay)), z_hi)
    box = grid.box(low, high)
    if box is None:
        return None
    z, y, x = grid.coords(box)
    slice_index = np.searchsorted(zs, z[:, 0, 0])
    cx, cy, ax, ay = (v[slice_index][:, None, None] for v in (cx, cy, ax, ay))
    value = np.abs((x - cx) / ax) ** exponent + np.abs((y - cy) / ay) ** exponent
    return box, value <= 1.0


def segment_tube(grid: AxisGrid, start, end, radius: float) -> Shape:
    """Solid capsule: points within ``radius`` of the segment start-end (any orientation)."""
    a, b = np.asarray(start, float), np.asarray(end, float)
    box = grid.box(np.minimum(a, b) - radius, np.maximum(a, b) + radius)
    if box is None:
        return None
    z, y, x = grid.coords(box)
    axis = b - a
    length2 = max(float(axis @ axis), 1e-12)
    t = ((x - a[0]) * axis[0] + (y - a[1]) * axis[1] + (z - a[2]) * axis[2]) / length2
    t = np.clip(t, 0.0, 1.0)
    d2 = (x - a[0] - t * axis[0]) ** 2 + (y - a[1] - t * axis[1]) ** 2 + (z - a[2] - t * axis[2]) ** 2
    return box, d2 <= radius * radius


def polyline_tube(grid: AxisGrid, points, radius: float) -> list[Shape]:
    """A tube along a polyline, as one capsule per segment (joints stay round)."""
    points = np.asarray(points, float)
    return [segment_tube(grid, points[n], points[n + 1], radius) for n in range(len(points) - 1)]


def paint(labels: np.ndarray, shape: Shape, value: int, only_where: np.ndarray | None = None) -> None:
    """Write ``value`` into the voxels of ``shape``; ``only_where`` (a set of labels) restricts it."""
    if shape is None:
        return
    box, mask = shape
    region = labels[box]
    if only_where is not None:
        mask = mask & np.isin(region, only_where)
    region[mask] = value


def rotation_matrix(axis_xyz, angle_deg: float) -> np.ndarray:
    """Rotation about an LPS axis by ``angle_deg`` (right-hand rule), via Rodrigues' formula."""
    axis = np.asarray(axis_xyz, float)
    axis = axis / np.linalg.norm(axis)
    angle = np.deg2rad(angle_deg)
    cross = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + np.sin(angle) * cross + (1 - np.cos(angle)) * (cross @ cross)


def tapered_segment(grid: AxisGrid, start, end, radius_start: float, radius_end: float) -> Shape:
    """Capsule whose radius changes linearly from ``radius_start`` to ``radius_end`` along start-end."""
    a, b = np.asarray(start, float), np.asarray(end, float)
    reach = max(radius_start, radius_end)
    box = grid.box(np.minimum(a, b) - reach, np.maximum(a, b) + reach)
    if box is None:
        return None
    z, y, x = grid.coords(box)
    axis = b - a
    length2 = max(float(axis @ axis), 1e-12)
    t = np.clip(((x - a[0]) * axis[0] + (y - a[1]) * axis[1] + (z - a[2]) * axis[2]) / length2, 0.0, 1.0)
    d2 = (x - a[0] - t * axis[0]) ** 2 + (y - a[1] - t * axis[1]) ** 2 + (z - a[2] - t * axis[2]) ** 2
    radius = radius_start + t * (radius_end - radius_start)
    return box, d2 <= radius * radius


def tapered_tube(grid: AxisGrid, points, radii) -> list[Shape]:
    """A tube along a polyline whose radius is given per point (organs, limbs and vessels that taper)."""
    points = np.asarray(points, float)
    radii = np.broadcast_to(np.asarray(radii, float), (len(points),))
    return [tapered_segment(grid, points[n], points[n + 1], radii[n], radii[n + 1]) for n in range(len(points) - 1)]


def smooth_polyline(points, rounds: int = 2) -> np.ndarray:
    """Chaikin corner cutting: a polyline with rounded corners and the same end points (bowel, vessels)."""
    points = np.asarray(points, float)
    for _ in range(rounds):
        if len(points) < 3:
            return points
        q = 0.75 * points[:-1] + 0.25 * points[1:]
        r = 0.25 * points[:-1] + 0.75 * points[1:]
        inner = np.empty((2 * len(q), points.shape[1]))
        inner[0::2], inner[1::2] = q, r
        points = np.vstack([points[:1], inner[1:-1], points[-1:]])
    return points
