"""The resample and mip commands, in-process through main() and once each as a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys

import matplotlib.image
import numpy as np
import pytest
import SimpleITK as sitk
from conftest import REPO_ROOT, shared_data_path

from MedGANSynthLib.cli.main import main
from MedGANSynthLib.io import read_volume, write_volume
from MedGANSynthLib.volume import Volume


@pytest.fixture
def pet_file(tmp_path):
    array = np.random.default_rng(7).gamma(2.0, 0.5, size=(12, 10, 10)).astype(np.float32)
    array[6, 4, 3] = 25.0
    volume = Volume(array, (4.07, 4.07, 2.0), (-20.0, -20.0, 0.0), modality="PT", units="SUV")
    return write_volume(volume, tmp_path / "pet.nrrd")


def test_resample_isotropic_with_json(tmp_path, pet_file, capsys):
    out = tmp_path / "iso.nrrd"
    assert main(["resample", str(pet_file), "-o", str(out), "--spacing", "2", "--interpolation", "nearest",
                 "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    back = read_volume(out)
    # 10 x 4.07 mm = 40.7 mm -> 20 voxels; 12 x 2 mm -> 12 voxels.
    assert back.array.shape == (12, 20, 20) and back.spacing == (2.0, 2.0, 2.0)
    assert summary["interpolation"] == "nearest" and (back.modality, back.units) == ("PT", "SUV")
    assert set(np.unique(back.array)) <= set(np.unique(read_volume(pet_file).array))


def test_resample_onto_a_reference(tmp_path, pet_file):
    reference = Volume(np.zeros((5, 8, 9), np.int16), (1.0, 1.5, 2.5), (-5.0, -4.0, 6.0), modality="CT", units="HU")
    reference_file = write_volume(reference, tmp_path / "ct.nrrd")
    out = tmp_path / "pet_on_ct.nii.gz"
    assert main(["resample", str(pet_file), "-o", str(out), "--reference", str(reference_file)]) == 0
    assert read_volume(out).same_grid(reference)


def test_resample_bad_spacing_writes_nothing(tmp_path, pet_file, capsys):
    out = tmp_path / "iso.nrrd"
    assert main(["resample", str(pet_file), "-o", str(out), "--spacing", "0"]) == 2
    assert "outside the plausible" in capsys.readouterr().err
    assert not out.exists()


def test_resample_refuses_a_2d_image(tmp_path, capsys):
    flat = tmp_path / "slice.nrrd"
    sitk.WriteImage(sitk.GetImageFromArray(np.ones((8, 8), np.float32)), str(flat))
    assert main(["resample", str(flat), "-o", str(tmp_path / "o.nrrd")]) == 2
    assert "2-D image" in capsys.readouterr().err


def test_mip_with_png(tmp_path, pet_file, capsys):
    out, png = tmp_path / "mip.nrrd", tmp_path / "mip.png"
    assert main(["mip", str(pet_file), "-o", str(out), "--png", str(png), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    projection = read_volume(out)
    pet = read_volume(pet_file)
    np.testing.assert_array_equal(projection.array, pet.array.max(axis=1, keepdims=True))
    assert summary["shape_kji"] == [12, 1, 10]
    pixels = matplotlib.image.imread(str(png))
    # The page around a 12 slices x 2 mm tall, 10 columns x 4.07 mm wide MIP: its long side (40.7 mm) is drawn
    # with 512 pixels, so the page is wider than that.
    assert pixels.shape[1] > 512


def test_mip_rotating_stack(tmp_path, pet_file):
    out, png = tmp_path / "cine.nrrd", tmp_path / "cine.png"
    assert main(["mip", str(pet_file), "-o", str(out), "--angles", "8", "--png", str(png)]) == 0
    stack = read_volume(out)
    assert stack.array.shape == (8, 12, 10)
    assert stack.metadata["angles_deg"][:3] == [0.0, 45.0, 90.0]
    assert png.exists()


def test_mip_of_real_ct_is_refused(tmp_path, capsys):
    """mip projects PET in SUV; the real CT goes down to air (-1024 HU), so it is refused and nothing is written."""
    ct_file = shared_data_path("ct-nifti", "example_ct_sm.nii.gz")
    out = tmp_path / "ct_mip.nrrd"
    assert main(["mip", str(ct_file), "-o", str(out), "--axis", "axial", "--units", "suv"]) == 2
    assert "CT in Hounsfield units" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [(["--angles", "0"], "angles must be from 1 to 720"), (["--angles", "721"], "angles must be from 1 to 720"),
     (["--png", "x.jpg"], "not a .png")],
)
def test_mip_bad_options(tmp_path, pet_file, capsys, extra, message):
    out = tmp_path / "m.nrrd"
    assert main(["mip", str(pet_file), "-o", str(out), *extra]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_mip_unknown_axis_exits_2(tmp_path, pet_file, capsys):
    assert main(["mip", str(pet_file), "-o", str(tmp_path / "m.nrrd"), "--axis", "frontal"]) == 2
    assert "invalid choice: 'frontal'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("command", "message"),
    [(["resample", "--interpolation", "linear", "--spacing", "1e6"], "outside the plausible"),
     (["mip", "--angles", "1000"], "from 1 to 720")],
)
def test_subprocess_bad_input_exits_2_with_one_line(tmp_path, pet_file, command, message):
    name, *options = command
    result = subprocess.run(
        [sys.executable, "-m", "MedGANSynthLib", name, str(pet_file), "-o", str(tmp_path / "o.nrrd"), *options],
        capture_output=True, text=True, cwd=REPO_ROOT, timeout=120,
    )
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and message in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "o.nrrd").exists()
