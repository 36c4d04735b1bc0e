"""Every bad PET/DICOM input gives its own one-line InputError. Bad files are real DICOM copies edited with pydicom."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest
from conftest import shared_data_path

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.io import write_volume
from MedGANSynthLib.io.dicom_series import read_dicom_series
from MedGANSynthLib.pet.suv import load_pet_as_suv
from MedGANSynthLib.volume import Volume


@pytest.fixture(scope="module")
def pet_file():
    return shared_data_path("pet-dicom-flt-breast", "1.dcm")


def _write_series(folder, pet_file, heights, edit=None):
    """A multi-slice series made of copies of the real slice at the given heights (mm), same SeriesInstanceUID."""
    folder.mkdir(exist_ok=True)
    for number, height in enumerate(heights):
        dataset = pydicom.dcmread(pet_file)
        dataset.ImagePositionPatient = [dataset.ImagePositionPatient[0], dataset.ImagePositionPatient[1], height]
        dataset.SOPInstanceUID = pydicom.uid.generate_uid()
        if edit:
            edit(dataset, number)
        dataset.save_as(folder / f"{number}.dcm")
    return folder


def _edited_file(tmp_path, pet_file, edit):
    dataset = pydicom.dcmread(pet_file)
    edit(dataset)
    target = tmp_path / "pet.dcm"
    dataset.save_as(target)
    return target


def _refused(match: str, function, *args, **kwargs) -> str:
    with pytest.raises(InputError, match=match) as caught:
        function(*args, **kwargs)
    message = str(caught.value)
    assert "\n" not in message and len(message) < 300
    return message


def _drug(dataset):
    return dataset.RadiopharmaceuticalInformationSequence[0]


# --- folders and files ---------------------------------------------------------------------------------


def test_empty_folder(tmp_path):
    _refused(r"holds no DICOM image files \(0 file", read_dicom_series, tmp_path)


def test_folder_with_only_non_dicom_files(tmp_path):
    (tmp_path / "README").write_text("not an image")
    (tmp_path / "DICOMDIR.txt").write_bytes(b"\0" * 400)
    _refused(r"holds no DICOM image files \(2 file", load_pet_as_suv, tmp_path)


def test_path_that_does_not_exist(tmp_path):
    _refused("does not exist", load_pet_as_suv, tmp_path / "missing")


def test_mixed_series(tmp_path, pet_file):
    """Two PET series in one folder: no guess; the message lists both and says how to choose."""
    def other_series(dataset, number):
        if number == 2:
            dataset.SeriesInstanceUID = pydicom.uid.generate_uid()

    folder = _write_series(tmp_path / "s", pet_file, [0.0, 5.0, 10.0], other_series)
    with pytest.raises(InputError, match="holds 2 PT series; choose one with --series") as caught:
        load_pet_as_suv(folder)
    assert "\n" not in str(caught.value) and str(caught.value).count(" UID 1.") == 2


def test_slices_missing_more_than_one_in_a_row(tmp_path, pet_file):
    """A 15 mm gap in 5 mm slices (two slices missing) would be invented by interpolation: refused, positions named."""
    folder = _write_series(tmp_path / "s", pet_file, [0.0, 5.0, 10.0, 25.0])
    _refused(r"missing slice positions 15.00, 20.00 mm", read_dicom_series, folder)


def test_two_images_at_one_position(tmp_path, pet_file):
    folder = _write_series(tmp_path / "s", pet_file, [0.0, 5.0, 5.0])
    _refused("several images at the same slice position", read_dicom_series, folder)


def test_inconsistent_image_sizes(tmp_path, pet_file):
    def shrink(dataset, number):
        if number == 1:
            pixels = dataset.pixel_array[:100, :120].copy()
            dataset.Rows, dataset.Columns = pixels.shape
            dataset.PixelData = pixels.tobytes()

    folder = _write_series(tmp_path / "s", pet_file, [0.0, 5.0], shrink)
    _refused(r"different sizes \(0.dcm is 168x168, 1.dcm is 120x100\)", read_dicom_series, folder)


def test_pixel_data_cut_short(tmp_path, pet_file):
    data = pet_file.read_bytes()
    (tmp_path / "cut.dcm").write_bytes(data[: len(data) // 2])
    _refused(r"'cut.dcm' pixel data cannot be decoded \(Explicit VR Little Endian", load_pet_as_suv,
             tmp_path / "cut.dcm")


def test_file_cut_inside_the_header(tmp_path, pet_file):
    """Cut before the pixel data: still a PET image file by its SOP class, so it is refused, not skipped."""
    folder = _write_series(tmp_path / "s", pet_file, [0.0, 5.0])
    (folder / "1.dcm").write_bytes((folder / "1.dcm").read_bytes()[:1000])
    _refused("'1.dcm' is an image DICOM file without its pixel data", read_dicom_series, folder)


def test_slice_without_position(tmp_path, pet_file):
    path = _edited_file(tmp_path, pet_file, lambda ds: delattr(ds, "ImagePositionPatient"))
    _refused("has no ImagePositionPatient", read_dicom_series, path)


def test_ct_given_as_pet():
    _refused("is a CT series, not a PET series", load_pet_as_suv, shared_data_path("ct-dicom-thorax"))


# --- SUV tags ------------------------------------------------------------------------------------------


def test_missing_patient_weight(tmp_path, pet_file):
    path = _edited_file(tmp_path, pet_file, lambda ds: delattr(ds, "PatientWeight"))
    _refused("The PET has no PatientWeight; pass the patient's weight with --weight-kg", load_pet_as_suv, path)
    assert load_pet_as_suv(path, weight_kg=70).metadata["suv"]["overrides"] == ["weight_kg"]


@pytest.mark.parametrize("weight", ["0", "-65"])
def test_zero_or_negative_weight(tmp_path, pet_file, weight):
    def edit(ds):
        ds.PatientWeight = weight

    path = _edited_file(tmp_path, pet_file, edit)
    _refused(f"patient weight is {float(weight)} kg; it must be above zero.*--weight-kg", load_pet_as_suv, path)


def test_weight_in_grams(tmp_path, pet_file):
    def edit(ds):
        ds.PatientWeight = "69734"

    _refused("69734 kg is implausible", load_pet_as_suv, _edited_file(tmp_path, pet_file, edit))


def test_dose_zero(tmp_path, pet_file):
    def edit(ds):
        _drug(ds).RadionuclideTotalDose = "0"

    _refused("injected dose is 0.0 MBq.*--dose-mbq", load_pet_as_suv, _edited_file(tmp_path, pet_file, edit))


def test_dose_override_zero(pet_file):
    _refused("injected dose is 0.0 MBq", load_pet_as_suv, pet_file, dose_mbq=0.0)


def test_missing_dose(tmp_path, pet_file):
    path = _edited_file(tmp_path, pet_file, lambda ds: delattr(_drug(ds), "RadionuclideTotalDose"))
    _refused("no RadionuclideTotalDose; pass the injected activity with --dose-mbq", load_pet_as_suv, path)


def test_missing_half_life_and_radionuclide_code(tmp_path, pet_file):
    def edit(ds):
        del _drug(ds).RadionuclideHalfLife
        del _drug(ds).RadionuclideCodeSequence

    path = _edited_file(tmp_path, pet_file, edit)
    _refused("no RadionuclideHalfLife and no known RadionuclideCodeSequence; pass it with --half-life-s",
             load_pet_as_suv, path)


def test_missing_half_life_with_a_radionuclide_not_tabled(tmp_path, pet_file):
    """Tc-99m (SNOMED-RT C-163A8) is no PET radionuclide: no half-life is guessed for it."""
    def edit(ds):
        del _drug(ds).RadionuclideHalfLife
        code = _drug(ds).RadionuclideCodeSequence[0]
        code.CodeValue, code.CodeMeaning = "C-163A8", "^99m^Technetium"

    _refused("no known RadionuclideCodeSequence", load_pet_as_suv, _edited_file(tmp_path, pet_file, edit))


def test_missing_injection_time(tmp_path, pet_file):
    path = _edited_file(tmp_path, pet_file, lambda ds: delattr(_drug(ds), "RadiopharmaceuticalStartTime"))
    _refused("no RadiopharmaceuticalStartTime.*--injection-time", load_pet_as_suv, path)


def test_injection_after_scan_with_dates(tmp_path, pet_file):
    def edit(ds):
        _drug(ds).RadiopharmaceuticalStartDateTime = "19600614160000"

    path = _edited_file(tmp_path, pet_file, edit)
    _refused("injection time 1960-06-14T16:00:00 is after the scan time 1960-06-14T15:23:16", load_pet_as_suv, path)


def test_injection_after_scan_clock_times_only(pet_file):
    """15:23 scan, 16:00 injection without dates: a 23-hour midnight roll-over is not believed."""
    _refused("injection time 16:00:00 is after the scan time", load_pet_as_suv, pet_file, injection_time="160000")


def test_counts_units_refused(tmp_path, pet_file):
    def edit(ds):
        ds.Units = "CNTS"

    message = _refused("PET Units are 'CNTS'", load_pet_as_suv, _edited_file(tmp_path, pet_file, edit))
    assert "BQML" in message


def test_missing_units_refused(tmp_path, pet_file):
    path = _edited_file(tmp_path, pet_file, lambda ds: delattr(ds, "Units"))
    _refused("PET Units are 'missing'", load_pet_as_suv, path)


def test_no_decay_correction_without_frame_reference_time_refused(tmp_path, pet_file):
    def edit(ds):
        ds.DecayCorrection = "NONE"
        del ds.FrameReferenceTime

    _refused("DecayCorrection NONE but 'pet.dcm' has no FrameReferenceTime", load_pet_as_suv,
             _edited_file(tmp_path, pet_file, edit))


def test_no_decay_correction_without_series_time_refused(tmp_path, pet_file):
    def edit(ds):
        ds.DecayCorrection = "NONE"
        del ds.SeriesTime

    _refused("DecayCorrection NONE but no SeriesTime.*--scan-time", load_pet_as_suv,
             _edited_file(tmp_path, pet_file, edit))


def test_unknown_decay_correction_refused(tmp_path, pet_file):
    def edit(ds):
        ds.DecayCorrection = "ALIGNED"

    _refused("DecayCorrection is 'ALIGNED'; only START, ADMIN or NONE", load_pet_as_suv,
             _edited_file(tmp_path, pet_file, edit))


def test_unreadable_time_override(pet_file):
    _refused("'25:61' is not a valid time of day", load_pet_as_suv, pet_file, scan_time="25:61")
    _refused("'noon' is not a time of day", load_pet_as_suv, pet_file, injection_time="noon")


# --- NIfTI / NRRD ---------------------------------------------------------------------------------------


def test_nifti_in_bqml_without_parameters(tmp_path):
    path = write_volume(Volume(np.ones((2, 3, 4), dtype=np.float32)), tmp_path / "pet.nii.gz")
    message = _refused("'pet.nii.gz' holds no SUV parameters", load_pet_as_suv, path)
    assert all(flag in message for flag in ("--weight-kg", "--dose-mbq", "--injection-time", "--half-life-s"))


def test_nifti_with_some_parameters_lists_the_missing_ones(tmp_path):
    path = write_volume(Volume(np.ones((2, 3, 4), dtype=np.float32)), tmp_path / "pet.nii.gz")
    message = _refused("pass --scan-time, --half-life-s", load_pet_as_suv, path, 70, 300, "100000")
    assert "--weight-kg" not in message


def test_readme_in_series_folder_is_skipped_not_refused(tmp_path, pet_file):
    folder = _write_series(tmp_path / "s", pet_file, [0.0, 5.0])
    (folder / "README.txt").write_text("PACS export")
    assert load_pet_as_suv(folder).array.shape == (2, 168, 168)


def test_folder_with_only_image_less_dicom(tmp_path, pet_file):
    """A structured report (DICOM, no pixels, non-image SOP class) is skipped like a DICOMDIR; nothing is left."""
    dataset = pydicom.dcmread(pet_file)
    for keyword in ("PixelData", "Rows", "Columns"):
        delattr(dataset, keyword)
    dataset.SOPClassUID = dataset.file_meta.MediaStorageSOPClassUID = pydicom.uid.BasicTextSRStorage
    dataset.save_as(tmp_path / "report.dcm")
    _refused(r"holds no DICOM image files \(1 file", read_dicom_series, tmp_path)
