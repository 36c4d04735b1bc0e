"""PNG pictures: aspect ratio from spacing, radiological orientation, inverted-grey MIPs, fusion, grids."""

from __future__ import annotations

import matplotlib.image
import numpy as np
import pytest

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.pictures import (
    save_fusion_png,
    save_grid_png,
    save_mip_png,
    save_rotating_mip_png,
    save_slice_png,
    save_strip_png,
)
from MedGANSynthLib.projection.mip import mip
from MedGANSynthLib.projection.rotating_mip import rotating_mip
from MedGANSynthLib.volume import Volume


def _read_grey(path) -> np.ndarray:
    pixels = matplotlib.image.imread(str(path))
    return pixels[..., :3].mean(axis=2)


def _pet_with_lesion(direction: np.ndarray | None = None) -> tuple[Volume, np.ndarray]:
    """SUV 1 background, a SUV 15 lesion at the patient's right (x = -40 mm), high up (z = +50 mm)."""
    direction = np.eye(3) if direction is None else direction
    spacing = (2.0, 4.0, 3.0)  # L, P, S
    size = (50, 20, 40)  # i, j, k: 100 mm x 80 mm x 120 mm
    centre = np.array([0.0, 0.0, 0.0])
    origin = centre - direction @ (np.array(spacing) * (np.array(size) - 1) / 2.0)
    volume = Volume(np.ones(size[::-1], np.float32), spacing, origin, direction, "PT", "SUV")
    lesion = np.array([-40.0, 6.0, 50.0])
    i, j, k = np.round(volume.continuous_index(lesion)).astype(int)
    volume.array[k, j, i] = 15.0
    return volume, lesion


@pytest.mark.parametrize("direction", [np.eye(3), np.diag([-1.0, -1.0, 1.0])], ids=["LPS", "RAS-like"])
def test_mip_png_shows_the_lesion_dark_top_left_with_true_aspect(tmp_path, direction):
    pet, lesion = _pet_with_lesion(direction)
    path = save_mip_png(mip(pet, "coronal"), tmp_path / "mip.png")
    grey = _read_grey(path)
    # 40 slices x 3 mm tall, 50 columns x 2 mm wide; square 2 mm pixels -> 60 x 50.
    assert grey.shape == (60, 50)
    assert grey.shape[0] / grey.shape[1] == pytest.approx(120.0 / 100.0)
    # SUV 1 of the 0..10 window is light grey (inverted: 1 - 0.1); the lesion (SUV 15) is black.
    assert np.median(grey) == pytest.approx(0.9, abs=0.01)
    row, column = np.unravel_index(np.argmin(grey), grey.shape)
    # Head up: z = +50 of a -58.5..+58.5 mm extent is near the top; patient right (x = -40) on the image left.
    expected_row = (58.5 - lesion[2]) / 2.0 + 0.5
    expected_column = (lesion[0] + 49.0) / 2.0 + 0.5
    assert abs(row - expected_row) <= 2 and abs(column - expected_column) <= 1
    assert grey[row, column] < 0.1


def test_slice_png_uses_the_ct_window_and_anterior_up(tmp_path):
    ct = Volume(np.full((3, 20, 30), -1000.0, np.float32), (1.0, 1.0, 2.0), modality="CT", units="HU")
    ct.array[:, 2, 5] = 240.0  # anterior (small y) and patient right (small x)
    ct.array[:, 15, 25] = 40.0  # the middle of the -160..240 window
    grey = _read_grey(save_slice_png(ct, tmp_path / "ct.png", plane="axial", index=1))
    assert grey.shape == (20, 30)
    assert grey[2, 5] == pytest.approx(1.0) and grey[15, 25] == pytest.approx(0.5, abs=0.01)
    assert grey[0, 0] == pytest.approx(0.0)


def test_fusion_png_is_red_hot_where_there_is_uptake_and_grey_elsewhere(tmp_path):
    ct = Volume(np.zeros((3, 20, 30), np.float32), (1.0, 1.0, 2.0), modality="CT", units="HU")
    ct.array[:, 0, 0] = 240.0
    pet = ct.with_array(np.zeros_like(ct.array), modality="PT", units="SUV")
    pet.array[1, 10, 10] = 6.0  # 0.6 of the SUV 0..10 window
    pixels = matplotlib.image.imread(str(save_fusion_png(ct, pet, tmp_path / "fusion.png", index=1)))[..., :3]
    red, _, blue = pixels[10, 10]
    # 'hot' at 0.6 has full red and no blue; opacity 0.6 x 0.6 = 0.36 over grey 0.4 (0 HU in -160..240).
    assert red == pytest.approx(0.64 * 0.4 + 0.36 * 1.0, abs=0.01)
    assert blue == pytest.approx(0.64 * 0.4, abs=0.01)
    assert np.allclose(pixels[5, 20], pixels[5, 20].mean())  # no uptake: plain grey CT
    assert pixels[5, 20, 0] == pytest.approx(0.4, abs=0.01)  # 0 HU in -160..240


def test_fusion_refuses_a_pet_off_the_ct_grid(tmp_path):
    ct = Volume(np.arange(24.0).reshape(2, 3, 4), (1.0, 1.0, 1.0))
    pet = Volume(np.ones((2, 3, 4)), (2.0, 2.0, 2.0))
    with pytest.raises(InputError, match="not on the CT's grid"):
        save_fusion_png(ct, pet, tmp_path / "f.png")
    assert list(tmp_path.iterdir()) == []


def test_constant_mip_is_refused_and_leaves_no_file(tmp_path):
    flat = mip(Volume(np.full((4, 5, 6), 2.0, np.float32), units="SUV"), "coronal")
    with pytest.raises(InputError, match="one constant value"):
        save_mip_png(flat, tmp_path / "flat.png")
    assert list(tmp_path.iterdir()) == []


def test_non_png_name_is_refused(tmp_path, rng):
    with pytest.raises(InputError, match="not a .png"):
        save_grid_png(rng.normal(size=(2, 8, 8)), tmp_path / "grid.jpg")


def test_grid_and_strip_layouts(tmp_path, rng):
    images = rng.normal(size=(10, 1, 16, 16))
    grid = matplotlib.image.imread(str(save_grid_png(images, tmp_path / "grid.png", ncols=5)))
    assert grid.shape[1] / grid.shape[0] == pytest.approx(5 / 2, rel=0.05)
    strip = matplotlib.image.imread(
        str(save_strip_png(images[:6], tmp_path / "strip.png", titles=[f"z{n}" for n in range(6)]))
    )
    # Six 1.5-inch tiles in a row, each 1.5 inch high plus a 0.25-inch title band.
    assert strip.shape[1] / strip.shape[0] == pytest.approx(6 * 1.5 / (1.5 + 0.25), rel=0.05)
    with pytest.raises(InputError, match="one title per image"):
        save_grid_png(images, tmp_path / "bad.png", titles=["a"])


def test_rotating_mip_grid(tmp_path):
    pet, _ = _pet_with_lesion()
    path = save_rotating_mip_png(rotating_mip(pet, 6), tmp_path / "cine.png", ncols=3)
    assert matplotlib.image.imread(str(path)).shape[0] > 0
