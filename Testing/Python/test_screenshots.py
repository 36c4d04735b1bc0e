"""Offscreen pictures rendered by Slicer's own views (trame-slicer): what a user sees, checked pixel by pixel.

The phantom: a square body (40 HU) in air with no uptake except one hot lesion in the patient's left anterior
quadrant. Radiological display puts patient left on the image right and anterior at the top of an axial view, so
the lesion's position inside the body in the picture is known from geometry alone.
"""

from __future__ import annotations

import matplotlib.image
import numpy as np
import pytest
from mrml_support import new_mrml_context

from MedGANSynthLib.mrml.volume_nodes import node_from_volume
from MedGANSynthLib.volume import Volume

pytest.importorskip("trame_slicer", reason="trame-slicer renders Slicer views outside the Slicer app")
pytestmark = pytest.mark.mrml

SPACING = 4.0
BODY = (-80.0, 80.0)  # LPS x and y extent of the body, mm
LESION_X = (20.0, 44.0)  # patient left (LPS +x)
LESION_Y = (-60.0, -36.0)  # anterior (LPS -y)
LESION_SUV = 8.0


def _phantom(scene):
    n, slices = 50, 12
    centres = (np.arange(n) - (n - 1) / 2.0) * SPACING  # voxel centres from -98 to 98 mm
    inside = (centres >= BODY[0]) & (centres < BODY[1])
    ct = np.full((slices, n, n), -1000.0, np.float32)
    ct[:, inside[:, None] & inside[None, :]] = 40.0
    in_x = (centres >= LESION_X[0]) & (centres < LESION_X[1])
    in_y = (centres >= LESION_Y[0]) & (centres < LESION_Y[1])
    pet = np.zeros_like(ct)
    pet[3:9][:, in_y[:, None] & in_x[None, :]] = LESION_SUV  # array axes (k, j=y, i=x)
    geometry = dict(spacing=(SPACING, SPACING, 3.0), origin=(centres[0], centres[0], -15.0))
    return (node_from_volume(Volume(ct, modality="CT", units="HU", **geometry), scene, "CT"),
            node_from_volume(Volume(pet, modality="PT", units="SUV", **geometry), scene, "PET"))


@pytest.fixture(scope="module")
def pictures(tmp_path_factory):
    from MedGANSynthLib.mrml.screenshots import render_overview

    context = new_mrml_context()
    ct, pet = _phantom(context.scene)
    folder = tmp_path_factory.mktemp("pictures")
    paths = render_overview(ct, pet, folder, size=(300, 300))
    return {path.stem: (matplotlib.image.imread(path)[:, :, :3] * 255).round().astype(int) for path in paths}


def _fraction_inside(mask: np.ndarray, body: np.ndarray) -> tuple[float, float]:
    """Centroid of ``mask`` as (row, column) fractions of the bounding box of ``body`` (0 = top / left)."""
    rows, columns = np.nonzero(body)
    r, c = np.nonzero(mask)
    return ((r.mean() - rows.min()) / np.ptp(rows), (c.mean() - columns.min()) / np.ptp(columns))


def test_all_five_pictures_are_written(pictures):
    assert sorted(pictures) == ["mip_3d", "mip_coronal", "overlay_axial", "overlay_coronal", "overlay_sagittal"]
    assert all(image.shape == (300, 300, 3) and image.max() > 0 for image in pictures.values())


_CONTEXTS = []  # keeps the scene (and its colour nodes) alive while the tests run


def _heat_rgb(suv: float) -> np.ndarray:
    """PET-Heat colour (0-255) of an SUV in the 0-10 window, read from Slicer's own colour node."""
    from MedGANSynthLib.mrml.display import PET_HEAT

    if not _CONTEXTS:
        _CONTEXTS.append(new_mrml_context())
    heat = _CONTEXTS[0].scene.GetNodeByID(PET_HEAT).GetColorTransferFunction()  # defined on 0..255
    return np.array(heat.GetColor(255.0 * suv / 10.0)) * 255.0


