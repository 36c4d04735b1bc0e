"""`dataset mip|ct --phantom-version`: GAN data sets from the realistic whole-body phantoms (versions 2-4)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from skimage.measure import block_reduce

from MedGANSynthLib.cli.main import main
from MedGANSynthLib.io.volume_io import read_volume
from MedGANSynthLib.phantoms import make_wholebody_case
from MedGANSynthLib.phantoms.tissues import LABEL


def test_ct_slices_of_a_whole_body_case_are_its_chest_from_base_to_apex_area_averaged(tmp_path):
    assert main(["dataset", "ct", "--phantoms", "2", "--heldout", "1", "--slices", "5", "--size", "64",
                 "--seed", "4", "--phantom-version", "3", "-o", str(tmp_path / "d"), "--quiet"]) == 0
    stack = read_volume(tmp_path / "d" / "train" / "chest_0000.nrrd").array
    case = make_wholebody_case(4 * 100_003, "normal", version=3)  # the builder's seed for case 0
    lung_slices = np.flatnonzero((case.organs.array == LABEL["lung"]).any(axis=(1, 2)))
    # each output slice is one of the case's CT slices averaged over 4 x 4 pixels (256 -> 64 px)
    small = np.stack([block_reduce(s.astype(np.float64), (4, 4), np.mean) for s in case.ct.array])
    nearest = [int(np.argmin(np.abs(small - s).max(axis=(1, 2)))) for s in stack]
    assert all(np.abs(small[k] - s).max() < 0.01 for k, s in zip(nearest, stack, strict=True))
    assert nearest[0] == lung_slices[0] and nearest[-1] == lung_slices[-1]  # lung bases and apex
    assert nearest == sorted(nearest) and len(set(nearest)) == 5
    assert all((s < -500).sum() > 20 for s in stack[1:-1])  # aerated lung at 64 px between base and apex
    description = json.loads((tmp_path / "d" / "dataset.json").read_text())
    assert description["phantom_version"] == 3 and "version 3" in description["source"]


def test_mip_data_set_of_version_3_differs_and_version_1_stays_the_default(tmp_path):
    common = ["dataset", "mip", "--phantoms", "2", "--heldout", "1", "--classes", "lung", "--seed", "5", "--quiet"]
    assert main([*common, "-o", str(tmp_path / "default")]) == 0
    assert main([*common, "--phantom-version", "1", "-o", str(tmp_path / "v1")]) == 0
    assert main([*common, "--phantom-version", "3", "-o", str(tmp_path / "v3")]) == 0

    def image(root):
        return read_volume(root / "train" / "lung_0000.nrrd").array

    assert np.array_equal(image(tmp_path / "default"), image(tmp_path / "v1"))
    assert not np.array_equal(image(tmp_path / "v1"), image(tmp_path / "v3"))
    assert json.loads((tmp_path / "v3" / "dataset.json").read_text())["phantom_version"] == 3
    assert json.loads((tmp_path / "default" / "dataset.json").read_text())["phantom_version"] == 1


def test_mip_data_set_of_version_4_is_written_and_is_not_version_3(tmp_path):
    """Version 4 changes the SUV of muscle, fat and kidney cortex, so the same subjects' PET MIPs differ."""
    common = ["dataset", "mip", "--phantoms", "2", "--heldout", "1", "--classes", "normal", "--seed", "5", "--quiet"]
    for version in ("3", "4"):
        assert main([*common, "--phantom-version", version, "-o", str(tmp_path / f"v{version}")]) == 0
    images = [read_volume(tmp_path / v / "train" / "normal_0000.nrrd").array for v in ("v3", "v4")]
    assert images[0].shape == images[1].shape and not np.array_equal(*images)
    assert json.loads((tmp_path / "v4" / "dataset.json").read_text())["phantom_version"] == 4


@pytest.mark.parametrize(("arguments", "message"), [
    (["ct", "--phantoms", "2", "--size", "60", "--phantom-version", "3"], "--size must divide"),
    (["ct", "--phantoms", "2", "--phantom-version", "1"], "must be 2, 3, 4, 5, 6, 7, 8, 9 or 10"),
    (["mip", "--phantoms", "2", "--phantom-version", "11"], "must be 1, 2, 3, 4, 5, 6, 7, 8, 9 or 10"),
    (["brain", "--phantoms", "2", "--phantom-version", "3"], "drop it for brain"),
])
def test_bad_phantom_version_requests_are_refused_in_one_line_and_write_nothing(tmp_path, capsys, arguments, message):
    assert main(["dataset", *arguments, "-o", str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err
    assert message in error and "Traceback" not in error and len(error.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()
