"""Paired CT/PET case discovery and loading: phantom folders, autoPET layout, CSV manifests, SUV, alignment."""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.io.volume_io import write_volume
from MedGANSynthLib.phantoms.wholebody import WholeBodyConfig, make_wholebody_case
from MedGANSynthLib.phantoms.writer import write_case
from MedGANSynthLib.virtual_pet.cases import discover_cases, load_case
from MedGANSynthLib.volume import Volume


@pytest.fixture(scope="module")
def phantom_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("phantoms")
    config = WholeBodyConfig().with_voxel_mm(8.0)
    for number, (seed, label) in enumerate(((3, "lymphoma"), (4, "lung"))):
        write_case(make_wholebody_case(seed, label, config, version=1), root / f"wholebody_{number:04d}_{label}")
    return root


def _small_ct(origin=(0.0, 0.0, 0.0)) -> Volume:
    hu = np.full((6, 10, 12), -1000.0, np.float32)
    hu[:, 2:8, 2:10] = 40.0
    hu[:, 4:6, 5:7] = 700.0
    return Volume(hu, spacing=(2.0, 2.0, 3.0), origin=origin, modality="CT", units="HU")


def test_phantom_folder_is_found_and_pet_is_resampled_onto_the_ct_grid(phantom_root):
    cases = discover_cases(phantom_root)
    assert [case.case_id for case in cases] == ["wholebody_0000_lymphoma", "wholebody_0001_lung"]
    assert cases[0].ct_path.name == "ct.nrrd" and cases[0].pet_path.name == "pet.nrrd"
    assert cases[0].lesions_path.name == "lesions.nrrd"

    loaded = load_case(cases[0])
    assert loaded.suv.same_grid(loaded.ct) and loaded.lesions.same_grid(loaded.ct)
    assert loaded.suv.units == "SUV"
    # Independent reference: SimpleITK's own linear resampling of the PET file onto the CT file's grid.
    ct_image = sitk.ReadImage(str(cases[0].ct_path))
    pet_image = sitk.Cast(sitk.ReadImage(str(cases[0].pet_path)), sitk.sitkFloat32)
    expected = sitk.GetArrayFromImage(sitk.Resample(pet_image, ct_image, sitk.Transform(), sitk.sitkLinear, 0.0))
    np.testing.assert_allclose(loaded.suv.array, expected, rtol=1e-5, atol=1e-5)
    lesions = sitk.GetArrayFromImage(sitk.ReadImage(str(cases[0].lesions_path)))
    np.testing.assert_array_equal(loaded.lesions.array, lesions)


def test_autopet_layout_is_read_as_is_and_its_suv_pair_wins(tmp_path):
    study = tmp_path / "PETCT_0a1b" / "03-11-2002-NA-PET-CT"
    ct = _small_ct()
    suv = ct.with_array(np.where(ct.array > 0, 2.0, 0.1).astype(np.float32), modality="PT", units="")
    seg = ct.with_array((ct.array > 500).astype(np.uint8), modality="", units="")
    for name, volume in (("CTres", ct), ("SUV", suv), ("SEG", seg), ("CT", ct), ("PET", suv)):
        write_volume(volume, study / f"{name}.nii.gz")
    (case,) = discover_cases(tmp_path)
    assert (case.ct_path.name, case.pet_path.name, case.lesions_path.name) == ("CTres.nii.gz", "SUV.nii.gz",
                                                                                 "SEG.nii.gz")
    assert case.case_id == "PETCT_0a1b_03-11-2002-NA-PET-CT"
    loaded = load_case(case)
    np.testing.assert_allclose(loaded.suv.array, suv.array)  # SUV.nii.gz is taken as SUV by its name
    assert loaded.lesions.array.sum() == 2 * 2 * 6


def test_csv_manifest_with_relative_paths_and_bq_per_ml_pet(tmp_path):
    ct = _small_ct()
    bqml = ct.with_array(np.where(ct.array > 0, 5000.0, 100.0).astype(np.float32), modality="", units="")
    write_volume(ct, tmp_path / "a" / "scan_ct.nii.gz")
    write_volume(bqml, tmp_path / "a" / "scan_pet.nii.gz")
    manifest = tmp_path / "cases.csv"
    manifest.write_text("case_id,ct,pet,weight_kg,dose_mbq,injection_time,scan_time\n"
                        "p1,a/scan_ct.nii.gz,a/scan_pet.nii.gz,70,350,10:00:00,11:00:00\n")
    (case,) = discover_cases(manifest)
    assert case.case_id == "p1" and case.ct_path == tmp_path / "a" / "scan_ct.nii.gz"
    loaded = load_case(case)
    # SUVbw = C [Bq/ml] * weight [g] / (dose [Bq] * 2^(-t / T1/2)), F-18 half-life 6586.2 s, t = 3600 s.
    scale = 70_000.0 / (350e6 * 2.0 ** (-3600.0 / 6586.2))
    np.testing.assert_allclose(loaded.suv.array, bqml.array * scale, rtol=1e-5)