def test_axial_overlay_shows_pet_colour_on_the_lesion_and_grey_elsewhere(pictures):
    image = pictures["overlay_axial"]
    # Slicer's blending at opacity 0.5 over the CT (40 HU in the 400/40 window: mid-grey 127.5):
    ct_grey = 127.5
    lesion_rgb = 0.5 * _heat_rgb(LESION_SUV) + 0.5 * ct_grey
    body_rgb = 0.5 * _heat_rgb(0.0) + 0.5 * ct_grey  # PET-Heat is black at SUV 0: a darker grey
    assert np.ptp(body_rgb) < 1  # grey
    lesion = np.all(np.abs(image - lesion_rgb) <= 4, axis=2)
    grey = np.all(np.abs(image - body_rgb) <= 4, axis=2)
    body = image.mean(axis=2) > 20  # the CT body; air stays black
    assert lesion.sum() > 50 and grey.sum() > 10 * lesion.sum()
    # Linear interpolation puts the half-way colour on the lesion's edge (midway between voxel centres), so the
    # pixels nearer the lesion colour than the body colour cover the lesion: 24 x 24 mm of the 160 x 160 mm body.
    nearer_lesion = body & (np.linalg.norm(image - lesion_rgb, axis=2) < np.linalg.norm(image - body_rgb, axis=2))
    expected_area = np.ptp(LESION_X) * np.ptp(LESION_Y) / np.ptp(BODY) ** 2
    assert nearer_lesion.sum() / body.sum() == pytest.approx(expected_area, rel=0.15)
    # Position: anterior is up, patient left is on the right of the picture.
    row, column = _fraction_inside(lesion, body)
    assert row == pytest.approx((np.mean(LESION_Y) - BODY[0]) / np.ptp(BODY), abs=0.05)
    assert column == pytest.approx((np.mean(LESION_X) - BODY[0]) / np.ptp(BODY), abs=0.05)


def test_coronal_and_sagittal_overlays_cut_through_the_lesion(pictures):
    for name in ("overlay_coronal", "overlay_sagittal"):
        lesion_rgb = 0.5 * _heat_rgb(LESION_SUV) + 0.5 * 127.5
        assert np.all(np.abs(pictures[name] - lesion_rgb) <= 4, axis=2).sum() > 20, name


def test_mip_is_dark_uptake_on_white_with_the_lesion_on_the_patients_left(pictures):
    image = pictures["mip_coronal"].mean(axis=2)
    projected = image > 0  # the MIP's field of view; the view around it is black
    white = image > 240
    dark = projected & (image < 80)
    assert white.sum() > 10 * dark.sum() > 0
    _, column = _fraction_inside(dark, white | dark)
    assert column > 0.55  # patient left is on the right of a coronal view


def test_3d_mip_rendering_is_bright_only_at_the_lesion_on_the_patients_left(pictures):
    brightness = pictures["mip_3d"].mean(axis=2)
    bright = brightness > 0.5 * brightness.max()
    assert brightness.max() > 100 and 0 < bright.sum() < 0.1 * bright.size
    columns = np.nonzero(bright)[1]
    assert columns.mean() > brightness.shape[1] / 2  # seen from the front: patient left on the image right


def test_rendering_without_a_display_prints_no_vtk_warnings(tmp_path):
    """VTK tries an X window first and prints "bad X server connection" before falling back to EGL; the demo and
    the CLI render without a display, so that noise must not reach the user (issue 26). A fresh process: the
    warning comes once per process, at the first render window."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    code = ("import sys; sys.path.insert(0, sys.argv[2]);"
            "from mrml_support import new_mrml_context; from test_screenshots import _phantom;"
            "from MedGANSynthLib.mrml.screenshots import render_overview;"
            "context = new_mrml_context(); ct, pet = _phantom(context.scene);"
            "print(len(render_overview(ct, pet, sys.argv[1], size=(64, 64))))")
    env = {key: value for key, value in os.environ.items() if key not in ("DISPLAY", "WAYLAND_DISPLAY")}
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path), str(Path(__file__).parent)],
                            capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert int(result.stdout.strip().splitlines()[-1]) >= 3  # the pictures were rendered
    assert "bad X server" not in result.stderr and "WARN" not in result.stderr, result.stderr[-2000:]
