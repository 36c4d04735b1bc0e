"""Geometry survives every file format exactly; bad files give one clear sentence."""

from __future__ import annotations

import numpy as np
import pytest

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.io import read_volume, write_volume
from MedGANSynthLib.volume import Volume


@pytest.mark.parametrize("suffix", [".nrrd", ".nii.gz", ".nii", ".mha"])
def test_round_trip_keeps_voxels_and_geometry(tmp_path, oblique_volume, suffix):
    path = write_volume(oblique_volume, tmp_path / f"ct{suffix}")
    back = read_volume(path)
    np.testing.assert_array_equal(back.array, oblique_volume.array)
    np.testing.assert_allclose(back.spacing, oblique_volume.spacing, atol=1e-5)
    np.testing.assert_allclose(back.origin, oblique_volume.origin, atol=1e-4)
    np.testing.assert_allclose(back.direction, oblique_volume.direction, atol=1e-5)


def test_nrrd_keeps_modality_and_units(tmp_path, oblique_volume):
    back = read_volume(write_volume(oblique_volume, tmp_path / "ct.nrrd"))
    assert (back.modality, back.units) == ("CT", "HU")


def test_physical_point_follows_origin_direction_spacing(oblique_volume):
    index = np.array([3.0, 4.0, 5.0])
    expected = np.array(oblique_volume.origin) + oblique_volume.direction @ (np.array(oblique_volume.spacing) * index)
    np.testing.assert_allclose(oblique_volume.physical_point(index), expected)
    np.testing.assert_allclose(oblique_volume.continuous_index(expected), index, atol=1e-9)


def test_write_failure_leaves_no_file(tmp_path, oblique_volume):
    with pytest.raises(InputError, match="choose a .nrrd"):
        write_volume(oblique_volume, tmp_path / "out.png")
    assert list(tmp_path.iterdir()) == []


def test_truncated_file_is_refused_clearly(tmp_path, oblique_volume):
    path = write_volume(oblique_volume, tmp_path / "ct.nii", compress=False)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(InputError, match="truncated or corrupt"):
        read_volume(path)


def test_missing_file_is_refused_clearly(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        read_volume(tmp_path / "nothing.nrrd")


def test_four_dimensional_array_is_refused():
    with pytest.raises(InputError, match="3 dimensions"):
        Volume(np.zeros((2, 3, 4, 5)))


def test_outputs_get_the_ordinary_file_mode(tmp_path, oblique_volume):
    import os

    mask = os.umask(0o022)
    try:
        path = write_volume(oblique_volume, tmp_path / "ct.nrrd")
        reference = tmp_path / "plain.txt"
        reference.write_text("x")  # what open() gives under the same umask
        assert path.stat().st_mode & 0o777 == reference.stat().st_mode & 0o777 == 0o644
    finally:
        os.umask(mask)
