"""The data stages of Testing/Training/phantom_to_real_ct.py (the phantom -> real CT experiment of HISTORY.md):
real CTs put on the phantom grid without moving them, and phantoms cut exactly at their vertebral landmarks."""

from __future__ import annotations

import json
import sys

import numpy as np
from conftest import REPO_ROOT, shared_data_path

from MedGANSynthLib.io.volume_io import read_volume
from MedGANSynthLib.phantoms.wholebody import WholeBodyConfig, make_wholebody_case
from MedGANSynthLib.phantoms.writer import write_case

sys.path.insert(0, str(REPO_ROOT / "Testing" / "Training"))
import phantom_to_real_ct as stages  # noqa: E402


def _centre(volume) -> np.ndarray:
    """Physical centre of the voxel-centre box, from the 4x4 matrix (not from the script's corner helper)."""
    size = np.array(volume.array.shape[::-1], float) - 1
    return (volume.index_to_physical @ np.append(size / 2, 1.0))[:3]


def test_real_ct_lands_on_a_4_mm_500_mm_grid_centred_where_it_was(tmp_path):
    shared_data_path("ct-dicom-thorax")
    stages.real_domain(tmp_path)
    original = read_volume(stages.SHARED_DATA / "ct-dicom-thorax")
    moved = read_volume(tmp_path / "ct-dicom-thorax.nrrd")
    assert moved.spacing == (4.0, 4.0, 4.0) and moved.array.shape == (10, 125, 125)  # 20 x 2 mm -> 38 mm: 10 slices
    assert np.allclose(_centre(moved), _centre(original), atol=2.0)
    # 4 mm voxels average what they cover: the mean HU of the patient's central 10 cm square is kept within 15 HU
    k, j, i = np.indices(original.array.shape)
    points = original.index_to_physical @ np.stack([i.ravel(), j.ravel(), k.ravel(), np.ones(i.size)])
    centre = _centre(original)
    inside = (np.abs(points[0] - centre[0]) < 50) & (np.abs(points[1] - centre[1]) < 50)
    kk, jj, ii = np.indices(moved.array.shape)
    moved_points = moved.index_to_physical @ np.stack([ii.ravel(), jj.ravel(), kk.ravel(), np.ones(ii.size)])
    moved_inside = (np.abs(moved_points[0] - centre[0]) < 48) & (np.abs(moved_points[1] - centre[1]) < 48)
    assert abs(moved.array.ravel()[moved_inside].mean() - original.array.ravel()[inside].mean()) < 15.0


def test_a_phantom_is_cut_from_the_top_of_t9_to_the_bottom_of_l3_on_its_own_grid(tmp_path):
    config = WholeBodyConfig().with_voxel_mm(8.0)
    write_case(make_wholebody_case(3, "lung", config, version=2), tmp_path / "src" / "case")
    stages.crop(tmp_path / "src", tmp_path / "cut")
    whole = read_volume(tmp_path / "src" / "case" / "ct.nrrd")
    cut = read_volume(tmp_path / "cut" / "case" / "ct.nrrd")
    landmarks = json.loads((tmp_path / "src" / "case" / "manifest.json").read_text())["landmarks"]
    top, bottom = landmarks["T9"][0], landmarks["L3"][1]
    z = cut.origin[2] + cut.spacing[2] * np.arange(cut.array.shape[0])  # identity direction: k runs superior
    assert z[0] <= bottom < z[1] and z[-2] < top <= z[-1]  # one slice beyond each landmark, no more
    first = int(round((cut.origin[2] - whole.origin[2]) / whole.spacing[2]))
    assert np.array_equal(cut.array, whole.array[first:first + len(z)])
    for name in ("suv.nrrd", "lesions.nrrd"):
        assert read_volume(tmp_path / "cut" / "case" / name).same_grid(cut)
