"""DICOM conformance corpus, part 2: folders as users copy them off a PACS (several series, patient/study trees,
non-image objects, DICOMDIR) through the library, the CLI and the Slicer Logic. Series are real CT/PET copies;
each expectation is what the test itself wrote (series numbers, UIDs, raw pixels) or its own SUV arithmetic."""

from __future__ import annotations

import copy
import json

import numpy as np
import pydicom
import pytest
from dicom_variants import raw_rescaled, real_ct_datasets, real_pet_dataset, write_slices
from pydicom.uid import generate_uid

from MedGANSynthLib.cli.main import main
from MedGANSynthLib.errors import InputError
from MedGANSynthLib.io import read_volume
from MedGANSynthLib.io.dicom_folder import list_dicom_series
from MedGANSynthLib.io.dicom_series import read_dicom_series
from MedGANSynthLib.pet.suv import load_pet_as_suv


@pytest.fixture(scope="module")
def ct_slices():
    return real_ct_datasets()[:4]


@pytest.fixture(scope="module")
def pet():
    return real_pet_dataset()


def _pet_series(folder, pet, number, description="PET WB", heights=(0.0, 5.0, 10.0)):
    x, y = (float(v) for v in pet.ImagePositionPatient[:2])
    return write_slices(folder, [pet] * len(heights), [[x, y, h] for h in heights], SeriesNumber=number,
                        SeriesDescription=description)


def _rtstruct(path, referenced):
    """A minimal structure set: DICOM, RTSTRUCT modality and SOP class, no pixels (never an image)."""
    dataset = pydicom.Dataset()
    dataset.file_meta = pydicom.dataset.FileMetaDataset()
    dataset.file_meta.MediaStorageSOPClassUID = pydicom.uid.RTStructureSetStorage
    dataset.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    dataset.file_meta.TransferSyntaxUID = pydicom.uid.ExplicitVRLittleEndian
    dataset.SOPClassUID = pydicom.uid.RTStructureSetStorage
    dataset.SOPInstanceUID = dataset.file_meta.MediaStorageSOPInstanceUID
    dataset.Modality, dataset.SeriesNumber, dataset.SeriesDescription = "RTSTRUCT", 9, "lesions"
    dataset.SeriesInstanceUID = generate_uid()
    dataset.StudyInstanceUID = referenced.StudyInstanceUID
    dataset.StructureSetLabel = "GTV"
    path.parent.mkdir(parents=True, exist_ok=True)
    _save(dataset, path)
    return path


def _save(dataset, path):
    if int(pydicom.__version__.split(".")[0]) >= 3:
        dataset.save_as(path, enforce_file_format=True)
    else:
        dataset.is_little_endian, dataset.is_implicit_VR = True, False
        dataset.save_as(path, write_like_original=False)


def _seg(path, pet):
    """A DICOM SEG: it has Rows, Columns and PixelData (binary frames) but is a label object, not an image series."""
    dataset = copy.deepcopy(pet)
    dataset.SOPClassUID = dataset.file_meta.MediaStorageSOPClassUID = pydicom.uid.SegmentationStorage
    dataset.SOPInstanceUID = dataset.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    dataset.Modality, dataset.SeriesNumber, dataset.SeriesDescription = "SEG", 10, "tumour"
    dataset.SeriesInstanceUID = generate_uid()
    path.parent.mkdir(parents=True, exist_ok=True)
    dataset.save_as(path)
    return path


@pytest.fixture
def pet_ct_folder(tmp_path, ct_slices, pet):
    """One flat folder: a 3-slice PET (series 4), a 4-slice CT (series 2), an RTSTRUCT and a SEG."""
    folder = tmp_path / "export"
    _pet_series(folder / "pet", pet, 4)
    write_slices(folder / "ct", ct_slices, SeriesNumber=2, SeriesDescription="CT 3mm")
    for file in list((folder / "pet").iterdir()) + list((folder / "ct").iterdir()):
        file.rename(folder / f"{file.parent.name}_{file.name}")
    (folder / "pet").rmdir()
    (folder / "ct").rmdir()
    _rtstruct(folder / "rs.dcm", pet)
    _seg(folder / "seg.dcm", pet)
    return folder


# --- listing --------------------------------------------------------------------------------------------------


def test_listing_names_every_series_and_object(pet_ct_folder):
    entries = list_dicom_series(pet_ct_folder).series
    seen = {(e.number, e.modality, e.description, len(e.files), e.is_image) for e in entries}
    assert seen == {("2", "CT", "CT 3mm", 4, True), ("4", "PT", "PET WB", 3, True),
                    ("9", "RTSTRUCT", "lesions", 1, False), ("10", "SEG", "tumour", 1, False)}
    uids = {pydicom.dcmread(f).SeriesInstanceUID for f in pet_ct_folder.glob("pet_*")}
    assert [e.uid for e in entries if e.modality == "PT"] == list(uids)


