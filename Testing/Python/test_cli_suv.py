"""``medgansynth suv``: real PET to an SUV NRRD, JSON summary, one-line errors with exit 2 and no partial output."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pydicom
import pytest
from conftest import REPO_ROOT, shared_data_path

from MedGANSynthLib.cli.main import main
from MedGANSynthLib.io import read_volume, write_volume
from MedGANSynthLib.volume import Volume


@pytest.fixture(scope="module")
def pet_file():
    return shared_data_path("pet-dicom-flt-breast", "1.dcm")


def _own_suv(pet_file, weight_kg=None) -> np.ndarray:
    """SUVbw of the real slice by hand: the series starts 15:23:16.921, the injection was at 14:17:00."""
    dataset = pydicom.dcmread(pet_file)
    drug = dataset.RadiopharmaceuticalInformationSequence[0]
    delay = (15 * 3600 + 23 * 60 + 16.921) - (14 * 3600 + 17 * 60)
    decayed = float(drug.RadionuclideTotalDose) * 0.5 ** (delay / float(drug.RadionuclideHalfLife))
    weight_g = 1000 * (weight_kg or float(dataset.PatientWeight))
    return dataset.pixel_array * float(dataset.RescaleSlope) * weight_g / decayed


def test_suv_of_real_pet_with_json_summary(tmp_path, pet_file, capsys):
    output = tmp_path / "suv.nrrd"
    assert main(["suv", str(pet_file), "-o", str(output), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    expected = _own_suv(pet_file)
    written = read_volume(output)
    np.testing.assert_allclose(written.array[0], expected, rtol=1e-5, atol=1e-7)
    assert written.units == "SUV"
    assert summary["path"] == str(output)
    assert summary["shape"] == [1, 168, 168]
    assert summary["spacing"] == pytest.approx([4.07283, 4.07283, 5.0])
    assert summary["suv_max"] == pytest.approx(expected.max(), rel=1e-5)
    assert summary["suv_parameters"]["weight_kg"] == 69.7344
    assert summary["suv_parameters"]["uptake_s"] == pytest.approx(3976.921)


def test_weight_override_and_iso_times(tmp_path, pet_file, capsys):
    output = tmp_path / "suv.nrrd"
    args = ["suv", str(pet_file), "-o", str(output), "--weight-kg", "50", "--json",
            "--injection-time", "1960-06-14T14:17:00", "--scan-time", "1960-06-14T15:23:16.921"]
    assert main(args) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["suv_parameters"]["overrides"] == ["weight_kg", "injection_time", "scan_time"]
    np.testing.assert_allclose(read_volume(output).array[0], _own_suv(pet_file, weight_kg=50), rtol=1e-5, atol=1e-7)


def test_nifti_needs_all_parameters(tmp_path, capsys):
    source = write_volume(Volume(np.full((2, 3, 4), 5000.0, dtype=np.float32)), tmp_path / "pet.nii.gz")
    output = tmp_path / "suv.nrrd"
    assert main(["suv", str(source), "-o", str(output), "--weight-kg", "70"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "--dose-mbq" in error
    assert not output.exists()
    args = ["suv", str(source), "-o", str(output), "--weight-kg", "70", "--dose-mbq", "350", "--injection-time",
            "100000", "--scan-time", "110000", "--half-life-s", "6586.2"]
    assert main(args) == 0
    expected = 5000.0 * 70000 / (350e6 * 0.5 ** (3600 / 6586.2))
    np.testing.assert_allclose(read_volume(output).array, expected, rtol=1e-6)


def test_bad_output_suffix_writes_nothing(tmp_path, pet_file, capsys):
    assert main(["suv", str(pet_file), "-o", str(tmp_path / "suv.png")]) == 2
    assert "choose a .nrrd" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_refused_input_leaves_no_output(tmp_path, pet_file, capsys):
    dataset = pydicom.dcmread(pet_file)
    dataset.Units = "CNTS"
    dataset.save_as(tmp_path / "counts.dcm")
    assert main(["suv", str(tmp_path / "counts.dcm"), "-o", str(tmp_path / "out" / "suv.nrrd")]) == 2
    error = capsys.readouterr().err
    assert error.startswith("medgansynth suv: error: PET Units are 'CNTS'") and error.count("\n") == 1
    assert not (tmp_path / "out" / "suv.nrrd").exists()


def test_subprocess_bad_input_exits_2_with_one_line(tmp_path, pet_file):
    dataset = pydicom.dcmread(pet_file)
    del dataset.PatientWeight
    dataset.save_as(tmp_path / "noweight.dcm")
    output = tmp_path / "suv.nrrd"
    result = subprocess.run(
        [sys.executable, "-m", "MedGANSynthLib", "suv", str(tmp_path / "noweight.dcm"), "-o", str(output)],
        capture_output=True, text=True, cwd=REPO_ROOT, timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "PatientWeight" in result.stderr and "--weight-kg" in result.stderr
    assert "Traceback" not in result.stderr
    assert not output.exists()


def test_plausibility_warnings_on_stderr_and_in_json(tmp_path, pet_file, capsys):
    """A 4.27 GBq F-18 dose: converted (SUV by hand from the tags), one warning line on stderr, listed in JSON."""
    dataset = pydicom.dcmread(pet_file)
    dataset.RadiopharmaceuticalInformationSequence[0].RadionuclideTotalDose = "4270000000"
    dataset.save_as(tmp_path / "bigdose.dcm")
    output = tmp_path / "suv.nrrd"
    assert main(["suv", str(tmp_path / "bigdose.dcm"), "-o", str(output), "--json", "--quiet"]) == 0
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("medgansynth suv: warning: injected F-18 dose 4270 MBq")
    summary = json.loads(captured.out)
    assert summary["warnings"] == [lines[0].removeprefix("medgansynth suv: warning: ")]
    delay = (15 * 3600 + 23 * 60 + 16.921) - (14 * 3600 + 17 * 60)
    expected = dataset.pixel_array * float(dataset.RescaleSlope) * 1000 * float(dataset.PatientWeight) / (
        4.27e9 * 0.5 ** (delay / 6586.2))
    np.testing.assert_allclose(read_volume(output).array[0], expected, rtol=1e-5, atol=1e-7)
    assert summary["suv_max"] < 1  # the silent error the warning is there to catch


def test_real_pet_prints_no_warning(tmp_path, pet_file, capsys):
    assert main(["suv", str(pet_file), "-o", str(tmp_path / "suv.nrrd"), "--json", "--quiet"]) == 0
    captured = capsys.readouterr()
    assert captured.err == "" and json.loads(captured.out)["warnings"] == []
