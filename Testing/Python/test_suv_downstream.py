"""Downstream of a DICOM PET everything is SUV (mip, resample, dataset, the Slicer Logic), and resample defaults to
linear interpolation for images, nearest neighbour for label maps.

Expected SUVs are computed here from the real PET's tags and stored pixels with pydicom and the SUVbw formula
SUV = (stored x slope + intercept) x weight [g] / (dose [Bq] x 2^(-t / T1/2)), t = injection -> series time
(DecayCorrection START). Resampling is checked against SimpleITK's own Resample on the same output grid.
"""

from __future__ import annotations

import copy
import csv
import datetime as dt
import json

import numpy as np
import pydicom
import pytest
import SimpleITK as sitk
from conftest import shared_data_path
from pydicom.uid import generate_uid

from MedGANSynthLib.cli.main import main
from MedGANSynthLib.io import read_volume, write_volume
from MedGANSynthLib.volume import Volume

SLOPE_FACTORS = (1.0, 1.5, 0.75, 2.0)  # per-slice rescale slopes of the derived series, times the real one


def _seconds(hhmmss: str) -> float:
    clock = dt.datetime.strptime(hhmmss.split(".")[0], "%H%M%S")
    fraction = float("0." + hhmmss.split(".")[1]) if "." in hhmmss else 0.0
    return clock.hour * 3600 + clock.minute * 60 + clock.second + fraction


def suv_factor(header: pydicom.Dataset, weight_kg: float | None = None) -> float:
    """SUV per Bq/ml from the tags, by hand: body weight in g over the dose decayed to the series time."""
    drug = header.RadiopharmaceuticalInformationSequence[0]
    uptake_s = _seconds(str(header.SeriesTime)) - _seconds(str(drug.RadiopharmaceuticalStartTime))
    decayed = float(drug.RadionuclideTotalDose) * 2.0 ** (-uptake_s / float(drug.RadionuclideHalfLife))
    return (weight_kg or float(header.PatientWeight)) * 1000.0 / decayed


def bqml(header: pydicom.Dataset) -> np.ndarray:
    return header.pixel_array.astype(np.float64) * float(header.RescaleSlope) + float(header.RescaleIntercept)


@pytest.fixture(scope="module")
def real_pet_header():
    return pydicom.dcmread(shared_data_path("pet-dicom-flt-breast", "1.dcm"))


@pytest.fixture(scope="module")
def four_slice_pet(tmp_path_factory, real_pet_header):
    """The real PET slice as a 4-slice series (5 mm apart, as its SliceThickness), each slice with its own rescale
    slope, so that a coronal MIP has something to project. Returns the folder and the expected SUV (k, j, i)."""
    folder = tmp_path_factory.mktemp("pet4")
    series_uid = generate_uid()
    expected = []
    for n, factor in enumerate(SLOPE_FACTORS):
        header = copy.deepcopy(real_pet_header)
        header.SOPInstanceUID = header.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        header.SeriesInstanceUID = series_uid
        header.InstanceNumber = n + 1
        x, y, z = (float(v) for v in real_pet_header.ImagePositionPatient)
        header.ImagePositionPatient = [x, y, z + 5.0 * n]
        header.RescaleSlope = f"{float(real_pet_header.RescaleSlope) * factor:.6g}"
        header.save_as(folder / f"slice{n}.dcm")
        expected.append(bqml(header) * suv_factor(header))
    return folder, np.stack(expected)


def test_axial_mip_of_the_real_dicom_pet_is_in_suv(tmp_path, real_pet_header):
    out = tmp_path / "mip.nrrd"
    assert main(["mip", str(shared_data_path("pet-dicom-flt-breast", "1.dcm")), "-o", str(out), "--axis", "axial",
                 "--json"]) == 0
    projection = read_volume(out)
    assert projection.units == "SUV"
    expected = bqml(real_pet_header) * suv_factor(real_pet_header)
    np.testing.assert_allclose(projection.array[0], expected, rtol=1e-5, atol=1e-6)
    assert 1.0 < expected.max() < 20.0  # an FLT scan in SUV, not Bq/ml (thousands)


