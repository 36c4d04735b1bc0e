"""Where the slices of one DICOM series lie, and the uniform grid a Volume needs.

A Volume is a regular grid: one origin, one spacing per axis, one direction matrix. Real series are not always
that grid, so every slice stack goes through :func:`plan_grid`, which decides one of four outcomes the way 3D
Slicer's DICOM import (DICOMScalarVolumePlugin over ITK/GDCM) does, with thresholds chosen for PET/CT:

* **Uniform within jitter** (the usual case): every gap is within ``JITTER_FRACTION`` (10 %) of the typical
  (median) gap, and every slice within 10 % of a slice spacing of the straight line from the first to the last
  slice. The stack is used as stored with spacing (last - first) / (N - 1), which is also what ITK's
  ImageSeriesReader gives. Why 10 %: scanners round positions to 0.01-0.1 mm (a GE whole-body PET of 3.27 mm
  slices has gaps of 3.19-3.29 mm at bed joins, 2.4 %), far below 10 %; a slice displaced by under a tenth of
  the spacing is below what linear interpolation between slices could resolve, while a missing slice displaces
  the grid by half a spacing or more and is always caught. An absolute floor of 0.05 mm keeps sub-millimetre CT
  slices with positions rounded to 0.01 mm uniform too.
* **Missing slices or varying spacing, gaps at most ``MAX_GAP_FACTOR`` (2.5) typical gaps**: resampled onto a
  uniform grid of the typical spacing, linearly along the slice axis, from the first to the last slice; the
  volume metadata says so and one warning line is logged. A gap is counted as missing slices when it is close
  to an integer multiple (>= 2) of the typical gap or when InstanceNumber jumps across it while it steps by one
  elsewhere. 2.5 allows one missing slice in a row, which linear interpolation bridges the way a reader's eye
  does; anything longer would invent anatomy over several slices.
* **A longer gap**: refused, naming the missing positions along the slice normal (z for axial slices).
* **Gantry tilt** (slice origins not along the slice normal, a sheared stack as CT with a tilted gantry writes):
  each slice is shifted in its own plane onto one common grid (linear interpolation, the field of view grows to
  keep every voxel, new border voxels take the image minimum), then handled as above; the tilt angle is
  reported. Tilt counts once the shear moves the last slice by more than ``TILT_FRACTION`` (10 %) of a pixel
  against the first, the same "below a tenth of a voxel" bound as the jitter. A shear steeper than
  ``MAX_TILT_DEG`` (30 degrees, the largest gantry tilt CT scanners offer) is no tilt but a broken or reformatted
  stack: refused, naming the angle.

Slices of one series that are not parallel (ImageOrientationPatient differs by more than
``PARALLEL_TOLERANCE_DEG``) are refused: no single grid holds them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from MedGANSynthLib.errors import InputError

LOGGER = logging.getLogger(__name__)

JITTER_FRACTION = 0.1
JITTER_FLOOR_MM = 0.05
MAX_GAP_FACTOR = 2.5
TILT_FRACTION = 0.1
MAX_TILT_DEG = 30.0
# Orientation cosines written with 5-6 digits agree to far better than this; 0.05 degrees moves a point 250 mm
# from the rotation axis by 0.2 mm, below a pixel of any PET/CT.
PARALLEL_TOLERANCE_DEG = 0.05
# Two slices closer than this are the same position (a dynamic or multi-phase series).
DUPLICATE_MM = 0.01


@dataclass
class GridPlan:
    """How the sorted slices of a series map onto a uniform grid (see the module docstring)."""

    origin: np.ndarray
    slice_spacing: float
    slice_count: int
    offsets: np.ndarray  # each input slice's distance from the origin along the normal (mm)
    shifts_mm: np.ndarray  # each input slice's in-plane offset (row, column directions) from the grid (mm)
    grow_ij: tuple[int, int] = (0, 0)  # extra columns (i) and rows (j) the de-tilted grid needs
    notes: dict = field(default_factory=dict)

    @property
    def resampled(self) -> bool:
        return bool(self.notes.get("resampled"))


def angle_between_deg(a: np.ndarray, b: np.ndarray) -> float:
    cosine = np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b))
    return float(np.degrees(np.arccos(np.clip(cosine, -1.0, 1.0))))


def require_parallel(orientations: list[np.ndarray], names: list[str], source) -> None:
    """Refuse a series whose slices do not share one orientation (row and column directions)."""
    first = orientations[0]
    for other, name in zip(orientations[1:], names[1:], strict=True):
        turn = max(angle_between_deg(first[:3], other[:3]), angle_between_deg(first[3:], other[3:]))
        if turn > PARALLEL_TOLERANCE_DEG:
            raise InputError(
                f"'{source}': the slices are not parallel ('{name}' is turned {turn:.2f} degrees against "
                f"'{names[0]}' in ImageOrientationPatient); no single volume holds them. Export it as one "
                "stack of parallel slices (or reformat it in the scanner console)."
            )


def plan_grid(
    positions: np.ndarray,
    row: np.ndarray,
    column: np.ndarray,
    pixel_spacing_ij: tuple[float, float],
    instance_numbers: list[int | None],
    source,
) -> GridPlan:
    """The uniform grid for slices at ``positions`` (N x 3, sorted along the normal row x column)."""
    normal = np.cross(row, column)
    relative = positions - positions[0]
    offsets = relative @ normal
    shifts = np.column_stack([relative @ row, relative @ column])
    notes: dict = {"resampled": False}
    grow = (0, 0)
    origin = positions[0].astype(float)
    if len(positions) > 1:
        _require_distinct(offsets, source)
        tilt_deg, drift_mm = _tilt(offsets, shifts)
        if drift_mm > TILT_FRACTION * min(pixel_spacing_ij):
            _require_gantry_range(tilt_deg, source)
            low = shifts.min(axis=0)
            origin = origin + low[0] * row + low[1] * column
            shifts = shifts - low
            grow = tuple(int(np.ceil(extent / spacing - 1e-6))
                         for extent, spacing in zip(shifts.max(axis=0), pixel_spacing_ij, strict=True))
            notes.update(resampled=True, gantry_tilt_deg=round(tilt_deg, 3))
        else:
            shifts = np.zeros_like(shifts)
    else:
        shifts = np.zeros((1, 2))
    spacing, count, spacing_notes = _slice_axis(offsets, instance_numbers, positions, normal, source)
    notes.update(spacing_notes)
    notes["resampled"] = bool(notes["resampled"] or spacing_notes.get("resampled"))
    return GridPlan(origin, spacing, count, offsets, shifts, grow, notes)


def _require_distinct(offsets: np.ndarray, source) -> None:
    if np.min(np.diff(offsets)) <= DUPLICATE_MM:
        raise InputError(
            f"'{source}' has several images at the same slice position (a dynamic or multi-phase series?); "
            "pass one time frame or phase per folder."
        )


def _require_gantry_range(tilt_deg: float, source) -> None:
    if tilt_deg > MAX_TILT_DEG:
        raise InputError(
            f"'{source}': the slice positions run at {tilt_deg:.1f} degrees to the slice normal, more than any "
            f"gantry tilts ({MAX_TILT_DEG:.0f}); the stack is sheared or its positions are wrong. Export the "
            "series again or reformat it to axial slices."
        )


def _tilt(offsets: np.ndarray, shifts: np.ndarray) -> tuple[float, float]:
    """Tilt angle (degrees) of the line the slice origins follow, and the in-plane drift over the stack (mm)."""
    slope = np.polyfit(offsets, shifts, 1)[0] if len(offsets) > 2 else shifts[-1] / offsets[-1]
    lateral = float(np.linalg.norm(slope))
    return float(np.degrees(np.arctan(lateral))), lateral * float(offsets[-1] - offsets[0])


def _slice_axis(offsets, instance_numbers, positions, normal, source) -> tuple[float, int, dict]:
    """Spacing and slice count along the normal; resampling notes when the stack is not uniform."""
    count = len(offsets)
    if count == 1:
        return 0.0, 1, {}
    gaps = np.diff(offsets)
    typical = float(np.median(gaps))
    tolerance = max(JITTER_FRACTION * typical, JITTER_FLOOR_MM)
    mean_spacing = float(offsets[-1] / (count - 1))
    grid_error = np.abs(offsets - mean_spacing * np.arange(count))
    jitter = float(np.max(np.abs(gaps - typical)))
    if jitter <= tolerance and float(np.max(grid_error)) <= tolerance:
        return mean_spacing, count, {"max_position_jitter_mm": round(float(np.max(grid_error)), 4)}
    missing = _missing_positions(gaps, typical, tolerance, offsets, instance_numbers, positions, normal)
    if np.max(gaps) > MAX_GAP_FACTOR * typical:
        raise InputError(_gap_message(source, gaps, typical, missing))
    new_count = int(round(offsets[-1] / typical)) + 1
    notes = {
        "resampled": True,
        "slice_gaps_mm": [round(float(np.min(gaps)), 3), round(float(np.max(gaps)), 3)],
        "missing_slice_positions_mm": [round(p, 2) for p in missing],
        "input_slices": count,
    }
    return float(offsets[-1] / (new_count - 1)), new_count, notes


def _missing_positions(gaps, typical, tolerance, offsets, instance_numbers, positions, normal) -> list[float]:
    """Positions along the normal (z for axial slices) where whole slices are absent."""
    steps = _instance_steps(instance_numbers)
    regular = np.abs(gaps - typical) <= tolerance
    numbered = steps is not None and np.all(steps[regular] == 1)
    base = float(positions[0] @ normal)
    missing: list[float] = []
    for n, gap in enumerate(gaps):
        if regular[n]:
            continue
        multiple = int(round(gap / typical))
        if numbered and steps[n] >= 2:
            multiple = int(steps[n])
        elif multiple < 2 or abs(gap - multiple * typical) > tolerance * multiple:
            continue
        missing += [base + offsets[n] + gap * m / multiple for m in range(1, multiple)]
    return missing


def _instance_steps(instance_numbers: list[int | None]) -> np.ndarray | None:
    if any(number is None for number in instance_numbers) or len(set(instance_numbers)) < len(instance_numbers):
        return None
    return np.abs(np.diff(np.array(instance_numbers, dtype=float)))


def _gap_message(source, gaps, typical, missing) -> str:
    widest = int(np.argmax(gaps))
    where = (f"missing slice positions {', '.join(f'{p:.2f}' for p in missing[:8])}"
             f"{' ...' if len(missing) > 8 else ''} mm along the slice normal (z for axial slices)"
             if missing else f"a {gaps[widest]:.2f} mm gap after slice {widest + 1}")
    return (f"'{source}' has slices missing ({where}; typical spacing {typical:.2f} mm), more than one in a row, "
            "which interpolation would invent; copy the complete series.")


def apply_grid(stack: np.ndarray, plan: GridPlan, pixel_spacing_ij: tuple[float, float]) -> np.ndarray:
    """The slices (N x rows x columns, sorted) resampled onto ``plan``'s grid; the stack itself when uniform."""
    if plan.shifts_mm.any():
        stack = _untilt(stack, plan, pixel_spacing_ij)
    if "input_slices" not in plan.notes:  # uniform along the normal: the slices are the grid
        return stack
    targets = np.arange(plan.slice_count) * plan.slice_spacing
    upper = np.clip(np.searchsorted(plan.offsets, targets, side="right"), 1, len(plan.offsets) - 1)
    lower = upper - 1
    weight = np.clip((targets - plan.offsets[lower]) / (plan.offsets[upper] - plan.offsets[lower]), 0.0, 1.0)
    weight = weight.astype(np.float32)[:, None, None]
    return (1 - weight) * stack[lower] + weight * stack[upper]


