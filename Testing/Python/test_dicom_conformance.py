"""DICOM conformance corpus, part 1: slice geometry and transfer syntaxes, on variants of the real CT and PET.

Every variant is made from the real files in ../shared/data; every expectation comes from the tags and raw bytes
with numpy, or from SimpleITK's ImageSeriesReader (ITK/GDCM, an independent reader), never from the reader under
test.
"""

from __future__ import annotations

import logging

import numpy as np
import pydicom
import pytest
from dicom_variants import (
    raw_rescaled,
    raw_stored,
    real_ct_datasets,
    real_pet_dataset,
    transcode,
    write_slices,
)

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.io.dicom_series import read_dicom_series

AXIAL = np.array([1.0, 0, 0, 0, 1, 0])


@pytest.fixture(scope="module")
def ct_slices():
    return real_ct_datasets()


@pytest.fixture(scope="module")
def ct_positions(ct_slices):
    return np.array([[float(v) for v in d.ImagePositionPatient] for d in ct_slices])


@pytest.fixture(scope="module")
def ct_pixels(ct_slices):
    return np.stack([raw_rescaled(d) for d in ct_slices])


def _warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def _sitk(folder):
    import SimpleITK as sitk

    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(folder)))
    return reader.Execute()


# --- jitter: accepted as the scanner meant it ---------------------------------------------------------------


def test_position_jitter_of_three_hundredths_is_accepted_like_itk(tmp_path, ct_slices, ct_positions, ct_pixels,
                                                                    caplog):
    jitter = np.random.default_rng(7).uniform(-0.03, 0.03, len(ct_slices))
    positions = np.round(ct_positions + np.outer(jitter, [0, 0, 1]), 6)  # as written in the DS tags
    folder = write_slices(tmp_path / "ct", ct_slices, positions)
    import SimpleITK as sitk

    image = _sitk(folder)
    with caplog.at_level(logging.WARNING):
        volume = read_dicom_series(folder)
    assert _warnings(caplog) == []
    np.testing.assert_array_equal(volume.array, ct_pixels)
    np.testing.assert_array_equal(volume.array, sitk.GetArrayFromImage(image))
    expected_spacing = (positions[-1, 2] - positions[0, 2]) / (len(positions) - 1)
    assert volume.spacing[2] == pytest.approx(expected_spacing, abs=1e-9)
    np.testing.assert_allclose(volume.spacing, image.GetSpacing(), atol=1e-6)
    np.testing.assert_allclose(volume.origin, positions[0], atol=1e-9)
    assert "resampled" not in volume.metadata["dicom"]