def test_modality_picks_the_only_series_of_that_kind(pet_ct_folder, pet, ct_slices):
    volume = read_dicom_series(pet_ct_folder, modality="PT")
    assert volume.array.shape == (3, 168, 168) and volume.modality == "PT"
    np.testing.assert_array_equal(volume.array[1], raw_rescaled(pet))
    ct = read_dicom_series(pet_ct_folder, modality="CT")
    np.testing.assert_array_equal(ct.array, np.stack([raw_rescaled(d) for d in ct_slices]))
    assert {s["Modality"] for s in ct.metadata["dicom"]["other_series"]} == {"PT", "RTSTRUCT", "SEG"}


def test_several_image_series_without_a_choice_are_refused_with_the_list(pet_ct_folder):
    with pytest.raises(InputError) as caught:
        read_volume(pet_ct_folder)
    message = str(caught.value)
    assert "holds 2 image series; choose one with --series NUMBER|UID" in message
    for part in ("#2 CT 'CT 3mm' 4 files UID", "#4 PT 'PET WB' 3 files UID", "#9 RTSTRUCT 'lesions' 1 file not an image",
                 "#10 SEG 'tumour' 1 file not an image"):
        assert part in message
    assert "\n" not in message


def test_series_by_number_and_by_uid(pet_ct_folder):
    assert read_volume(pet_ct_folder, series="2").modality == "CT"
    assert read_volume(pet_ct_folder, series=4).modality == "PT"
    uid = pydicom.dcmread(next(pet_ct_folder.glob("ct_*"))).SeriesInstanceUID
    assert read_volume(pet_ct_folder, series=uid, modality="PT").modality == "CT"  # the named series wins


def test_unknown_series_and_non_image_series_are_refused(pet_ct_folder):
    with pytest.raises(InputError, match=r"has no series '7' \(SeriesNumber or SeriesInstanceUID\). Found: #2 CT"):
        read_volume(pet_ct_folder, series="7")
    with pytest.raises(InputError, match="Series '9' .* is a RTSTRUCT object, not an image series"):
        read_volume(pet_ct_folder, series="9")


def test_same_series_number_twice_asks_for_the_uid(tmp_path, pet):
    _pet_series(tmp_path / "a", pet, 3, "AC")
    _pet_series(tmp_path / "b", pet, 3, "NAC")
    with pytest.raises(InputError, match="2 PT series"):
        load_pet_as_suv(tmp_path)
    with pytest.raises(InputError, match="has 2 series numbered 3; pass the SeriesInstanceUID"):
        read_volume(tmp_path, series=3)
    uid = pydicom.dcmread(next((tmp_path / "b").iterdir())).SeriesInstanceUID
    assert read_volume(tmp_path, series=uid).metadata["dicom"]["SeriesDescription"] == "NAC"


def test_only_non_image_objects_are_refused_naming_them(tmp_path, pet):
    _rtstruct(tmp_path / "rs.dcm", pet)
    with pytest.raises(InputError, match=r"holds no DICOM image files \(1 file\(s\) checked, 4 folder levels down; it holds: #9 RTSTRUCT"):
        read_volume(tmp_path)


# --- trees ------------------------------------------------------------------------------------------------------


def test_patient_study_series_tree_is_searched(tmp_path, pet, ct_slices):
    patient = tmp_path / "patient"
    _pet_series(patient / "study" / "PET", pet, 4)
    write_slices(patient / "study" / "CT", ct_slices, SeriesNumber=2)
    _rtstruct(patient / "study" / "RTSTRUCT" / "rs.dcm", pet)
    volume = read_volume(patient, modality="PT")
    assert volume.array.shape == (3, 168, 168)
    np.testing.assert_array_equal(volume.array[2], raw_rescaled(pet))
    assert read_volume(patient / "study" / "CT").array.shape == (4, 512, 512)


def test_real_anonymised_ct_without_series_uid_beside_a_pet_folder(tmp_path, pet):
    """The real CT has an empty SeriesInstanceUID: its files still form one series (their folder's)."""
    import shutil

    from conftest import shared_data_path

    shutil.copytree(shared_data_path("ct-dicom-thorax"), tmp_path / "study" / "ct")
    _pet_series(tmp_path / "study" / "pet", pet, 4)
    assert read_volume(tmp_path / "study", modality="CT").array.shape == (20, 512, 512)
    assert read_volume(tmp_path / "study", modality="PT").array.shape == (3, 168, 168)


