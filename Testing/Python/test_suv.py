"""SUVbw against hand arithmetic on real FLT PET headers, overrides, decay-reference choices and round trips."""

from __future__ import annotations

import shutil
from datetime import datetime

import numpy as np
import pydicom
import pytest
from conftest import shared_data_path

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.io import write_volume
from MedGANSynthLib.pet.suv import SuvParameters, bqml_to_suv, load_pet_as_suv, suv_to_bqml
from MedGANSynthLib.pet.timestamps import Timestamp
from MedGANSynthLib.phantoms.dicom_write import write_dicom_series
from MedGANSynthLib.volume import Volume

F18_HALF_LIFE_S = 6586.2  # 109.77 min


def _seconds_of_day(tm: str) -> float:
    """Own arithmetic for a DICOM TM HHMMSS.ffffff."""
    return int(tm[:2]) * 3600 + int(tm[2:4]) * 60 + float(tm[4:])


def _hand_suv(dataset, scan_tm: str, injection_tm: str | None = None, weight_kg=None, dose_bq=None) -> np.ndarray:
    drug = dataset.RadiopharmaceuticalInformationSequence[0]
    injection_tm = injection_tm or drug.RadiopharmaceuticalStartTime
    delay = _seconds_of_day(scan_tm) - _seconds_of_day(injection_tm)
    if delay < 0:
        delay += 86400
    weight_g = (weight_kg or float(dataset.PatientWeight)) * 1000
    dose = dose_bq or float(drug.RadionuclideTotalDose)
    decayed = dose * 2 ** (-delay / float(drug.RadionuclideHalfLife))
    activity = dataset.pixel_array.astype(np.float64) * float(dataset.RescaleSlope) + float(dataset.RescaleIntercept)
    return activity * weight_g / decayed


@pytest.mark.parametrize("name", ["1.dcm", "2.dcm"])
def test_real_flt_suv_equals_hand_arithmetic(name):
    path = shared_data_path("pet-dicom-flt-breast", name)
    dataset = pydicom.dcmread(path)
    assert (dataset.Units, dataset.DecayCorrection) == ("BQML", "START")
    expected = _hand_suv(dataset, dataset.SeriesTime)
    suv = load_pet_as_suv(path)
    assert suv.units == "SUV" and suv.modality == "PT"
    np.testing.assert_allclose(suv.array[0], expected, rtol=1e-5, atol=1e-7)
    assert 1.0 < expected.max() < 20  # an FLT uptake range, not a unit slip by 1000


def test_dynamic_frame_uses_series_start_not_frame_time():
    """2.dcm is a frame acquired ~16 min after a series that starts at injection; DecayCorrection START refers to
    the series start, so almost no decay applies (the frame's own AcquisitionTime would give ~10 %)."""
    path = shared_data_path("pet-dicom-flt-breast", "2.dcm")
    dataset = pydicom.dcmread(path)
    suv = load_pet_as_suv(path)
    assert suv.metadata["suv"]["uptake_s"] == pytest.approx(
        _seconds_of_day(dataset.SeriesTime) - _seconds_of_day(dataset.RadiopharmaceuticalInformationSequence[0]
                                                                .RadiopharmaceuticalStartTime), abs=1e-6
    )
    wrong = _hand_suv(dataset, dataset.AcquisitionTime)
    assert not np.allclose(suv.array[0], wrong, rtol=0.05)


def test_overrides_win_over_tags_and_are_recorded():
    path = shared_data_path("pet-dicom-flt-breast", "1.dcm")
    dataset = pydicom.dcmread(path)
    suv = load_pet_as_suv(path, weight_kg=60.0, dose_mbq=200.0, injection_time="14:30:00", scan_time="153000")
    expected = _hand_suv(dataset, "153000", injection_tm="143000", weight_kg=60.0, dose_bq=200e6)
    np.testing.assert_allclose(suv.array[0], expected, rtol=1e-5, atol=1e-7)
    recorded = suv.metadata["suv"]
    assert set(recorded["overrides"]) == {"weight_kg", "dose_mbq", "injection_time", "scan_time"}
    assert recorded["weight_kg"] == 60.0 and recorded["uptake_s"] == 3600.0