def test_pet_without_suv_information_is_refused_in_one_line(tmp_path):
    ct = _small_ct()
    write_volume(ct, tmp_path / "c1" / "ct.nii.gz")
    write_volume(ct.with_array(np.ones_like(ct.array), modality="", units=""), tmp_path / "c1" / "pet.nii.gz")
    (case,) = discover_cases(tmp_path)
    with pytest.raises(InputError, match="does not say it holds SUV") as error:
        load_case(case)
    assert "\n" not in str(error.value)


def test_missing_pairs_and_bad_manifests_give_one_clear_line(tmp_path):
    write_volume(_small_ct(), tmp_path / "only_ct" / "ct.nii.gz")
    with pytest.raises(InputError, match="has a CT but no PET"):
        discover_cases(tmp_path)
    with pytest.raises(InputError, match="does not exist"):
        discover_cases(tmp_path / "nowhere")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError, match="No CT \\+ PET pairs"):
        discover_cases(empty)
    bad = tmp_path / "bad.csv"
    bad.write_text("image,label\nx,1\n")
    with pytest.raises(InputError, match="columns ct,pet"):
        discover_cases(bad)
    missing = tmp_path / "missing.csv"
    missing.write_text("ct,pet\nonly_ct/ct.nii.gz,only_ct/pet.nii.gz\n")
    with pytest.raises(InputError, match="line 2: pet file"):
        discover_cases(missing)


def test_a_pet_given_as_the_ct_of_a_case_is_refused(phantom_root, tmp_path):
    manifest = tmp_path / "swapped.csv"
    case = phantom_root / "wholebody_0000_lymphoma"
    manifest.write_text(f"ct,pet\n{case / 'pet.nrrd'},{case / 'ct.nrrd'}\n")
    with pytest.raises(InputError, match="not a CT"):
        load_case(discover_cases(manifest)[0])


def test_pet_and_ct_that_do_not_overlap_are_refused(tmp_path):
    ct = _small_ct()
    far = _small_ct(origin=(5000.0, 0.0, 0.0))
    write_volume(ct, tmp_path / "c" / "ct.nii.gz")
    write_volume(far.with_array(np.ones_like(far.array), modality="PT", units="SUV"), tmp_path / "c" / "pet.nrrd")
    with pytest.raises(InputError, match="do not overlap"):
        load_case(discover_cases(tmp_path)[0])


def test_manifest_suv_columns_keep_a_dicom_pet_s_own_half_life(tmp_path):
    """The real PET slice relabelled Ga-68 (RadionuclideHalfLife 4062.6 s, no radionuclide code), listed with a
    weight_kg column: its header's half-life decays the dose, not F-18's (the manifest's default for plain files)."""
    import pydicom
    from conftest import shared_data_path
    from dicom_variants import raw_rescaled

    from MedGANSynthLib.virtual_pet.cases import read_pet_as_suv

    pet = pydicom.dcmread(shared_data_path("pet-dicom-flt-breast", "1.dcm"))
    drug = pet.RadiopharmaceuticalInformationSequence[0]
    drug.RadionuclideHalfLife = 4062.6
    del drug.RadionuclideCodeSequence
    pet.save_as(tmp_path / "pet.dcm")
    write_volume(_small_ct(), tmp_path / "ct.nii.gz")
    manifest = tmp_path / "cases.csv"
    manifest.write_text("ct,pet,weight_kg\nct.nii.gz,pet.dcm,80\n")
    (case,) = discover_cases(manifest)
    suv = read_pet_as_suv(case)
    # DecayCorrection START: the series starts 15:23:16.921, the injection was 14:17:00, so 3976.921 s of decay.
    expected = raw_rescaled(pet) * 80_000.0 / (float(drug.RadionuclideTotalDose) * 0.5 ** (3976.921 / 4062.6))
    np.testing.assert_allclose(suv.array[0], expected, rtol=1e-5)
