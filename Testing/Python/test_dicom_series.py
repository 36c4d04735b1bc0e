"""DICOM series reading (real CT and PET) and writing (CT and PET round trips with exact geometry)."""

from __future__ import annotations

import shutil
from datetime import datetime

import numpy as np
import pydicom
import pytest
from conftest import shared_data_path

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.io import read_volume
from MedGANSynthLib.io.dicom_series import read_dicom_series
from MedGANSynthLib.pet.suv import SuvParameters
from MedGANSynthLib.pet.timestamps import Timestamp
from MedGANSynthLib.phantoms.dicom_write import write_dicom_series
from MedGANSynthLib.volume import Volume


@pytest.fixture(scope="module")
def ct_folder():
    return shared_data_path("ct-dicom-thorax")


@pytest.fixture(scope="module")
def ct_volume(ct_folder):
    return read_dicom_series(ct_folder)


def _headers_by_height(folder):
    headers = [pydicom.dcmread(p) for p in sorted(folder.iterdir())]
    return sorted(headers, key=lambda h: float(h.ImagePositionPatient[2]))


def test_real_ct_geometry_matches_own_header_arithmetic(ct_folder, ct_volume):
    headers = _headers_by_height(ct_folder)  # axial IOP [1,0,0,0,1,0]: the normal is +z (superior)
    assert [float(v) for v in headers[0].ImageOrientationPatient] == [1, 0, 0, 0, 1, 0]
    assert ct_volume.array.shape == (20, 512, 512)
    np.testing.assert_allclose(ct_volume.spacing, (0.9765625, 0.9765625, 2.0), atol=1e-6)
    # The origin is the most inferior slice, although its file sorts LAST by name.
    np.testing.assert_allclose(ct_volume.origin, [float(v) for v in headers[0].ImagePositionPatient])
    assert ct_volume.origin[2] == -804.5
    np.testing.assert_allclose(ct_volume.direction, np.eye(3))
    assert (ct_volume.modality, ct_volume.units) == ("CT", "HU")


def test_real_ct_slices_in_position_order_with_own_rescale(ct_folder, ct_volume):
    headers = _headers_by_height(ct_folder)
    for k in (0, 7, 19):
        header = headers[k]
        expected = header.pixel_array.astype(np.float64) * float(header.RescaleSlope) + float(header.RescaleIntercept)
        np.testing.assert_array_equal(ct_volume.array[k], expected)


def test_real_ct_hu_are_plausible(ct_volume):
    hu = ct_volume.array
    air = hu[hu < -500]
    counts, edges = np.histogram(air, bins=np.arange(-1100, -500, 25))
    assert -1050 <= edges[np.argmax(counts)] <= -950  # the air peak sits at about -1000 HU
    assert 0.15 < np.mean((hu > -100) & (hu < 100))  # plenty of soft tissue/water (-100..100 HU)
    assert -100 < np.median(hu[10, 240:270, 240:270]) < 100  # the body centre is soft tissue
    assert hu.min() >= -1100 and 1000 < hu.max() < 4000  # dense bone present, no wrapped-around values


def test_file_names_do_not_decide_slice_order(tmp_path, ct_folder, ct_volume):
    files = sorted(ct_folder.iterdir())
    for number, file in enumerate(files):  # reverse the name order and break name/position correspondence
        shutil.copy(file, tmp_path / f"{(7 * number) % len(files):03d}.dcm")
    again = read_dicom_series(tmp_path)
    np.testing.assert_array_equal(again.array, ct_volume.array)
    assert again.origin == ct_volume.origin


def test_read_volume_delegates_folders_and_dcm_files(ct_folder):
    pet_file = shared_data_path("pet-dicom-flt-breast", "1.dcm")
    pet = read_volume(pet_file)
    header = pydicom.dcmread(pet_file)
    assert pet.array.shape == (1, 168, 168)
    np.testing.assert_allclose(pet.spacing, (4.07283, 4.07283, 5.0))  # one slice: SliceThickness is the k spacing
    np.testing.assert_allclose(pet.origin, [float(v) for v in header.ImagePositionPatient])
    assert (pet.modality, pet.units) == ("PT", "BQML")
    assert read_volume(ct_folder).array.shape == (20, 512, 512)


def test_readme_beside_the_images_is_ignored(tmp_path, ct_folder):
    for file in sorted(ct_folder.iterdir())[:3]:
        shutil.copy(file, tmp_path / file.name)
    (tmp_path / "README.txt").write_text("exported by PACS")
    assert read_dicom_series(tmp_path).array.shape == (3, 512, 512)


def test_pixel_spacing_order_row_then_column(tmp_path, ct_folder):
    """PixelSpacing = [between rows (j), between columns (i)]: make them differ and check which is which."""
    for file in sorted(ct_folder.iterdir())[:2]:
        dataset = pydicom.dcmread(file)
        dataset.PixelSpacing = [0.5, 0.8]
        dataset.save_as(tmp_path / file.name)
    volume = read_dicom_series(tmp_path)
    assert volume.spacing[:2] == (0.8, 0.5)


# --- writing --------------------------------------------------------------------------------------------


def test_ct_round_trip_is_exact_with_oblique_geometry(tmp_path, oblique_volume):
    hu = np.rint(oblique_volume.array * 400).astype(np.float32)  # integer HU from -1000s to +1000s
    hu[0, 0, 0], hu[0, 0, 1] = -1024, 3071
    volume = oblique_volume.with_array(hu)
    folder = write_dicom_series(volume, tmp_path / "ct")
    back = read_dicom_series(folder)
    np.testing.assert_array_equal(back.array, hu)
    np.testing.assert_allclose(back.spacing, volume.spacing, atol=1e-9)
    np.testing.assert_allclose(back.origin, volume.origin, atol=1e-9)
    np.testing.assert_allclose(back.direction, volume.direction, atol=1e-12)
    assert (back.modality, back.units) == ("CT", "HU")