def _edited_copy(tmp_path, edit, name="1.dcm"):
    dataset = pydicom.dcmread(shared_data_path("pet-dicom-flt-breast", name))
    edit(dataset)
    target = tmp_path / "pet.dcm"
    dataset.save_as(target)
    return target, pydicom.dcmread(target)


def test_injection_before_midnight_scan_after(tmp_path):
    def edit(ds):
        ds.RadiopharmaceuticalInformationSequence[0].RadiopharmaceuticalStartTime = "233000"
        ds.SeriesTime = ds.AcquisitionTime = "003000"

    path, dataset = _edited_copy(tmp_path, edit)
    suv = load_pet_as_suv(path)
    assert suv.metadata["suv"]["uptake_s"] == 3600.0
    np.testing.assert_allclose(suv.array[0], _hand_suv(dataset, "003000"), rtol=1e-5)


def test_start_date_time_is_used_when_present(tmp_path):
    """With dates on both sides the difference is taken as is: two days before the series, 48 h of decay."""
    def edit(ds):
        ds.RadiopharmaceuticalInformationSequence[0].RadiopharmaceuticalStartDateTime = "19600612152316.921"

    path, _ = _edited_copy(tmp_path, edit)
    assert load_pet_as_suv(path).metadata["suv"]["uptake_s"] == pytest.approx(2 * 86400)


def test_admin_decay_correction_has_no_decay_factor(tmp_path):
    def edit(ds):
        ds.DecayCorrection = "ADMIN"

    path, dataset = _edited_copy(tmp_path, edit)
    expected = _hand_suv(dataset, dataset.RadiopharmaceuticalInformationSequence[0].RadiopharmaceuticalStartTime)
    np.testing.assert_allclose(load_pet_as_suv(path).array[0], expected, rtol=1e-5)


def test_gml_units_are_already_suv(tmp_path):
    def edit(ds):
        ds.Units = "GML"
        ds.RescaleSlope = "0.001"
        ds.RescaleIntercept = "0.5"

    path, dataset = _edited_copy(tmp_path, edit)
    suv = load_pet_as_suv(path)
    assert suv.units == "SUV"
    np.testing.assert_allclose(suv.array[0], dataset.pixel_array * 0.001 + 0.5, rtol=1e-6)


def test_series_time_later_than_acquisition_falls_back_to_earliest_acquisition(tmp_path):
    """A re-stamped (post-processed) series: SeriesTime after the acquisition; the acquisition start is used."""
    source = shared_data_path("pet-dicom-flt-breast", "1.dcm")
    acquisition_times = ["150000", "150500"]
    for number, tm in enumerate(acquisition_times):
        dataset = pydicom.dcmread(source)
        dataset.SeriesTime = "170000"
        dataset.AcquisitionTime = tm
        dataset.ImagePositionPatient = [dataset.ImagePositionPatient[0], dataset.ImagePositionPatient[1],
                                        -278.5 + 5 * number]
        dataset.SOPInstanceUID = pydicom.uid.generate_uid()
        dataset.save_as(tmp_path / f"{number}.dcm")
    suv = load_pet_as_suv(tmp_path)
    assert suv.metadata["suv"]["uptake_s"] == _seconds_of_day("150000") - _seconds_of_day("141700")