def test_search_stops_four_folders_down(tmp_path, pet):
    _pet_series(tmp_path / "near" / "1" / "2" / "3" / "4", pet, 1)
    assert read_volume(tmp_path / "near").array.shape == (3, 168, 168)
    _pet_series(tmp_path / "far" / "1" / "2" / "3" / "4" / "5", pet, 1)
    with pytest.raises(InputError, match=r"holds no DICOM image files \(0 file\(s\) checked, 4 folder levels down"):
        read_volume(tmp_path / "far")


def test_pacs_cd_with_dicomdir(tmp_path, pet):
    """A media export written by pydicom's FileSet: DICOMDIR plus PT000000/ST000000/SE000000/IM00000x."""
    from pydicom.fileset import FileSet

    source = _pet_series(tmp_path / "source", pet, 4)
    file_set = FileSet()
    for file in sorted(source.iterdir()):
        file_set.add(pydicom.dcmread(file))
    file_set.write(tmp_path / "cd")
    entries = list_dicom_series(tmp_path / "cd").series
    assert {(e.modality, e.is_image) for e in entries} == {("PT", True), ("DICOMDIR", False)}
    volume = read_volume(tmp_path / "cd")
    assert volume.array.shape == (3, 168, 168)
    np.testing.assert_array_equal(volume.array[0], raw_rescaled(pet))


# --- the CLI on such folders ------------------------------------------------------------------------------------


def _own_suv(pet) -> np.ndarray:
    """SUVbw of the real slice by hand (Units BQML, DecayCorrection START): series start 15:23:16.921,
    injection 14:17:00, so the dose decays over 3976.921 s."""
    drug = pet.RadiopharmaceuticalInformationSequence[0]
    assert (pet.SeriesTime[:6], drug.RadiopharmaceuticalStartTime[:6]) == ("152316", "141700")
    decayed = float(drug.RadionuclideTotalDose) * 0.5 ** (3976.921 / float(drug.RadionuclideHalfLife))
    return raw_rescaled(pet) * 1000 * float(pet.PatientWeight) / decayed


@pytest.fixture
def patient_with_pet_and_ct(tmp_path, pet, ct_slices):
    patient = tmp_path / "patient"
    _pet_series(patient / "study" / "PET", pet, 4)
    write_slices(patient / "study" / "CT", ct_slices, SeriesNumber=2)
    _rtstruct(patient / "study" / "RTSTRUCT" / "rs.dcm", pet)
    return patient


def test_cli_suv_on_a_patient_folder_picks_the_pet(tmp_path, patient_with_pet_and_ct, pet, capsys):
    output = tmp_path / "suv.nrrd"
    assert main(["suv", str(patient_with_pet_and_ct), "-o", str(output), "--json"]) == 0
    written = read_volume(output)
    assert written.array.shape == (3, 168, 168)
    np.testing.assert_allclose(written.array[1], _own_suv(pet), rtol=1e-5, atol=1e-6)
    assert json.loads(capsys.readouterr().out)["suv_max"] == pytest.approx(_own_suv(pet).max(), rel=1e-5)


def test_cli_mip_on_a_patient_folder_projects_the_pet(tmp_path, patient_with_pet_and_ct, pet):
    output = tmp_path / "mip.nrrd"
    assert main(["mip", str(patient_with_pet_and_ct), "-o", str(output), "--axis", "axial"]) == 0
    projection = read_volume(output)
    assert projection.spacing[:2] == pytest.approx((float(pet.PixelSpacing[1]), float(pet.PixelSpacing[0])))
    assert projection.array.shape == (1, 168, 168)  # the PET's matrix, not the CT's 512 x 512


def test_cli_two_pet_series_exit_2_with_both_listed_and_nothing_written(tmp_path, pet, capsys):
    _pet_series(tmp_path / "in" / "ac", pet, 5, "PET AC")
    _pet_series(tmp_path / "in" / "nac", pet, 6, "PET NAC")
    for command in ("suv", "mip"):
        output = tmp_path / f"{command}.nrrd"
        assert main([command, str(tmp_path / "in"), "-o", str(output)]) == 2
        error = capsys.readouterr().err
        assert error.count("\n") == 1 and error.startswith(f"medgansynth {command}: error: ")
        assert "holds 2 PT series; choose one with --series NUMBER|UID" in error
        assert "#5 PT 'PET AC' 3 files UID" in error and "#6 PT 'PET NAC' 3 files UID" in error
        assert not output.exists() and "Traceback" not in error
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]


