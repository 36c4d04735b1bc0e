"""``--series`` on the commands that read many DICOM folders (evaluate-virtual-pet, train-virtual-pet, dataset
--labels): the real thorax CT beside a copy of it with its own SeriesInstanceUID, and the real PET slice as two
reconstructions. Expected pixels come from the raw bytes (dicom_variants), never from the reader."""

from __future__ import annotations

import csv
import json
import shutil

import numpy as np
import pydicom
import pytest
from conftest import shared_data_path
from dicom_variants import raw_rescaled, real_ct_datasets, real_pet_dataset, write_slices
from tiny_models import save_tiny_virtual_pet

from MedGANSynthLib.cli.main import main
from MedGANSynthLib.io import read_volume, write_volume
from MedGANSynthLib.virtual_pet.cases import discover_cases, load_case

COPY_SLICES = 12  # the copy keeps the 12 lowest slices, so which series was read shows in the volume's size


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    """c1/ct holds the real 20-slice series (as exported: no SeriesInstanceUID, no SeriesNumber) and a 12-slice
    copy (SeriesNumber 2, a new UID); c2/ct holds the real series alone. Each case's PET is SUV 1 on its CT grid."""
    root = tmp_path_factory.mktemp("series_cases")
    real = shared_data_path("ct-dicom-thorax")
    shutil.copytree(real, root / "c1" / "ct" / "real")
    copied = real_ct_datasets()[:COPY_SLICES]
    write_slices(root / "c1" / "ct" / "copy", copied, SeriesNumber=2, SeriesDescription="copy")
    shutil.copytree(real, root / "c2" / "ct")
    for case in ("c1", "c2"):
        ct = read_volume(real)
        write_volume(ct.with_array(np.ones_like(ct.array), modality="PT", units="SUV"), root / case / "suv.nrrd")
    uid = pydicom.dcmread(next((root / "c1" / "ct" / "copy").iterdir())).SeriesInstanceUID
    return root, np.stack([raw_rescaled(d) for d in copied]), uid


def test_series_names_the_ct_where_a_folder_holds_two_and_is_ignored_where_it_holds_one(cases):
    root, copy_pixels, uid = cases
    for name in ("2", uid):
        c1, c2 = (load_case(case) for case in discover_cases(root, series=name))
        np.testing.assert_array_equal(c1.ct.array, copy_pixels)
        assert c2.ct.array.shape == (20, 512, 512)


def _error_line(capsys) -> str:
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and "Traceback" not in error[0]
    return error[0]


@pytest.mark.parametrize("command", ["evaluate-virtual-pet", "train-virtual-pet"])
def test_two_ct_series_are_refused_naming_series_and_an_unknown_series_lists_them(cases, tmp_path, capsys, command):
    root, _, uid = cases
    argv = [command, "--data", str(root), "-o", str(tmp_path / "out"), "--device", "cpu"]
    assert main(argv) == 2
    line = _error_line(capsys)
    assert line.startswith(f"medgansynth {command}: error: ")
    assert "ct' holds 2 CT series; choose one with --series NUMBER|UID" in line and f"#2 CT 'copy' 12 files UID {uid}" in line
    assert main([*argv, "--series", "7"]) == 2
    assert "ct' has no series '7' (SeriesNumber or SeriesInstanceUID). Found: #2 CT 'copy'" in _error_line(capsys)
    assert not (tmp_path / "out").exists()


@pytest.mark.slow  # 512 x 512 CTs: minutes on a busy 2-core machine
def test_evaluate_virtual_pet_reads_the_named_series(cases, tmp_path):
    root, _, uid = cases
    model = save_tiny_virtual_pet(tmp_path / "model", working_pixel_mm=16.0)
    assert main(["evaluate-virtual-pet", "--data", str(root), "--model", str(model), "-o", str(tmp_path / "eval"),
                 "--device", "cpu", "--threads", "1", "--series", uid]) == 0
    results = json.loads((tmp_path / "eval" / "results.json").read_text())
    assert [scan["case_id"] for scan in results["per_scan"]] == ["c1", "c2"]


@pytest.mark.slow
def test_train_virtual_pet_keeps_the_series_in_run_json(cases, tmp_path):
    root, _, _ = cases
    run = tmp_path / "run"
    assert main(["train-virtual-pet", "--data", str(root), "-o", str(run), "--series", "2", "--epochs", "1",
                 "--width-fcn", "0.0625", "--width-gan", "0.0625", "--depth", "4", "--slice-size", "32",
                 "--lesion-repeats", "1", "--batch-size", "16", "--device", "cpu", "--threads", "1"]) == 0
    stored = json.loads((run / "run.json").read_text())
    assert stored["series"] == "2" and stored["data"] == str(root.resolve())


# --- dataset --labels ---------------------------------------------------------------------------------------------


@pytest.fixture
def two_pet_reconstructions(tmp_path):
    """The real PET slice as a 3-slice series 5 ('AC') and series 6 ('NAC') whose stored values mean twice the
    activity (RescaleSlope doubled), listed twice in a labels CSV."""
    pet = real_pet_dataset()
    x, y = (float(v) for v in pet.ImagePositionPatient[:2])
    positions = [[x, y, h] for h in (0.0, 5.0, 10.0)]
    folder = tmp_path / "patient"
    write_slices(folder / "ac", [pet] * 3, positions, SeriesNumber=5, SeriesDescription="AC")
    write_slices(folder / "nac", [pet] * 3, positions, SeriesNumber=6, SeriesDescription="NAC",
                 RescaleSlope=2 * float(pet.get("RescaleSlope", 1) or 1))
    labels = tmp_path / "labels.csv"
    with open(labels, "w", newline="") as handle:
        csv.writer(handle).writerows([("file", "label"), (str(folder), "normal"), (str(folder), "lung")])
    return labels


def _mip_maximum(output) -> float:
    files = sorted((output / "train").glob("*.nrrd")) + sorted((output / "heldout").glob("*.nrrd"))
    assert len(files) == 2
    return max(float(read_volume(file).array.max()) for file in files)


def test_dataset_labels_take_series_for_a_folder_with_two_pet_series(two_pet_reconstructions, tmp_path, capsys):
    labels = two_pet_reconstructions
    argv = ["dataset", "mip", "--labels", str(labels), "--heldout-fraction", "0.5"]
    assert main([*argv, "-o", str(tmp_path / "none")]) == 2
    assert "holds 2 PT series; choose one with --series NUMBER|UID" in _error_line(capsys)
    assert main([*argv, "-o", str(tmp_path / "ac"), "--series", "5", "--quiet"]) == 0
    assert main([*argv, "-o", str(tmp_path / "nac"), "--series", "6", "--quiet"]) == 0
    assert _mip_maximum(tmp_path / "nac") == pytest.approx(2 * _mip_maximum(tmp_path / "ac"), rel=1e-6)


def test_dataset_series_without_labels_is_refused(tmp_path, capsys):
    assert main(["dataset", "mip", "--phantoms", "2", "-o", str(tmp_path / "out"), "--series", "5"]) == 2
    assert "--series picks a series in the DICOM folders that --labels lists" in _error_line(capsys)