def test_rescale_slope_and_intercept_applied_per_slice(tmp_path):
    source = shared_data_path("pet-dicom-flt-breast", "1.dcm")
    slopes, intercepts = [9.12329, 3.5, 20.0], [0.0, 12.0, -4.0]
    datasets = []
    for number, (slope, intercept) in enumerate(zip(slopes, intercepts, strict=True)):
        dataset = pydicom.dcmread(source)
        dataset.RescaleSlope, dataset.RescaleIntercept = str(slope), str(intercept)
        dataset.ImagePositionPatient = [dataset.ImagePositionPatient[0], dataset.ImagePositionPatient[1],
                                        -300.0 + 5 * number]
        dataset.SOPInstanceUID = pydicom.uid.generate_uid()
        dataset.save_as(tmp_path / f"{9 - number}.dcm")  # names sort opposite to position
        datasets.append(dataset)
    suv = load_pet_as_suv(tmp_path)
    for k, dataset in enumerate(datasets):
        np.testing.assert_allclose(suv.array[k], _hand_suv(dataset, dataset.SeriesTime), rtol=1e-5, atol=1e-7)
    assert suv.spacing[2] == pytest.approx(5.0)


def _parameters(**changes) -> SuvParameters:
    values = dict(
        weight_kg=81.0,
        dose_bq=370e6,
        injection_time=Timestamp(datetime(2024, 5, 2, 9, 0, 0), True),
        scan_time=Timestamp(datetime(2024, 5, 2, 10, 0, 0), True),
        half_life_s=F18_HALF_LIFE_S,
    )
    values.update(changes)
    return SuvParameters(**values)


def test_scale_is_weight_over_decayed_dose():
    parameters = _parameters()
    assert parameters.scale == pytest.approx(81000 / (370e6 * 2 ** (-3600 / 6586.2)), rel=1e-12)
    volume = Volume(np.full((1, 2, 2), 1000.0), modality="PT", units="BQML")
    assert bqml_to_suv(volume, parameters).array[0, 0, 0] == pytest.approx(1000 * parameters.scale)


def test_suv_to_bqml_is_the_exact_inverse(rng):
    parameters = _parameters()
    suv = Volume(rng.gamma(2, 1.5, size=(3, 4, 5)), modality="PT", units="SUV")
    back = bqml_to_suv(suv_to_bqml(suv, parameters), parameters)
    np.testing.assert_allclose(back.array, suv.array, rtol=1e-14)
    assert back.units == "SUV"


def test_synthetic_pet_round_trip_through_dicom(tmp_path, rng, oblique_volume):
    """SUV -> Bq/ml -> DICOM (per-slice int16 slope) -> read -> SUV equals the original within quantisation."""
    suv = rng.gamma(2.0, 1.0, size=oblique_volume.array.shape)
    suv[3] *= 15  # one hot slice; the others keep fine quantisation thanks to their own slopes
    original = oblique_volume.with_array(suv.astype(np.float32), modality="PT", units="SUV")
    parameters = _parameters()
    folder = write_dicom_series(original, tmp_path / "pet", suv_parameters=parameters)
    back = load_pet_as_suv(folder)
    assert back.same_grid(original, tolerance_mm=1e-6)
    np.testing.assert_allclose(back.direction, original.direction, atol=1e-12)
    for k in range(suv.shape[0]):
        step = np.abs(suv[k]).max() / 32767  # one quantisation step of this slice in SUV
        assert np.abs(back.array[k] - original.array[k]).max() <= 0.5 * step * 1.001 + 1e-6
    assert np.abs(back.array[0] - original.array[0]).max() < 1e-3
    assert back.metadata["suv"]["uptake_s"] == 3600.0


def test_round_trip_with_clock_times_only_across_midnight(tmp_path, rng):
    parameters = _parameters(
        injection_time=Timestamp(datetime(2000, 1, 1, 23, 40), False),
        scan_time=Timestamp(datetime(2000, 1, 1, 0, 40), False),
    )
    original = Volume(rng.gamma(2.0, 1.0, size=(2, 5, 5)).astype(np.float32), modality="PT", units="SUV")
    back = load_pet_as_suv(write_dicom_series(original, tmp_path / "pet", suv_parameters=parameters))
    assert back.metadata["suv"]["uptake_s"] == 3600.0
    np.testing.assert_allclose(back.array, original.array, atol=original.array.max() / 32767)


