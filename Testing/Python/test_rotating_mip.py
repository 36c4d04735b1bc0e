"""Rotating MIP: angle 0 is the coronal MIP, 90 degrees the (mirrored) sagittal MIP, a point moves on its circle."""

from __future__ import annotations

import numpy as np
import pytest

from MedGANSynthLib.errors import Cancelled, InputError
from MedGANSynthLib.jobs.progress import CancelToken
from MedGANSynthLib.projection.mip import mip
from MedGANSynthLib.projection.rotating_mip import rotating_mip
from MedGANSynthLib.volume import Volume


def _blobs(rng, shape=(12, 21, 21)) -> np.ndarray:
    """Smooth blobs on a zero background, indexed [S, P, L] for an identity direction."""
    k, j, i = np.meshgrid(*[np.arange(n, dtype=float) for n in shape], indexing="ij")
    array = np.zeros(shape)
    for _ in range(5):
        centre = rng.uniform(0.3, 0.7, size=3) * (np.array(shape) - 1)
        array += rng.uniform(1, 5) * np.exp(-((k - centre[0]) ** 2 + (j - centre[1]) ** 2 + (i - centre[2]) ** 2) / 6)
    return array.astype(np.float32)


def test_angle_zero_is_the_coronal_mip(rng):
    volume = Volume(_blobs(rng) - 1000.0, (1.5, 2.5, 3.0), (4.0, -7.0, 30.0), units="HU")  # negative values too
    frames = rotating_mip(volume, 8)
    np.testing.assert_allclose(frames.array[0], mip(volume, "coronal").array[:, 0, :], atol=1e-3)
    assert frames.array.shape == (8, 12, 21)
    assert frames.metadata["angles_deg"] == [0.0, 45.0, 90.0, 135.0, 180.0, 225.0, 270.0, 315.0]
    assert frames.spacing[:2] == (1.5, 3.0) and frames.units == "HU"


def test_angle_zero_of_a_flipped_volume_shows_patient_left_to_the_right(rng):
    # Direction diag(-1, -1, 1) (as in many NIfTI CTs): array column i runs to the patient's right.
    volume = Volume(_blobs(rng), (2.0, 2.0, 2.0), (100.0, 80.0, 0.0), np.diag([-1.0, -1.0, 1.0]))
    frames = rotating_mip(volume, 1)
    np.testing.assert_allclose(frames.array[0], mip(volume, "coronal").array[:, 0, ::-1], atol=1e-5)
    # First pixel of the frame is the voxel furthest to the right's mirror: the leftmost L position (i = 20).
    np.testing.assert_allclose(frames.origin, (100.0 - 2.0 * 20, 80.0 - 2.0 * 10, 0.0))


def test_ninety_degrees_is_the_sagittal_mip_with_anterior_posterior_reversed(rng):
    volume = Volume(_blobs(rng), (2.0, 2.0, 2.0))
    frames = rotating_mip(volume, 4)
    sagittal = mip(volume, "sagittal").array[:, :, 0]  # [S, P], columns increase toward posterior
    np.testing.assert_allclose(frames.array[1], sagittal[:, ::-1], atol=1e-4)


@pytest.mark.parametrize("spacing_lp", [(2.0, 2.0), (1.0, 2.0)])
def test_a_bright_point_moves_on_its_circle(spacing_lp):
    sx, sy = spacing_lp
    shape = (5, 41, 41) if sx == sy else (5, 41, 81)  # +-40 mm in L and P either way
    centre_l, centre_p = (shape[2] - 1) / 2.0, (shape[1] - 1) / 2.0
    x0, y0 = 24.0, -18.0  # mm from the rotation axis (radius 30 mm, inside the field of view at every angle)
    # A small lesion (Gaussian, sigma 2.5 mm) rather than one voxel, so that sampling along rays sees it fully.
    j, i = np.meshgrid(np.arange(shape[1]), np.arange(shape[2]), indexing="ij")
    x, y = (i - centre_l) * sx, (j - centre_p) * sy
    array = np.zeros(shape, np.float32)
    array[2] = 100.0 * np.exp(-((x - x0) ** 2 + (y - y0) ** 2) / (2 * 2.5**2))
    volume = Volume(array, (sx, sy, 3.0))
    count = 36
    frames = rotating_mip(volume, count).array
    for n in range(count):
        angle = np.deg2rad(n * 360.0 / count)
        expected_column = centre_l + (x0 * np.cos(angle) - y0 * np.sin(angle)) / sx
        assert frames[n].max() > 80.0, f"lesion lost at {n * 10} degrees"
        assert np.argmax(frames[n].max(axis=1)) == 2  # stays on its axial slice
        row = np.clip(frames[n, 2] - 20.0, 0.0, None)  # the peak only
        seen_column = np.sum(row * np.arange(row.size)) / np.sum(row)
        assert seen_column == pytest.approx(expected_column, abs=0.3 / sx), f"at {n * 10} degrees"


def test_cancel_stops_between_chunks(rng):
    token = CancelToken()
    events = []

    def on_progress(event):
        events.append(event)
        token.cancel()  # ask to stop as soon as work has started

    with pytest.raises(Cancelled):
        rotating_mip(Volume(_blobs(rng)), 36, progress=on_progress, cancel=token)
    assert len(events) == 1 and events[0].total >= 3


def test_progress_reaches_the_total(rng):
    events = []
    rotating_mip(Volume(_blobs(rng)), 30, progress=events.append)
    assert events[-1].done == events[-1].total >= 3


@pytest.mark.parametrize("angles", [0, -3, 721, 2.5, True])
def test_bad_angle_counts_are_refused(rng, angles):
    with pytest.raises(InputError, match="angles must be"):
        rotating_mip(Volume(_blobs(rng)), angles)


def test_nan_volume_is_refused(rng):
    array = _blobs(rng)
    array[3, 3, 3] = np.inf
    with pytest.raises(InputError, match="NaN or infinite"):
        rotating_mip(Volume(array), 4)
