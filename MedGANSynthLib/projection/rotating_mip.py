"""Rotating MIP: coronal MIPs of the body turned about its superior (S) axis, for cine review.

Frame ``n`` shows the volume as seen by a viewer who walked ``angle_n = n * 360 / N`` degrees around the patient
about the S axis. With LPS coordinates (x = left, y = posterior) relative to the in-plane centre, a point
``(x, y)`` lands on the frame's horizontal axis at ``u = x cos(angle) - y sin(angle)`` millimetres from the
centre, so:

* angle 0 is exactly the coronal MIP (viewed from the front: patient right on the left of the array's columns,
  which increase toward patient left);
* angle 90 is the sagittal MIP with its anterior-posterior axis reversed (columns increase toward anterior);
* a bright point traces ``u(angle)``, the projection of its circle about the S axis.

How: axial slices are the channels of one 2-D image in the (P, L) plane; ``torch.nn.functional.affine_grid`` +
``grid_sample`` (bilinear) rotate a batch of angles at once and ``amax`` over depth projects, in chunks of slices
and angles so memory stays bounded. Like ``scipy.ndimage.rotate(reshape=False)``, the in-plane grid is kept, so
corners of a wide field of view are cropped at oblique angles. Rays through empty space read the volume minimum
(the volume is shifted so zero padding equals the minimum).

Oblique volumes are handled on their array axes nearest to L, P and S (``Volume.axis_along``). The output is a
Volume of shape ``(N, rows = S, columns = L)`` whose k axis stacks the angles (not a physical axis; its spacing is
the in-plane spacing so viewers show it sensibly); the angles in degrees are in ``metadata["angles_deg"]``.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.jobs.progress import CancelToken, ProgressCallback, report
from MedGANSynthLib.validation import require_finite, require_not_empty
from MedGANSynthLib.volume import Volume

MAX_ANGLES = 720
# Frames 0..N-1 of a chunk are held as one float32 tensor of this many bytes at most.
CHUNK_BYTES = 96 * 1024 * 1024


def rotating_mip(
    volume: Volume,
    angles: int = 36,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> Volume:
    """Stack of ``angles`` coronal MIPs evenly spaced over 360 degrees about the S axis (see module docs)."""
    count = _require_angle_count(angles)
    require_not_empty(volume, "The volume to project")
    require_finite(volume, "The volume to project")
    canonical, (spacing_l, spacing_p, spacing_s), flips = canonical_lps_array(volume)
    slices, rows_p, columns_l = canonical.shape
    if rows_p < 2 or columns_l < 2:
        raise InputError("A rotating MIP needs at least 2 voxels left-right and front-back; this volume is flat.")
    degrees = np.arange(count) * 360.0 / count
    thetas = _rotation_thetas(np.deg2rad(degrees), rows_p, columns_l, spacing_p, spacing_l)
    minimum = float(canonical.min())
    frames = np.empty((count, slices, columns_l), dtype=np.float32)
    angle_chunk = min(count, 12)
    slice_chunk = max(1, CHUNK_BYTES // (angle_chunk * rows_p * columns_l * 4))
    steps = [(s, a) for s in range(0, slices, slice_chunk) for a in range(0, count, angle_chunk)]
    for done, (s0, a0) in enumerate(steps):
        report(progress, cancel, "rotating MIP", done, len(steps))
        s1, a1 = min(s0 + slice_chunk, slices), min(a0 + angle_chunk, count)
        block = torch.from_numpy(np.subtract(canonical[s0:s1], minimum, dtype=np.float32))
        batch = block.unsqueeze(0).expand(a1 - a0, -1, -1, -1)
        grid = F.affine_grid(thetas[a0:a1], list(batch.shape), align_corners=True)
        sampled = F.grid_sample(batch, grid, mode="bilinear", padding_mode="zeros", align_corners=True)
        frames[a0:a1, s0:s1] = (torch.amax(sampled, dim=2) + minimum).numpy()
    report(progress, cancel, "rotating MIP", len(steps), len(steps))
    return _frames_volume(volume, frames, degrees, flips, (spacing_l, spacing_s))


def canonical_lps_array(volume: Volume) -> tuple[np.ndarray, tuple[float, float, float], tuple]:
    """A view of the array ordered (S, P, L) with indices increasing toward superior, posterior and left.

    Returns the view, the spacings along (L, P, S), and for each of (L, P, S) the original array axis and
    whether it was flipped.
    """
    axes = [volume.axis_along(patient) for patient in (0, 1, 2)]  # array axes of L, P, S
    if len(set(axes)) != 3:
        raise InputError("The volume is too oblique to tell its left-right, front-back and head-feet axes apart.")
    flips = []
    for patient, array_axis in enumerate(axes):
        flips.append((array_axis, bool(volume.direction[patient, 2 - array_axis] < 0)))
    view = volume.array
    for array_axis, flipped in flips:
        if flipped:
            view = np.flip(view, axis=array_axis)
    view = np.transpose(view, (axes[2], axes[1], axes[0]))
    spacings = tuple(volume.spacing[2 - a] for a in axes)
    return view, spacings, tuple(flips)


def _rotation_thetas(radians: np.ndarray, rows: int, columns: int, spacing_rows: float, spacing_columns: float):
    """affine_grid matrices mapping output (u, depth) to input (L, P) normalised coordinates per angle.

    Normalised coordinates run over [-1, 1] across each axis, so the physical rotation is conjugated by the
    half-extents: ``aspect`` is the ratio of the P half-extent to the L half-extent in millimetres.
    """
    aspect = ((rows - 1) / 2.0 * spacing_rows) / ((columns - 1) / 2.0 * spacing_columns)
    cos, sin = np.cos(radians), np.sin(radians)
    theta = np.zeros((len(radians), 2, 3), dtype=np.float32)
    theta[:, 0, 0] = cos
    theta[:, 0, 1] = aspect * sin
    theta[:, 1, 0] = -sin / aspect
    theta[:, 1, 1] = cos
    return torch.from_numpy(theta)


def _frames_volume(volume: Volume, frames: np.ndarray, degrees: np.ndarray, flips, spacing_ls) -> Volume:
    count, slices, columns = frames.shape
    # Physical point of the first frame pixel: first L and S positions, at the centre of the P extent.
    index_kji = [0.0, 0.0, 0.0]
    for patient, (array_axis, flipped) in enumerate(flips):
        last = volume.array.shape[array_axis] - 1
        position = last / 2.0 if patient == 1 else 0.0  # canonical index (increasing toward L, P, S)
        index_kji[array_axis] = last - position if flipped else position
    origin = volume.physical_point(index_kji[::-1])
    direction = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])  # columns: +L, +S, anterior
    metadata = dict(volume.metadata)
    metadata.update(
        angles_deg=[float(d) for d in degrees],
        rotation_axis="S",
        source_modality=volume.modality,
        frame_layout="k = angle, rows = superior, columns = patient left",
    )
    spacing_l, spacing_s = spacing_ls
    return Volume(frames, (spacing_l, spacing_s, spacing_l), tuple(origin), direction, "MIP", volume.units, metadata)


def _require_angle_count(angles: int) -> int:
    if isinstance(angles, bool) or not isinstance(angles, (int, np.integer)):
        raise InputError(f"The number of angles must be a whole number from 1 to {MAX_ANGLES}; got {angles!r}.")
    if not 1 <= int(angles) <= MAX_ANGLES:
        raise InputError(f"The number of angles must be from 1 to {MAX_ANGLES}; got {angles}.")
    return int(angles)
