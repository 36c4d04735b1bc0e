"""Inputs that are wrong but readable are refused with one line and exit 2, and nothing is written.

Conformance cases derived from the real data in ../shared/data: truncated NIfTI/NRRD copies (bytes cut off the real
files), NIfTI headers with a voxel size of 0, -1, NaN or 1,000 mm, a CT where a PET is expected and the reverse
(virtual-pet, suv, mip, dataset, train). Each expectation comes from the file itself (its size, its header), not
from the code under test.
"""

from __future__ import annotations

import gzip
import shutil
import struct

import numpy as np
import pytest
import SimpleITK as sitk
from conftest import shared_data_path

from MedGANSynthLib.cli.main import main
from MedGANSynthLib.errors import InputError
from MedGANSynthLib.io import read_volume, write_volume
from MedGANSynthLib.volume import Volume

SUV_FLAGS = ["--weight-kg", "70", "--dose-mbq", "370", "--injection-time", "10:00:00", "--scan-time", "11:00:00",
             "--half-life-s", "6586.2"]
NIFTI_PIXDIM_X = 80  # byte offset of pixdim[1] in a NIfTI-1 header (float32)


def real_ct_nifti():
    return shared_data_path("ct-nifti", "example_ct_sm.nii.gz")


def refused(capsys, argv, output, message) -> str:
    """Run the CLI; it must exit 2 with one line naming ``message`` and leave ``output`` absent."""
    assert main(argv) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and "Traceback" not in error
    assert message.lower() in error.lower(), error
    assert not output.exists()
    return error


# --- truncated files ---------------------------------------------------------------------------------------------


def _cut(source, target, keep_bytes: int):
    target.write_bytes(source.read_bytes()[:keep_bytes])
    return target


@pytest.fixture(scope="module")
def real_ct_files(tmp_path_factory):
    """The real CT as .nii.gz (the file itself), .nii, gzip .nrrd, raw .nrrd and zlib .mha (written by SimpleITK)."""
    folder = tmp_path_factory.mktemp("real_ct")
    source = real_ct_nifti()
    image = sitk.ReadImage(str(source))
    files = {"nii.gz": folder / "ct.nii.gz", "nii": folder / "ct.nii", "nrrd-gzip": folder / "ct_gzip.nrrd",
             "nrrd-raw": folder / "ct_raw.nrrd", "mha": folder / "ct.mha"}
    shutil.copy(source, files["nii.gz"])
    sitk.WriteImage(image, str(files["nii"]))
    sitk.WriteImage(image, str(files["nrrd-gzip"]), useCompression=True)
    sitk.WriteImage(image, str(files["nrrd-raw"]), useCompression=False)
    sitk.WriteImage(image, str(files["mha"]), useCompression=True)
    return files