def _untilt(stack: np.ndarray, plan: GridPlan, pixel_spacing_ij: tuple[float, float]) -> np.ndarray:
    """Shift each slice in its plane so that all share the grid starting at the plan's origin."""
    rows = stack.shape[1] + plan.grow_ij[1]
    columns = stack.shape[2] + plan.grow_ij[0]
    fill = float(np.min(stack))
    out = np.empty((stack.shape[0], rows, columns), dtype=np.float32)
    for n, (shift_i, shift_j) in enumerate(plan.shifts_mm):
        # output pixel (j, i) sits at input pixel (j - shift_j / spacing_j, i - shift_i / spacing_i)
        offset = (-shift_j / pixel_spacing_ij[1], -shift_i / pixel_spacing_ij[0])
        out[n] = ndimage.affine_transform(stack[n], np.eye(2), offset=offset, output_shape=(rows, columns),
                                          order=1, mode="constant", cval=fill)
    return out


def describe_resampling(notes: dict) -> str:
    """One line saying why and how the series was resampled (for the warning and the summary)."""
    parts = []
    if "gantry_tilt_deg" in notes:
        parts.append(f"gantry tilt of {notes['gantry_tilt_deg']:.2f} degrees undone (slices shifted in-plane)")
    if notes.get("missing_slice_positions_mm"):
        positions = ", ".join(f"{p:.2f}" for p in notes["missing_slice_positions_mm"][:8])
        parts.append(f"missing slice(s) at {positions} mm along the normal filled by linear interpolation")
    elif "slice_gaps_mm" in notes:
        low, high = notes["slice_gaps_mm"]
        parts.append(f"slice gaps vary ({low:.2f} to {high:.2f} mm); resampled linearly to a uniform spacing")
    return "; ".join(parts)