def test_written_ct_headers_are_valid_dicom(tmp_path, oblique_volume):
    volume = oblique_volume.with_array(np.zeros((3, 4, 5), dtype=np.float32))
    folder = write_dicom_series(volume, tmp_path / "ct")
    files = sorted(folder.iterdir())
    assert len(files) == 3
    dataset = pydicom.dcmread(files[2])
    assert dataset.file_meta.MediaStorageSOPClassUID == pydicom.uid.CTImageStorage
    assert dataset.SOPInstanceUID == dataset.file_meta.MediaStorageSOPInstanceUID
    assert (dataset.Rows, dataset.Columns) == (4, 5)
    expected_position = np.array(volume.origin) + 2 * volume.spacing[2] * volume.direction[:, 2]
    np.testing.assert_allclose([float(v) for v in dataset.ImagePositionPatient], expected_position, atol=1e-9)
    assert [float(v) for v in dataset.PixelSpacing] == [1.3, 0.8]
    assert float(dataset.SliceThickness) == 2.5
    assert len({pydicom.dcmread(f).SeriesInstanceUID for f in files}) == 1


def _pet_parameters() -> SuvParameters:
    return SuvParameters(
        weight_kg=72.5,
        dose_bq=350e6,
        injection_time=Timestamp(datetime(2024, 3, 1, 13, 5, 0), True),
        scan_time=Timestamp(datetime(2024, 3, 1, 14, 7, 30), True),
        half_life_s=6586.2,
    )


def test_written_pet_has_per_slice_slope_and_suv_tags(tmp_path, rng):
    suv = rng.gamma(2.0, 1.0, size=(4, 6, 7)).astype(np.float32)
    suv[2] *= 20  # a hot slice: its slope must differ from the others
    volume = Volume(suv, modality="PT", units="SUV")
    folder = write_dicom_series(volume, tmp_path / "pet", suv_parameters=_pet_parameters())
    headers = [pydicom.dcmread(f) for f in sorted(folder.iterdir())]
    slopes = [float(h.RescaleSlope) for h in headers]
    assert slopes[2] > 5 * max(slopes[0], slopes[1], slopes[3])
    header = headers[0]
    assert (header.Modality, header.Units, header.DecayCorrection) == ("PT", "BQML", "START")
    assert float(header.PatientWeight) == 72.5
    drug = header.RadiopharmaceuticalInformationSequence[0]
    assert float(drug.RadionuclideTotalDose) == 350e6
    assert float(drug.RadionuclideHalfLife) == 6586.2
    assert drug.RadiopharmaceuticalStartDateTime.startswith("20240301130500")
    assert (header.SeriesDate, header.SeriesTime[:6], header.AcquisitionTime[:6]) == ("20240301", "140730", "140730")


def test_existing_non_empty_folder_is_refused_and_untouched(tmp_path, oblique_volume):
    target = tmp_path / "ct"
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    with pytest.raises(InputError, match="not an empty folder"):
        write_dicom_series(oblique_volume.with_array(np.zeros((2, 3, 3))), target)
    assert [p.name for p in target.iterdir()] == ["keep.txt"]


def test_failed_write_leaves_no_folder(tmp_path):
    volume = Volume(np.full((2, 3, 3), 50000.0), modality="CT", units="HU")  # beyond int16 HU
    with pytest.raises(InputError, match="int16"):
        write_dicom_series(volume, tmp_path / "ct")
    assert list(tmp_path.iterdir()) == []


def test_pet_without_suv_parameters_is_refused(tmp_path):
    with pytest.raises(InputError, match="needs SUV parameters"):
        write_dicom_series(Volume(np.ones((2, 3, 3)), modality="PT", units="SUV"), tmp_path / "pet")
    assert list(tmp_path.iterdir()) == []


# --- SimpleITK (GDCM) as an independent reader -------------------------------------------------------------


def _sitk_series(folder):
    import SimpleITK as sitk

    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(folder)))
    return reader.Execute()


def test_real_ct_agrees_with_simpleitk(ct_folder, ct_volume):
    import SimpleITK as sitk

    image = _sitk_series(ct_folder)
    np.testing.assert_array_equal(sitk.GetArrayFromImage(image), ct_volume.array)
    np.testing.assert_allclose(image.GetOrigin(), ct_volume.origin, atol=1e-6)
    np.testing.assert_allclose(image.GetSpacing(), ct_volume.spacing, atol=1e-6)
    np.testing.assert_allclose(np.reshape(image.GetDirection(), (3, 3)), ct_volume.direction, atol=1e-9)


def test_written_oblique_ct_reads_identically_in_simpleitk(tmp_path, oblique_volume):
    import SimpleITK as sitk

    hu = np.rint(oblique_volume.array * 300).astype(np.float32)
    folder = write_dicom_series(oblique_volume.with_array(hu), tmp_path / "ct")
    image = _sitk_series(folder)
    np.testing.assert_array_equal(sitk.GetArrayFromImage(image), hu)
    np.testing.assert_allclose(image.GetOrigin(), oblique_volume.origin, atol=1e-5)
    np.testing.assert_allclose(image.GetSpacing(), oblique_volume.spacing, atol=1e-5)
    np.testing.assert_allclose(np.reshape(image.GetDirection(), (3, 3)), oblique_volume.direction, atol=1e-5)