def test_ge_whole_body_gaps_of_3_19_to_3_29_mm_are_one_uniform_volume(tmp_path, caplog):
    """3.27 mm slices, 4 bed positions whose joins are written 0.08 mm short and positions rounded to 0.01 mm."""
    pet = real_pet_dataset()
    slices = np.arange(45)
    heights = np.round(-800 + 3.27 * slices - 0.08 * (slices // 12) + 0.012 * np.sin(slices), 2)
    gaps = np.diff(heights)
    assert gaps.min() < 3.2 and gaps.max() > 3.28  # the spread the issue measured on a real GE series
    x, y = (float(v) for v in pet.ImagePositionPatient[:2])
    folder = write_slices(tmp_path / "pet", [pet] * 45, [[x, y, h] for h in heights])
    with caplog.at_level(logging.WARNING):
        volume = read_dicom_series(folder)
    assert _warnings(caplog) == []
    assert volume.array.shape == (45, 168, 168)
    assert volume.spacing[2] == pytest.approx((heights[-1] - heights[0]) / 44, abs=1e-9)
    np.testing.assert_array_equal(volume.array[30], raw_rescaled(pet))


def test_orientation_cosines_rounded_differently_per_slice_are_one_series(tmp_path, ct_slices, ct_pixels):
    noise = np.random.default_rng(3).uniform(-2e-6, 2e-6, (len(ct_slices), 6))
    folder = write_slices(tmp_path / "ct", ct_slices, orientations=AXIAL + noise)
    np.testing.assert_array_equal(read_dicom_series(folder).array, ct_pixels)


# --- missing slices -------------------------------------------------------------------------------------------


def test_one_missing_slice_is_interpolated_with_one_warning(tmp_path, ct_slices, ct_positions, ct_pixels, caplog):
    kept = [n for n in range(len(ct_slices)) if n != 9]
    folder = write_slices(tmp_path / "ct", [ct_slices[n] for n in kept], ct_positions[kept])
    for number, file in zip(kept, sorted(folder.iterdir()), strict=True):  # real numbering: 10 is absent
        dataset = pydicom.dcmread(file)
        dataset.InstanceNumber = number + 1
        dataset.save_as(file)
    with caplog.at_level(logging.WARNING):
        volume = read_dicom_series(folder)
    warnings = _warnings(caplog)
    assert len(warnings) == 1 and "\n" not in warnings[0]
    missing_z = ct_positions[9, 2]
    assert f"{missing_z:.2f}" in warnings[0]
    assert volume.array.shape == ct_pixels.shape
    assert volume.spacing[2] == pytest.approx(2.0)
    np.testing.assert_array_equal(volume.array[8], ct_pixels[8])
    np.testing.assert_array_equal(volume.array[10], ct_pixels[10])
    np.testing.assert_allclose(volume.array[9], (ct_pixels[8] + ct_pixels[10]) / 2, atol=1e-3)
    assert volume.metadata["dicom"]["geometry"]["missing_slice_positions_mm"] == [pytest.approx(missing_z)]
    assert "missing slice" in volume.metadata["dicom"]["resampled"]


def test_two_missing_slices_in_a_row_are_refused_naming_them(tmp_path, ct_slices, ct_positions):
    kept = [n for n in range(len(ct_slices)) if n not in (6, 7)]
    folder = write_slices(tmp_path / "ct", [ct_slices[n] for n in kept], ct_positions[kept])
    with pytest.raises(InputError) as caught:
        read_dicom_series(folder)
    message = str(caught.value)
    assert f"{ct_positions[6, 2]:.2f}, {ct_positions[7, 2]:.2f}" in message
    assert "\n" not in message and "copy the complete series" in message


def test_irregular_spacing_is_resampled_linearly_at_the_typical_gap(tmp_path, ct_slices, caplog):
    """2 mm slices, then one 3 mm gap (a second protocol): each output slice is the linear mix of its two
    neighbours at its height, by hand with np.interp."""
    heights = np.array([0, 2, 4, 6, 8, 10, 13, 15, 17, 19, 21], dtype=float) - 700
    chosen = ct_slices[: len(heights)]
    folder = write_slices(tmp_path / "ct", chosen, [[-249.51171875, -437.51171875, h] for h in heights])
    with caplog.at_level(logging.WARNING):
        volume = read_dicom_series(folder)
    assert len(_warnings(caplog)) == 1 and "slice gaps vary (2.00 to 3.00 mm)" in _warnings(caplog)[0]
    stored = np.stack([raw_rescaled(d) for d in chosen])
    count = int(round((heights[-1] - heights[0]) / 2.0)) + 1
    targets = np.linspace(heights[0], heights[-1], count)
    assert volume.array.shape[0] == count
    assert volume.spacing[2] == pytest.approx((heights[-1] - heights[0]) / (count - 1))
    for j, i in ((256, 256), (100, 300), (400, 80)):
        np.testing.assert_allclose(volume.array[:, j, i], np.interp(targets, heights, stored[:, j, i]), atol=1e-3)


@pytest.mark.parametrize("numbered", [True, False])
def test_instance_numbers_decide_whether_an_odd_gap_is_a_missing_slice(tmp_path, ct_slices, numbered, caplog):
    """A 3.2 mm gap among 2 mm slices is 1.6 spacings: not near a multiple, so only an InstanceNumber that skips
    one (numbered) makes it a missing slice; without that it is varying spacing. Both are resampled."""
    heights = np.array([0, 2, 4, 6, 9.2, 11.2, 13.2, 15.2]) - 700
    folder = write_slices(tmp_path / "ct", ct_slices[:8], [[-249.51171875, -437.51171875, h] for h in heights])
    for number, file in enumerate(sorted(folder.iterdir())):
        dataset = pydicom.dcmread(file)
        dataset.InstanceNumber = number + 1 + (number >= 4) if numbered else 1
        dataset.save_as(file)
    with caplog.at_level(logging.WARNING):
        volume = read_dicom_series(folder)
    geometry = volume.metadata["dicom"]["geometry"]
    if numbered:
        assert geometry["missing_slice_positions_mm"] == [pytest.approx(-700 + 7.6)]
        assert "missing slice(s) at -692.40 mm" in _warnings(caplog)[0]
    else:
        assert geometry["missing_slice_positions_mm"] == []
        assert "slice gaps vary (2.00 to 3.20 mm)" in _warnings(caplog)[0]
    assert volume.array.shape[0] == int(round(15.2 / 2.0)) + 1


def test_duplicated_positions_are_refused(tmp_path, ct_slices, ct_positions):
    positions = ct_positions.copy()
    positions[5] = positions[4]
    folder = write_slices(tmp_path / "ct", ct_slices, positions)
    with pytest.raises(InputError, match="several images at the same slice position"):
        read_dicom_series(folder)


# --- tilt and non-parallel slices --------------------------------------------------------------------------------


def test_gantry_tilt_is_undone_so_every_voxel_keeps_its_patient_position(tmp_path, ct_slices, caplog):
    """A CT tilted about x: slice planes have column direction (0, cos t, sin t) while the table steps 2 mm in z.
    t is chosen so that the in-plane shift is exactly one row per slice; then every input voxel must reappear
    unchanged at the index its own patient position maps to (own arithmetic with the returned geometry)."""
    chosen = ct_slices[:8]
    row_mm = float(chosen[0].PixelSpacing[0])
    tilt = np.arcsin(row_mm / 2.0)
    column = np.array([0, np.cos(tilt), np.sin(tilt)])
    start = np.array([-249.51171875, -437.51171875, -700.0])
    positions = [start + [0, 0, 2.0 * k] for k in range(len(chosen))]
    folder = write_slices(tmp_path / "ct", chosen, positions, orientations=[[1, 0, 0, *column]] * len(chosen))
    with caplog.at_level(logging.WARNING):
        volume = read_dicom_series(folder)
    assert volume.metadata["dicom"]["geometry"]["gantry_tilt_deg"] == pytest.approx(np.degrees(tilt), abs=1e-3)
    assert f"gantry tilt of {np.degrees(tilt):.2f} degrees" in _warnings(caplog)[0]
    assert volume.spacing[2] == pytest.approx(2.0 * np.cos(tilt), abs=1e-6)
    matrix = volume.direction * np.array(volume.spacing)
    column_mm = float(chosen[0].PixelSpacing[1])
    for k, j, i in ((0, 200, 250), (3, 300, 100), (7, 120, 400)):
        point = positions[k] + i * column_mm * np.array([1, 0, 0]) + j * row_mm * column
        index = np.linalg.solve(matrix, point - np.array(volume.origin))
        np.testing.assert_allclose(index, np.round(index), atol=1e-6)
        ii, jj, kk = np.round(index).astype(int)
        assert volume.array[kk, jj, ii] == raw_rescaled(chosen[k])[j, i]


def test_shear_steeper_than_any_gantry_is_refused_naming_the_angle(tmp_path, ct_slices):
    """Positions stepping 2 mm along z and 2 mm along y on axial slices: a 45 degree shear, no real gantry tilt."""
    positions = [[-249.51171875, -437.51171875 + 2.0 * k, -700.0 + 2.0 * k] for k in range(4)]
    folder = write_slices(tmp_path / "ct", ct_slices[:4], positions)
    with pytest.raises(InputError, match="run at 45.0 degrees to the slice normal, more than any gantry tilts"):
        read_dicom_series(folder)


def test_slices_turned_5_degrees_are_refused_naming_the_angle(tmp_path, ct_slices):
    angle = np.radians(5.0)
    orientations = [AXIAL] * 5 + [[np.cos(angle), np.sin(angle), 0, -np.sin(angle), np.cos(angle), 0]]
    folder = write_slices(tmp_path / "ct", ct_slices[:6], orientations=orientations)
    with pytest.raises(InputError, match=r"not parallel \('0005.dcm' is turned 5.00 degrees"):
        read_dicom_series(folder)


def test_coronal_stack_matches_simpleitk(tmp_path, ct_slices):
    """The same pixels written as coronal slices (rows along -z, slices stepping in y): geometry as ITK reads it."""
    import SimpleITK as sitk

    chosen = ct_slices[:6]
    positions = [[-250.0, -100.0 + 3.0 * k, 50.0] for k in range(len(chosen))]
    folder = write_slices(tmp_path / "ct", chosen[::-1], positions[::-1],
                          orientations=[[1, 0, 0, 0, 0, -1]] * len(chosen))
    image = _sitk(folder)
    volume = read_dicom_series(folder)
    np.testing.assert_array_equal(volume.array, sitk.GetArrayFromImage(image))
    np.testing.assert_allclose(volume.origin, image.GetOrigin(), atol=1e-6)
    np.testing.assert_allclose(volume.spacing, image.GetSpacing(), atol=1e-6)
    np.testing.assert_allclose(volume.direction.ravel(), image.GetDirection(), atol=1e-9)


# --- transfer syntaxes --------------------------------------------------------------------------------------------

LOSSLESS = [
    ("JPEGLosslessProcess14", "1.2.840.10008.1.2.4.57"),
    ("JPEGLosslessProcess14_1", "1.2.840.10008.1.2.4.70"),
    ("JPEGLSLossless", "1.2.840.10008.1.2.4.80"),
    ("JPEG2000Lossless", "1.2.840.10008.1.2.4.90"),
    ("RLELossless", "1.2.840.10008.1.2.5"),
    ("DeflatedExplicitVRLittleEndian", "1.2.840.10008.1.2.1.99"),
    ("ImplicitVRLittleEndian", "1.2.840.10008.1.2"),
    ("ExplicitVRBigEndian", "1.2.840.10008.1.2.2"),
]


@pytest.fixture(scope="module")
def uncompressed_pet(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pet")
    return write_slices(folder, [real_pet_dataset()]) / "0000.dcm"


@pytest.fixture(scope="module")
def uncompressed_ct(tmp_path_factory, ct_slices):
    return write_slices(tmp_path_factory.mktemp("ct"), ct_slices[:3])


@pytest.mark.parametrize(("syntax", "uid"), LOSSLESS, ids=[name for name, _ in LOSSLESS])
def test_lossless_syntax_of_real_pet_decodes_exactly(tmp_path, uncompressed_pet, syntax, uid):
    target = transcode(uncompressed_pet, tmp_path / "pet.dcm", syntax)
    assert pydicom.dcmread(target, stop_before_pixels=True).file_meta.TransferSyntaxUID == uid
    volume = read_dicom_series(target)
    np.testing.assert_array_equal(volume.array[0], raw_rescaled(pydicom.dcmread(uncompressed_pet)))


@pytest.mark.parametrize("syntax", ["JPEGLSLossless", "RLELossless", "JPEGLosslessProcess14_1"])
def test_lossless_syntax_of_real_ct_series_decodes_exactly(tmp_path, uncompressed_ct, syntax):
    folder = tmp_path / "ct"
    folder.mkdir()
    for file in sorted(uncompressed_ct.iterdir()):
        transcode(file, folder / file.name, syntax)
    expected = np.stack([raw_rescaled(pydicom.dcmread(f)) for f in sorted(uncompressed_ct.iterdir())])
    np.testing.assert_array_equal(read_dicom_series(folder).array, expected)


def _eight_bit_pet(tmp_path):
    """The real PET scaled to 0..255 with the slope adjusted, as 8-bit lossy PACS exports hold it."""
    pet = real_pet_dataset()
    stored = raw_stored(pet)
    factor = stored.max() / 255.0
    eight = np.round(stored / factor).astype(np.uint8)
    pet.BitsAllocated, pet.BitsStored, pet.HighBit, pet.PixelRepresentation = 8, 8, 7, 0
    pet.PixelData = eight.tobytes()
    pet.RescaleSlope = float(pet.RescaleSlope) * factor
    return write_slices(tmp_path / "raw", [pet]) / "0000.dcm", eight * float(pet.RescaleSlope), float(pet.RescaleSlope)


@pytest.mark.parametrize(("syntax", "uid"), [("JPEGBaselineProcess1", "1.2.840.10008.1.2.4.50"),
                                             ("JPEGExtendedProcess2_4", "1.2.840.10008.1.2.4.51")])
def test_lossy_jpeg_of_8_bit_pet_is_within_a_few_steps(tmp_path, syntax, uid):
    source, expected, step = _eight_bit_pet(tmp_path)
    target = transcode(source, tmp_path / "jpeg.dcm", syntax)
    assert pydicom.dcmread(target, stop_before_pixels=True).file_meta.TransferSyntaxUID == uid
    decoded = read_dicom_series(target).array[0]
    assert np.max(np.abs(decoded - expected)) <= 3 * step  # JPEG quantisation: a few 8-bit steps at most
    assert np.mean(np.abs(decoded - expected)) <= 0.1 * step


@pytest.mark.parametrize("syntax", ["JPEG2000", "JPEGLSNearLossless"])
def test_lossy_jpeg_2000_and_near_lossless_jpeg_ls_are_within_bound(tmp_path, uncompressed_pet, syntax):
    target = transcode(uncompressed_pet, tmp_path / "pet.dcm", syntax)
    expected = raw_rescaled(pydicom.dcmread(uncompressed_pet))
    decoded = read_dicom_series(target).array[0]
    assert np.max(np.abs(decoded - expected)) <= 0.01 * expected.max()


def test_syntax_without_any_decoder_is_named(tmp_path, uncompressed_pet):
    """MPEG-2 video is a real DICOM transfer syntax no image decoder reads: the message names it and its UID."""
    from pydicom.encaps import encapsulate

    dataset = pydicom.dcmread(uncompressed_pet)
    dataset.PixelData = encapsulate([b"\x00\x00\x01\xb3" + bytes(60)])
    dataset["PixelData"].VR = "OB"
    dataset.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.4.100"
    dataset.save_as(tmp_path / "video.dcm", enforce_file_format=True) if _pydicom3() else dataset.save_as(
        tmp_path / "video.dcm", write_like_original=False)
    with pytest.raises(InputError) as caught:
        read_dicom_series(tmp_path / "video.dcm")
    message = str(caught.value)
    assert "MPEG2 Main Profile / Main Level (1.2.840.10008.1.2.4.100)" in message
    assert "no installed decoder" in message and "\n" not in message


def _pydicom3() -> bool:
    return int(pydicom.__version__.split(".")[0]) >= 3
