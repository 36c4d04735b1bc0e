"""The quick-start demo on coarse phantoms: every promised file exists and the numbers in it are true."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from MedGANSynthLib.cli.main import main
from MedGANSynthLib.io import read_volume
from MedGANSynthLib.pet.suv import load_pet_as_suv
from MedGANSynthLib.preprocessing import resample_isotropic


@pytest.fixture(scope="module")
def demo_output(tmp_path_factory):
    output = tmp_path_factory.mktemp("demo")
    code = main(["demo", "-o", str(output), "--classes", "normal,lung", "--voxel-mm", "8", "--angles", "4",
                 "--real-data", str(output / "absent")])
    assert code == 0
    return output


def test_summary_lists_existing_files(demo_output):
    summary = json.loads((demo_output / "summary.json").read_text())
    assert [case["class"] for case in summary["cases"]] == ["normal", "lung"]
    for case in summary["cases"]:
        for path in case["files"].values():
            assert Path(path).exists(), path
    assert (demo_output / "overview_coronal_mips.png").stat().st_size > 1000


def test_dicom_round_trip_reproduces_the_phantom_suv(demo_output):
    """PET written as Bq/ml DICOM and read back as SUV equals the phantom's own SUV within int16 quantisation."""
    case = demo_output / "case_000_normal"  # the case that keeps its DICOM series
    truth = read_volume(case / "phantom" / "pet.nrrd")
    back = load_pet_as_suv(case / "pet_dicom")
    # Each slice is stored as int16 with its own slope: error <= half a step = max/65534 per slice.
    step = truth.array.reshape(truth.array.shape[0], -1).max(axis=1) / 32767.0
    assert np.all(np.abs(back.array - truth.array) <= step[:, None, None] * 0.5 + 1e-4)


def test_coronal_mip_is_the_max_over_anterior_posterior(demo_output):
    case = demo_output / "case_000_normal"
    pet_2mm = resample_isotropic(load_pet_as_suv(case / "pet_dicom"), 2.0, "nearest")  # RadioGAN's preprocessing
    coronal = read_volume(case / "mip_coronal.nrrd")
    assert pet_2mm.spacing == pytest.approx((2.0, 2.0, 2.0))
    # Phantom volumes are stored with an identity direction, so anterior-posterior is array axis 1.
    np.testing.assert_array_equal(coronal.array[:, 0, :], pet_2mm.array.max(axis=1))


def test_lung_lesion_is_hotter_than_the_normal_case_at_its_site(demo_output):
    manifest = json.loads((demo_output / "case_001_lung" / "phantom" / "manifest.json").read_text())
    assert any(lesion["site"].startswith("lung") for lesion in manifest["lesions"])


def test_only_the_first_case_keeps_its_dicom_series_and_no_case_the_bulky_intermediates(demo_output):
    first, other = demo_output / "case_000_normal", demo_output / "case_001_lung"
    assert len(list((first / "pet_dicom").glob("*.dcm"))) > 10 and not (other / "pet_dicom").exists()
    for case in (first, other):
        names = {path.name for path in case.iterdir()}
        assert {"mip_coronal.nrrd", "mip_coronal.png", "rotating_mip.png", "fusion_coronal.png"} <= names
        assert not names & {"pet_suv.nrrd", "pet_suv_2mm.nrrd", "pet_suv_on_ct.nrrd", "rotating_mip.nrrd"}
        assert (case / "phantom" / "ct.nrrd").is_file()


def test_no_file_names_the_staging_folder_it_was_written_in(demo_output):
    from MedGANSynthLib.io.output_set import STAGING_TAG

    for path in demo_output.rglob("*"):
        if path.is_file():
            assert STAGING_TAG.encode() not in path.read_bytes(), path


def test_closing_summary_lists_every_folder(demo_output, capsys):
    from MedGANSynthLib.cli.cmd_demo import _print_summary

    _print_summary(json.loads((demo_output / "summary.json").read_text()))
    listed = capsys.readouterr().out
    for folder in (path for path in demo_output.iterdir() if path.is_dir()):
        assert f"  {folder.name}/ (" in listed, folder.name


def test_bad_class_exits_2_with_one_line(tmp_path):
    result = subprocess.run([sys.executable, "-m", "MedGANSynthLib", "demo", "-o", str(tmp_path / "x"),
                             "--classes", "brain_tumour"], capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Unknown lesion class" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "x").exists()
