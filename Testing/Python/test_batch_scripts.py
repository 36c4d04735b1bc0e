"""The batch examples of Testing/Scripts run end to end as plain Python programs (slicer-core), as a user runs them.

Outputs are checked against the library called directly and against hand arithmetic, never against themselves.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import shared_data_path
from tiny_models import save_tiny_gan, save_tiny_virtual_pet

from MedGANSynthLib.io.volume_io import read_volume, write_volume
from MedGANSynthLib.volume import Volume

pytest.importorskip("slicer", reason="slicer-core (the real MRML libraries from PyPI) is not installed")
pytestmark = pytest.mark.mrml

SCRIPTS = Path(__file__).resolve().parents[2] / "Testing" / "Scripts"
F18_HALF_LIFE_S = 6586.2


def run_script(name: str, *args, expect: int = 0) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, str(SCRIPTS / name), *map(str, args)], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == expect, result.stderr[-2000:]
    return result


def summary_of(result: subprocess.CompletedProcess) -> dict:
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_suv_and_mip_of_a_bqml_pet_file_matches_hand_arithmetic(tmp_path):
    rng = np.random.default_rng(8)
    activity = rng.uniform(1000.0, 30000.0, size=(9, 14, 11)).astype(np.float32)  # Bq/ml, k=S j=P i=L
    pet = write_volume(Volume(activity, spacing=(4.0, 4.0, 3.0), origin=(-20.0, -28.0, 5.0), modality="PT",
                              units="BQML"), tmp_path / "pet.nrrd")
    result = run_script("suv_and_mip.py", pet, "-o", tmp_path / "out", "--weight-kg", 65, "--dose-mbq", 300,
                        "--injection-time", "08:00:00", "--scan-time", "09:30:00")
    files = summary_of(result)["files"]
    expected = activity.astype(np.float64) * 65_000.0 / (300e6 * 2.0 ** (-5400.0 / F18_HALF_LIFE_S))
    suv = read_volume(files["suv"])
    np.testing.assert_allclose(suv.array, expected, rtol=1e-5)
    assert suv.spacing == pytest.approx((4.0, 4.0, 3.0)) and suv.origin == pytest.approx((-20.0, -28.0, 5.0))
    mip = read_volume(files["mip"])
    np.testing.assert_allclose(mip.array[:, 0, :], expected.max(axis=1), rtol=1e-5)  # coronal: max along P
    assert Path(files["mip_png"]).stat().st_size > 0


def test_rotating_mip_of_the_default_phantom_is_drawn(tmp_path):
    result = run_script("suv_and_mip.py", "--angles", 6, "-o", tmp_path)
    picture = Path(summary_of(result)["files"]["rotating_mip_png"])
    assert picture.parent == tmp_path and picture.stat().st_size > 0


def test_suv_of_a_real_dicom_pet_equals_the_library(tmp_path):
    from MedGANSynthLib.pet.suv import load_pet_as_suv

    path = shared_data_path("pet-dicom-flt-breast", "1.dcm")
    files = summary_of(run_script("suv_and_mip.py", path, "-o", tmp_path))["files"]
    np.testing.assert_allclose(read_volume(files["suv"]).array, load_pet_as_suv(path).array, rtol=1e-6)


def test_suv_script_reports_the_plausibility_warnings(tmp_path):
    """A 4.27 GBq F-18 dose in a real header: the script says so on stderr and in its summary."""
    import pydicom

    dataset = pydicom.dcmread(shared_data_path("pet-dicom-flt-breast", "1.dcm"))
    dataset.RadiopharmaceuticalInformationSequence[0].RadionuclideTotalDose = "4270000000"
    dataset.save_as(tmp_path / "bigdose.dcm")
    result = run_script("suv_and_mip.py", tmp_path / "bigdose.dcm", "-o", tmp_path / "out")
    warnings = summary_of(result)["warnings"]
    assert len(warnings) == 1 and warnings[0].startswith("injected F-18 dose 4270 MBq is outside 37-1,000 MBq")
    assert f"suv_and_mip: warning: {warnings[0]}" in result.stderr.splitlines()


def test_a_pet_without_suv_parameters_fails_with_one_line_and_no_traceback(tmp_path):
    pet = write_volume(Volume(np.ones((3, 4, 5), np.float32), modality="PT", units="BQML"), tmp_path / "p.nrrd")
    result = run_script("suv_and_mip.py", pet, "-o", tmp_path / "out", expect=2)
    errors = [line for line in result.stderr.splitlines() if line.startswith("suv_and_mip:")]
    assert len(errors) == 1 and "--weight-kg" in errors[0]
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out" / "suv.nrrd").exists()


def test_sampled_images_equal_the_library_samples(tmp_path):
    if importlib.util.find_spec("MedGANSynthLib.gan.sampling") is None:
        pytest.skip("MedGANSynthLib.gan.sampling is not in the library yet")
    from MedGANSynthLib.gan.sampling import sample_images, to_physical
    from MedGANSynthLib.weights import load_gan

    model = save_tiny_gan(tmp_path, "brain_dcgan")
    summary = summary_of(run_script("sample_gan.py", "--model", model, "--count", 3, "--seed", 9, "--device", "cpu",
                                    "-o", tmp_path / "out"))
    loaded, _, loaded_card = load_gan(model, "cpu")
    expected = to_physical(sample_images(loaded, None, 3, 9, "cpu"), loaded_card)
    frames = [read_volume(path) for path in summary["frames"]]
    assert len(frames) == 3
    centre = expected.shape[1] // 2  # brain models make slice triplets; the centre slice is the image
    for frame, image in zip(frames, expected, strict=True):
        # another process may sum convolutions in another order: float32 noise times 7.5 SUV per output unit
        np.testing.assert_allclose(frame.array[0], image[centre], atol=1e-4)
        assert frame.units == "SUV"
    assert Path(summary["png"]).stat().st_size > 0


def test_virtual_pet_script_writes_the_library_result_and_its_lesions(tmp_path):
    if importlib.util.find_spec("MedGANSynthLib.cli.cmd_virtual_pet") is None:
        pytest.skip("the 'virtual-pet' CLI command (MedGANSynthLib/cli/cmd_virtual_pet.py) is not in the library yet")
    from scipy import ndimage

    from MedGANSynthLib.virtual_pet.pipeline import run_virtual_pet

    j, i = np.mgrid[0:32, 0:32]
    body = ((j - 16) / 13.0) ** 2 + ((i - 16) / 11.0) ** 2 < 1.0  # an elliptic body of soft tissue in air
    hu = np.where(body, 40.0, -1000.0)[None].repeat(5, axis=0) + np.random.default_rng(1).normal(0, 30, (5, 32, 32))
    ct = write_volume(Volume(hu.astype(np.float32), spacing=(1.5, 1.5, 3.0), origin=(10.0, -20.0, 30.0),
                             modality="CT", units="HU"), tmp_path / "ct.nrrd")
    model = save_tiny_virtual_pet(tmp_path)
    summary = summary_of(run_script("virtual_pet.py", ct, "--model", model, "--device", "cpu", "--threshold", 1.0,
                                    "-o", tmp_path / "out"))
    direct = run_virtual_pet(ct, tmp_path / "direct", model=str(model), device="cpu", threshold_suv=1.0,
                             pictures=False, write_fcn_gan=False)
    virtual = read_volume(summary["files"]["virtual_pet"])
    np.testing.assert_allclose(virtual.array, read_volume(direct["files"]["virtual_pet"]).array, atol=1e-4)
    assert virtual.same_grid(read_volume(ct))
    lesions = json.loads(Path(summary["files"]["lesions"]).read_text())
    regions = ndimage.label(virtual.array > 1.0, structure=np.ones((3, 3, 3)))[1]
    assert regions == len(lesions) == summary["lesions"] == direct["lesions"]
