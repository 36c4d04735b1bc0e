"""PNG pictures: aspect ratio from spacing, radiological orientation, inverted-grey MIPs, fusion, grids."""

from __future__ import annotations

import matplotlib.image
import numpy as np
import pytest
from scipy import ndimage

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
    return image_region(matplotlib.image.imread(str(path))[..., :3]).mean(axis=2)


def image_region(pixels: np.ndarray) -> np.ndarray:
    """The drawn image inside a framed picture: the largest connected block of non-white pixels (title, letters and
    colour bar stand apart on the white page). Test images here are never white at their border."""
    labels, _ = ndimage.label((pixels[..., :3] < 0.98).any(axis=2))
    largest = np.argmax(np.bincount(labels.ravel())[1:]) + 1
    rows, columns = ndimage.find_objects(labels)[largest - 1]
    return pixels[rows, columns]


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
    # 40 slices x 3 mm = 120 mm tall, 50 columns x 2 mm = 100 mm wide: the long side is scaled to 512 pixels.
    assert grey.shape == (512, round(512 * 100.0 / 120.0))
    px_per_mm = 512 / 120.0
    # SUV 1 of the 0..10 window is light grey (inverted: 1 - 0.1); the lesion (SUV 15) is black.
    assert np.median(grey) == pytest.approx(0.9, abs=0.01)
    row, column = np.argwhere(grey < 0.1).mean(axis=0)  # centre of the lesion's block of dark pixels
    # Head up: the top edge is z = +60 mm; patient right on the image left: the left edge is x = -50 mm.
    expected_row = (60.0 - lesion[2]) * px_per_mm
    expected_column = (lesion[0] + 50.0) * px_per_mm
    # Within one voxel (3 mm rows, 2 mm columns) of the lesion's position.
    assert abs(row - expected_row) <= 3 * px_per_mm and abs(column - expected_column) <= 2 * px_per_mm
    assert grey[int(row), int(column)] < 0.1


def test_slice_png_uses_the_ct_window_and_anterior_up(tmp_path):
    ct = Volume(np.full((3, 20, 30), -1000.0, np.float32), (1.0, 1.0, 2.0), modality="CT", units="HU")
    ct.array[:, 2, 5] = 240.0  # anterior (small y) and patient right (small x)
    ct.array[:, 15, 25] = 40.0  # the middle of the -160..240 window
    grey = _read_grey(save_slice_png(ct, tmp_path / "ct.png", plane="axial", index=1))
    scale = 512 / 30  # 30 mm wide (long side), 20 mm tall
    assert grey.shape == (round(20 * scale), 512)

    def at(row, column):  # the brightest picture pixel inside a voxel's footprint (its centre, interpolated)
        return grey[int(row * scale):int((row + 1) * scale), int(column * scale):int((column + 1) * scale)].max()

    assert at(2, 5) == pytest.approx(1.0, abs=0.02) and at(15, 25) == pytest.approx(0.5, abs=0.02)
    assert grey[0, 0] == pytest.approx(0.0)


def test_fusion_png_is_red_hot_where_there_is_uptake_and_grey_elsewhere(tmp_path):
    ct = Volume(np.zeros((3, 20, 30), np.float32), (1.0, 1.0, 2.0), modality="CT", units="HU")
    ct.array[:, 0, 0] = 240.0
    pet = ct.with_array(np.zeros_like(ct.array), modality="PT", units="SUV")
    pet.array[1, 10, 10] = 6.0  # 0.6 of the SUV 0..10 window
    pixels = image_region(matplotlib.image.imread(str(save_fusion_png(ct, pet, tmp_path / "fusion.png", index=1))))
    scale = 512 / 30
    assert pixels.shape[:2] == (round(20 * scale), 512)
    red, _, blue = pixels[int(10.5 * scale), int(10.5 * scale), :3]
    # 'hot' at 0.6 has full red and no blue; opacity 0.6 x 0.6 = 0.36 over grey 0.4 (0 HU in -160..240).
    assert red == pytest.approx(0.64 * 0.4 + 0.36 * 1.0, abs=0.02)
    assert blue == pytest.approx(0.64 * 0.4, abs=0.02)
    plain = pixels[int(5.5 * scale), int(20.5 * scale), :3]
    assert np.allclose(plain, plain.mean())  # no uptake: plain grey CT
    assert plain[0] == pytest.approx(0.4, abs=0.01)  # 0 HU in -160..240


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