@pytest.mark.parametrize("kind", ["nii.gz", "nii", "nrrd-gzip", "nrrd-raw", "mha"])
@pytest.mark.parametrize("cut", ["4 bytes", "one tenth", "half"])
def test_truncated_real_ct_is_refused_by_read_volume(tmp_path, real_ct_files, kind, cut):
    source = real_ct_files[kind]
    size = source.stat().st_size
    keep = {"4 bytes": size - 4, "one tenth": size - size // 10, "half": size // 2}[cut]
    truncated = _cut(source, tmp_path / source.name, keep)
    assert read_volume(source).array.shape == (30, 101, 122)  # the whole file reads
    with pytest.raises(InputError, match="truncated"):
        read_volume(truncated)


def test_itk_alone_would_read_a_truncated_nifti_as_zeros(tmp_path, real_ct_files):
    """Why the check exists: SimpleITK itself returns the cut .nii.gz with zeros instead of refusing it."""
    source = real_ct_files["nii.gz"]
    truncated = _cut(source, tmp_path / "half.nii.gz", source.stat().st_size // 2)
    padded = sitk.GetArrayFromImage(sitk.ReadImage(str(truncated)))
    assert padded.shape == (30, 101, 122) and np.mean(padded == 0) > 0.4


@pytest.mark.parametrize(("command", "extra"), [
    ("virtual-pet", []), ("mip", ["--units", "suv"]), ("resample", []), ("suv", SUV_FLAGS)])
def test_truncated_file_exits_2_and_writes_nothing(tmp_path, real_ct_files, capsys, command, extra):
    source = real_ct_files["nii.gz"]
    truncated = _cut(source, tmp_path / "ct.nii.gz", source.stat().st_size - 100)
    output = tmp_path / ("out" if command == "virtual-pet" else "out.nrrd")
    refused(capsys, [command, str(truncated), "-o", str(output), *extra], output, "truncated")


def test_gzip_nrrd_missing_only_its_trailer_is_refused(tmp_path, real_ct_files, capsys):
    """ITK reads a gzip NRRD without its last 4 bytes (the stream's length field); the full stream must decode."""
    source = real_ct_files["nrrd-gzip"]
    truncated = _cut(source, tmp_path / "ct.nrrd", source.stat().st_size - 4)
    sitk.ReadImage(str(truncated))  # ITK does not notice
    refused(capsys, ["resample", str(truncated), "-o", str(tmp_path / "o.nrrd")], tmp_path / "o.nrrd", "truncated")


def test_whole_files_written_by_us_still_read(tmp_path, real_ct_files):
    """No false alarm: the project's own NRRD/NIfTI outputs and the real 2 mm brain template (uint8 with a scale
    factor, which ITK reports as float32) pass the check."""
    ct = read_volume(real_ct_files["nii.gz"])
    for name in ("a.nrrd", "b.nii.gz", "c.nii", "d.mha"):
        np.testing.assert_array_equal(read_volume(write_volume(ct, tmp_path / name)).array, ct.array)
    brain = read_volume(shared_data_path("brain-pet-template", "PET.nii"))
    assert brain.array.shape == (91, 109, 91) and brain.spacing == (2.0, 2.0, 2.0)


# --- voxel sizes ------------------------------------------------------------------------------------------------


def _nifti_with_x_spacing(tmp_path, value: float):
    header_and_data = bytearray(gzip.decompress(real_ct_nifti().read_bytes()))
    assert struct.unpack("<f", header_and_data[NIFTI_PIXDIM_X:NIFTI_PIXDIM_X + 4])[0] == 3.0  # the real x spacing
    header_and_data[NIFTI_PIXDIM_X:NIFTI_PIXDIM_X + 4] = struct.pack("<f", value)
    path = tmp_path / f"ct_spacing_{value}.nii"
    path.write_bytes(bytes(header_and_data))
    return path


@pytest.mark.parametrize("spacing", [0.0, -1.0, float("nan"), 1000.0, 0.001])
def test_absurd_voxel_size_is_refused_before_virtual_pet_allocates(tmp_path, capsys, spacing):
    ct = _nifti_with_x_spacing(tmp_path, spacing)
    output = tmp_path / "out"
    refused(capsys, ["virtual-pet", str(ct), "-o", str(output)], output, "voxel")


@pytest.mark.parametrize("spacing", [0.0, -1.0, float("nan")])
def test_itk_alone_would_read_a_zero_negative_or_nan_voxel_size_as_1_mm(tmp_path, spacing):
    path = _nifti_with_x_spacing(tmp_path, spacing)
    assert sitk.ReadImage(str(path)).GetSpacing()[0] == 1.0  # silently replaced: why the header is checked
    with pytest.raises(InputError, match="voxel sizes"):
        read_volume(path)


def test_nrrd_with_a_1000_mm_spacing_is_refused(tmp_path, real_ct_files, capsys):
    raw = real_ct_files["nrrd-raw"].read_bytes()
    assert b"space directions: (-3,0,0)" in raw
    path = tmp_path / "ct_1000.nrrd"
    path.write_bytes(raw.replace(b"space directions: (-3,0,0)", b"space directions: (-1000,0,0)", 1))
    refused(capsys, ["resample", str(path), "-o", str(tmp_path / "o.nrrd")], tmp_path / "o.nrrd", "plausible")


# --- CT where a PET is expected, and the reverse --------------------------------------------------------------------


def test_real_ct_dicom_into_suv_and_mip_is_refused(tmp_path, capsys):
    ct = shared_data_path("ct-dicom-thorax")
    refused(capsys, ["suv", str(ct), "-o", str(tmp_path / "s.nrrd"), *SUV_FLAGS], tmp_path / "s.nrrd", "not a PET")
    refused(capsys, ["mip", str(ct), "-o", str(tmp_path / "m.nrrd")], tmp_path / "m.nrrd", "not a PET")


@pytest.mark.parametrize("extra", [SUV_FLAGS, ["--units", "suv"], ["--units", "bqml"]])
def test_real_ct_nifti_into_mip_is_refused_by_its_values(tmp_path, capsys, extra):
    """A NIfTI says nothing about modality; the real CT goes down to air (about -1000 HU), no PET does."""
    assert float(read_volume(real_ct_nifti()).array.min()) <= -1000
    output = tmp_path / "m.nrrd"
    refused(capsys, ["mip", str(real_ct_nifti()), "-o", str(output), *extra], output, "Hounsfield")


def test_real_ct_nifti_into_suv_is_refused(tmp_path, capsys):
    output = tmp_path / "s.nrrd"
    refused(capsys, ["suv", str(real_ct_nifti()), "-o", str(output), *SUV_FLAGS], output, "Hounsfield")


def test_real_pet_dicom_into_virtual_pet_is_refused(tmp_path, capsys):
    output = tmp_path / "out"
    pet = shared_data_path("pet-dicom-flt-breast", "1.dcm")
    refused(capsys, ["virtual-pet", str(pet), "-o", str(output)], output, "not a CT")


def test_pet_file_without_modality_into_virtual_pet_is_refused_by_its_values(tmp_path, capsys):
    """The real PET slice, stacked to a small volume and written as NIfTI (no modality): no air, so not a CT."""
    pet = read_volume(shared_data_path("pet-dicom-flt-breast", "1.dcm"))
    stacked = Volume(np.repeat(pet.array, 4, axis=0), pet.spacing, pet.origin, pet.direction)
    path = write_volume(stacked, tmp_path / "pet.nii.gz")
    output = tmp_path / "out"
    refused(capsys, ["virtual-pet", str(path), "-o", str(output)], output, "holds no air")


def test_dataset_refuses_a_ct_and_a_bqml_pet_listed_as_suv(tmp_path, capsys):
    pet = read_volume(shared_data_path("pet-dicom-flt-breast", "1.dcm"))  # Bq/ml, up to thousands
    assert float(pet.array.max()) > 1000
    bqml = write_volume(Volume(np.repeat(pet.array, 4, axis=0), pet.spacing), tmp_path / "pet_bqml.nii.gz")
    for listed, message in ((real_ct_nifti(), "Hounsfield"), (bqml, "Bq/ml")):
        labels = tmp_path / "labels.csv"
        labels.write_text(f"file,label\n{listed},normal\n{listed},lung\n")
        output = tmp_path / "data"
        refused(capsys, ["dataset", "mip", "--labels", str(labels), "-o", str(output)], output / "train", message)


def test_ct_gan_does_not_train_on_a_pet_dicom_series(tmp_path, capsys):
    data = tmp_path / "data"
    shutil.copytree(shared_data_path("pet-dicom-flt-breast"), data / "pet")
    (data / "pet" / "2.dcm").unlink()  # one series of one slice: readable, and a PET
    run = tmp_path / "run"
    argv = ["train", "--architecture", "ct_gan", "--image-size", "16", "--width", "0.0625", "--device", "cpu",
            "--threads", "1", "--data", str(data), "-o", str(run), "--epochs", "1"]
    assert main(argv) == 2
    error = capsys.readouterr().err
    assert "not a CT" in error and len(error.strip().splitlines()) == 1
    assert not (run / "weights").exists()


def test_radiogan_does_not_train_on_mips_in_hu(tmp_path, capsys):
    """MIPs of a CT (HU) in a RadioGAN data folder must not pass as SUV."""
    ct = read_volume(real_ct_nifti())
    data = tmp_path / "mips"
    data.mkdir()
    for n in range(4):
        write_volume(ct.with_array(ct.array.max(axis=1, keepdims=True).astype(np.float32)), data / f"m{n}.nrrd")
    run = tmp_path / "run"
    argv = ["train", "--architecture", "radiogan", "--data", str(data), "-o", str(run), "--epochs", "1",
            "--device", "cpu", "--threads", "1"]
    assert main(argv) == 2
    assert "Hounsfield" in capsys.readouterr().err
    assert not (run / "weights").exists()