def test_nifti_in_bqml_with_given_parameters(tmp_path, rng):
    activity = rng.gamma(2.0, 4000.0, size=(3, 4, 5)).astype(np.float32)
    path = write_volume(Volume(activity, spacing=(2, 2, 3)), tmp_path / "pet.nii.gz")
    suv = load_pet_as_suv(
        path, weight_kg=70, dose_mbq=300, injection_time="2024-01-01T10:00:00", scan_time="2024-01-01T11:00:00",
        half_life_s=F18_HALF_LIFE_S,
    )
    expected = activity.astype(np.float64) * 70000 / (300e6 * 2 ** (-3600 / F18_HALF_LIFE_S))
    np.testing.assert_allclose(suv.array, expected, rtol=1e-6)
    assert (suv.units, suv.modality) == ("SUV", "PT")


def test_a_default_half_life_stands_in_only_where_the_caller_allows_it(tmp_path, rng):
    """The Slicer panel lets an empty half-life mean F-18; the command line asks for --half-life-s."""
    from MedGANSynthLib.pet.suv import DEFAULT_HALF_LIFE_S

    activity = rng.gamma(2.0, 4000.0, size=(3, 4, 5)).astype(np.float32)
    path = write_volume(Volume(activity, spacing=(2, 2, 3)), tmp_path / "pet.nrrd")
    values = dict(weight_kg=70, dose_mbq=300, injection_time="10:00:00", scan_time="11:00:00")
    with pytest.raises(InputError, match="--half-life-s"):
        load_pet_as_suv(path, **values)
    expected = activity.astype(np.float64) * 70000 / (300e6 * 2 ** (-3600 / F18_HALF_LIFE_S))
    for typed in (None, 0.0):
        suv = load_pet_as_suv(path, **values, half_life_s=typed, default_half_life_s=DEFAULT_HALF_LIFE_S)
        np.testing.assert_allclose(suv.array, expected, rtol=1e-6)
        assert suv.metadata["suv"]["half_life_s"] == F18_HALF_LIFE_S
    given = load_pet_as_suv(path, **values, half_life_s=1223.4, default_half_life_s=DEFAULT_HALF_LIFE_S)  # C-11
    assert given.metadata["suv"]["half_life_s"] == 1223.4 and "half_life_s" in given.metadata["suv"]["overrides"]


def test_nrrd_already_in_suv_is_returned_as_is(tmp_path, rng):
    suv = Volume(rng.gamma(2.0, 1.0, size=(2, 3, 4)).astype(np.float32), modality="PT", units="SUV")
    back = load_pet_as_suv(write_volume(suv, tmp_path / "suv.nrrd"))
    np.testing.assert_array_equal(back.array, suv.array)


def test_copy_of_real_file_in_folder_reads_like_the_file(tmp_path):
    source = shared_data_path("pet-dicom-flt-breast", "2.dcm")
    shutil.copy(source, tmp_path / "x")  # no suffix: folders are read by content, not by name
    np.testing.assert_array_equal(load_pet_as_suv(tmp_path).array, load_pet_as_suv(source).array)


@pytest.mark.parametrize(
    ("injection", "scan"),
    [("090000", "100000"), ("09:00", "10:00:00.000"), ("090000.000000", "100000"),
     ("2024-05-02T09:00:00", "2024-05-02 10:00:00"), ("2024-05-02T23:30:00", "2024-05-03T00:30:00"),
     ("233000", "003000")],
)
def test_time_formats_give_the_same_uptake(tmp_path, injection, scan):
    path = write_volume(Volume(np.ones((1, 2, 2), dtype=np.float32)), tmp_path / "pet.nii.gz")
    suv = load_pet_as_suv(path, weight_kg=70, dose_mbq=300, injection_time=injection, scan_time=scan,
                          half_life_s=F18_HALF_LIFE_S)
    assert suv.metadata["suv"]["uptake_s"] == 3600.0