def test_coronal_mip_of_a_dicom_pet_series_is_the_suv_maximum(tmp_path, four_slice_pet):
    folder, expected_suv = four_slice_pet
    out, png = tmp_path / "mip.nrrd", tmp_path / "mip.png"
    assert main(["mip", str(folder), "-o", str(out), "--png", str(png)]) == 0
    projection = read_volume(out)
    # Rows (j) run to posterior (ImageOrientationPatient 1,0,0,0,1,0): the coronal MIP is the maximum over j.
    np.testing.assert_allclose(projection.array[:, 0, :], expected_suv.max(axis=1), rtol=1e-5, atol=1e-6)
    assert projection.units == "SUV" and png.exists()


def test_a_missing_weight_is_named_with_its_flag_and_the_flag_fixes_it(tmp_path, real_pet_header, capsys):
    header = copy.deepcopy(real_pet_header)
    del header.PatientWeight
    folder = tmp_path / "pet"
    folder.mkdir()
    header.save_as(folder / "1.dcm")
    out = tmp_path / "mip.nrrd"
    assert main(["mip", str(folder), "-o", str(out), "--axis", "axial"]) == 2
    assert "--weight-kg" in capsys.readouterr().err and not out.exists()
    assert main(["mip", str(folder), "-o", str(out), "--axis", "axial", "--weight-kg", "80"]) == 0
    expected = bqml(real_pet_header) * suv_factor(real_pet_header, weight_kg=80.0)
    np.testing.assert_allclose(read_volume(out).array[0], expected, rtol=1e-5, atol=1e-6)


@pytest.fixture
def bqml_nifti(tmp_path, four_slice_pet):
    """The derived series in Bq/ml written as NIfTI: no modality, no units, no SUV headers."""
    folder, expected_suv = four_slice_pet
    activity = read_volume(folder)
    assert activity.units == "BQML"
    return write_volume(Volume(activity.array, activity.spacing, activity.origin), tmp_path / "pet.nii.gz")