def test_cli_virtual_pet_on_a_folder_of_pet_series_says_it_needs_the_ct(tmp_path, capsys):
    """The real ACRIN-FLT-Breast folder holds two single-file PET series and no CT: offering --series would only
    lead to a second refusal ("This is a PET, not a CT"), so the one line says what the command needs."""
    from conftest import shared_data_path

    output = tmp_path / "out"
    assert main(["virtual-pet", str(shared_data_path("pet-dicom-flt-breast")), "-o", str(output)]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "Traceback" not in error
    assert "holds 2 image series, none of them CT (they are PT); this needs the CT series" in error
    assert "--series" not in error and "#4 PT" in error and "#102 PT" in error
    assert not output.exists()


def test_cli_series_option_picks_one(tmp_path, pet, capsys):
    _pet_series(tmp_path / "in" / "ac", pet, 5, "PET AC", heights=(0.0, 5.0))
    _pet_series(tmp_path / "in" / "nac", pet, 6, "PET NAC")
    output = tmp_path / "suv.nrrd"
    assert main(["suv", str(tmp_path / "in"), "-o", str(output), "--series", "5"]) == 0
    written = read_volume(output)
    assert written.array.shape == (2, 168, 168)
    np.testing.assert_allclose(written.array[0], _own_suv(pet), rtol=1e-5, atol=1e-6)
    uid = pydicom.dcmread(next((tmp_path / "in" / "nac").iterdir())).SeriesInstanceUID
    assert main(["mip", str(tmp_path / "in"), "-o", str(tmp_path / "mip.nrrd"), "--series", uid]) == 0
    assert main(["resample", str(tmp_path / "in"), "-o", str(tmp_path / "r.nrrd"), "--series", "7"]) == 2
    assert "has no series '7'" in capsys.readouterr().err


# --- the Slicer Logic ----------------------------------------------------------------------------------------------


@pytest.mark.mrml
def test_logic_takes_the_same_series_choice(tmp_path, pet):
    from mrml_support import new_mrml_context, slicer

    from MedGANSynthLib.mrml.logic import MedGANSynthLogic

    logic = MedGANSynthLogic(new_mrml_context().scene)
    _pet_series(tmp_path / "in" / "ac", pet, 5, "PET AC", heights=(0.0, 5.0))
    _pet_series(tmp_path / "in" / "nac", pet, 6, "PET NAC")
    with pytest.raises(InputError, match="holds 2 PT series; choose one with --series"):
        logic.computeSUV(tmp_path / "in")
    node = logic.computeSUV(tmp_path / "in", series="6")
    suv = slicer.util.arrayFromVolume(node)
    assert suv.shape == (3, 168, 168)
    np.testing.assert_allclose(suv[2], _own_suv(pet), rtol=1e-5, atol=1e-6)
    assert slicer.util.arrayFromVolume(logic.computeSUV(tmp_path / "in", series="5")).shape == (2, 168, 168)


def test_cli_resampled_series_prints_one_warning_line(tmp_path, pet):
    """A PET with one slice missing: written on a uniform grid, one warning line on stderr naming the gap."""
    import subprocess
    import sys

    from conftest import REPO_ROOT

    _pet_series(tmp_path / "in", pet, 4, heights=(0.0, 5.0, 15.0, 20.0))
    output = tmp_path / "suv.nrrd"
    done = subprocess.run([sys.executable, "-m", "MedGANSynthLib", "suv", str(tmp_path / "in"), "-o", str(output)],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if "resampled onto a uniform grid" in line]
    assert len(lines) == 1 and "missing slice(s) at 10.00 mm along the normal" in lines[0]
    assert "Traceback" not in done.stderr
    written = read_volume(output)
    assert written.array.shape == (5, 168, 168) and written.spacing[2] == pytest.approx(5.0)
    assert "missing slice" in written.metadata["dicom"]["resampled"]


def test_cli_virtual_pet_on_a_patient_folder_reads_the_ct(tmp_path, patient_with_pet_and_ct, ct_slices):
    """virtual-pet needs the CT: picked from the PET + CT + RTSTRUCT tree, and the outputs lie on its grid."""
    from tiny_models import save_tiny_virtual_pet

    weights = save_tiny_virtual_pet(tmp_path / "model", working_pixel_mm=8.0)
    output = tmp_path / "out"
    assert main(["virtual-pet", str(patient_with_pet_and_ct), "-o", str(output), "--model", str(weights),
                 "--device", "cpu", "--no-pictures", "--no-fcn-gan-outputs"]) == 0
    virtual = read_volume(output / "virtual_pet.nrrd")
    assert virtual.array.shape == (4, 512, 512)
    np.testing.assert_allclose(virtual.origin, [float(v) for v in ct_slices[0].ImagePositionPatient], atol=1e-6)