def test_a_bqml_file_is_refused_for_mip_unless_the_units_are_acknowledged(tmp_path, bqml_nifti, capsys):
    out = tmp_path / "mip.nrrd"
    assert main(["mip", str(bqml_nifti), "-o", str(out)]) == 2
    error = capsys.readouterr().err
    assert "--units bqml" in error and "--weight-kg" in error and not out.exists()
    assert main(["mip", str(bqml_nifti), "-o", str(out), "--units", "bqml", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["units"] == "BQML"
    projection = read_volume(out)
    assert projection.units == "BQML"
    np.testing.assert_array_equal(projection.array[:, 0, :], read_volume(bqml_nifti).array.max(axis=1))


def test_a_bqml_file_with_the_suv_options_is_projected_in_suv(tmp_path, bqml_nifti):
    out = tmp_path / "mip.nrrd"
    assert main(["mip", str(bqml_nifti), "-o", str(out), "--weight-kg", "70", "--dose-mbq", "200",
                 "--injection-time", "10:00:00", "--scan-time", "11:00:00", "--half-life-s", "6586.2"]) == 0
    factor = 70_000.0 / (200e6 * 2.0 ** (-3600.0 / 6586.2))
    expected = read_volume(bqml_nifti).array.astype(np.float64).max(axis=1) * factor
    np.testing.assert_allclose(read_volume(out).array[:, 0, :], expected, rtol=1e-5)


def test_resample_of_a_dicom_pet_is_in_suv(tmp_path, four_slice_pet):
    folder, expected_suv = four_slice_pet
    out = tmp_path / "pet_2mm.nrrd"
    assert main(["resample", str(folder), "-o", str(out), "--spacing", "4", "--interpolation", "nearest"]) == 0
    result = read_volume(out)
    assert result.units == "SUV"
    # Nearest neighbour picks voxels of the SUV volume: every value is one of the expected SUVs.
    values = np.unique(expected_suv.astype(np.float32))
    above = np.clip(np.searchsorted(values, result.array.ravel()), 1, values.size - 1)
    closest = np.where(np.abs(values[above] - result.array.ravel()) < np.abs(values[above - 1] - result.array.ravel()),
                       values[above], values[above - 1])
    np.testing.assert_allclose(result.array.ravel(), closest, rtol=1e-5, atol=1e-6)


def _sitk_reference(source: Volume, grid: Volume, interpolator: int) -> np.ndarray:
    """SimpleITK's own resampling of ``source`` onto ``grid`` (independent of MedGANSynth's wrapper)."""
    image = sitk.GetImageFromArray(source.array.astype(np.float32))
    image.SetSpacing(source.spacing)
    image.SetOrigin(source.origin)
    image.SetDirection(tuple(np.asarray(source.direction).ravel()))
    reference = sitk.Image([int(n) for n in grid.size], sitk.sitkFloat32)
    reference.SetSpacing(grid.spacing)
    reference.SetOrigin(grid.origin)
    reference.SetDirection(tuple(np.asarray(grid.direction).ravel()))
    return sitk.GetArrayFromImage(sitk.Resample(image, reference, sitk.Transform(), interpolator, 0.0))


def test_resample_defaults_to_linear_for_a_real_ct(tmp_path, capsys):
    ct_file = shared_data_path("ct-nifti", "example_ct_sm.nii.gz")
    ct = read_volume(ct_file)
    assert ct.array.dtype.kind == "i" and np.unique(ct.array).size > 1000  # an image, not a label map
    default, nearest = tmp_path / "default.nrrd", tmp_path / "nearest.nrrd"
    assert main(["resample", str(ct_file), "-o", str(default), "--spacing", "2", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["interpolation"] == "linear"
    assert main(["resample", str(ct_file), "-o", str(nearest), "--spacing", "2", "--interpolation", "nearest"]) == 0
    linear_result, nearest_result = read_volume(default), read_volume(nearest)
    np.testing.assert_allclose(linear_result.array, _sitk_reference(ct, linear_result, sitk.sitkLinear), atol=1e-3)
    # Linear gives values between the HU integers of the CT; nearest only copies them.
    assert np.mean(linear_result.array != np.round(linear_result.array)) > 0.5
    assert set(np.unique(nearest_result.array)) <= set(np.unique(ct.array))


def test_resample_keeps_label_maps_nearest(tmp_path):
    """A label map derived from the real CT (0 air, 1 soft tissue, 2 bone) stays three labels; with --label a float
    label file does too. Nothing new is invented at the boundaries."""
    ct = read_volume(shared_data_path("ct-nifti", "example_ct_sm.nii.gz"))
    labels = np.digitize(ct.array, [-500, 200]).astype(np.uint8)
    integer_file = write_volume(ct.with_array(labels), tmp_path / "labels.nii.gz")
    float_file = write_volume(ct.with_array(labels.astype(np.float32)), tmp_path / "labels_float.nii.gz")
    for source, extra in ((integer_file, []), (float_file, ["--label"])):
        out = tmp_path / f"out_{source.name}.nrrd"
        assert main(["resample", str(source), "-o", str(out), "--spacing", "2", *extra]) == 0
        assert set(np.unique(read_volume(out).array)) == {0, 1, 2}
    out = tmp_path / "float_default.nrrd"
    assert main(["resample", str(float_file), "-o", str(out), "--spacing", "2"]) == 0
    assert len(np.unique(read_volume(out).array)) > 3  # without --label a float image is interpolated


def test_dataset_from_a_dicom_pet_trains_on_its_suv(tmp_path, four_slice_pet):
    folder, expected_suv = four_slice_pet
    labels = tmp_path / "labels.csv"
    labels.write_text(f"file,label\n{folder},normal\n{folder},lung\n")
    out = tmp_path / "data"
    assert main(["dataset", "mip", "--labels", str(labels), "-o", str(out), "--heldout-fraction", "0.5"]) == 0
    rows = list(csv.DictReader(open(out / "train" / "labels.csv")))
    training_mip = read_volume(out / "train" / rows[0]["file"])
    # RadioGAN preprocessing keeps SUV values (nearest resampling, padding with 0): its maximum is the PET's.
    assert float(training_mip.array.max()) == pytest.approx(float(expected_suv.max()), rel=1e-5)
