"""Whole-body PET/CT phantom: determinism, ground-truth consistency, HU/SUV against the literature, PSF, grids.

Tiny grids (8 mm CT voxels) keep each case well under a second. Expected numbers come from
PHANTOM_REFERENCE.md ranges or from independent arithmetic, never from the generator's own tables alone.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.phantoms.lesions import LESION_CLASSES
from MedGANSynthLib.phantoms.tissues import LABEL, TISSUE_BY_NAME
from MedGANSynthLib.phantoms.wholebody import WholeBodyConfig, make_wholebody_case, scanner_blur

TINY = WholeBodyConfig().with_voxel_mm(8.0)


@pytest.fixture(scope="module")
def cases():
    return {name: make_wholebody_case(21, name, TINY, version=1) for name in LESION_CLASSES}


def test_same_seed_same_arrays_and_different_seed_differs():
    first, again, other = (make_wholebody_case(s, "lymphoma", TINY, version=1) for s in (5, 5, 6))
    for name in ("ct", "pet", "organs", "lesions"):
        assert np.array_equal(getattr(first, name).array, getattr(again, name).array), name
    assert first.manifest == again.manifest
    assert not np.array_equal(first.pet.array, other.pet.array)
    assert not np.array_equal(first.organs.array, other.organs.array)


def test_unknown_class_is_a_clear_input_error():
    with pytest.raises(InputError, match="lesion class"):
        make_wholebody_case(1, "melanoma", TINY, version=1)


@pytest.mark.parametrize("lesion_class", LESION_CLASSES)
def test_lesion_map_and_manifest_agree(cases, lesion_class):
    case = cases[lesion_class]
    listed = {lesion["id"] for lesion in case.manifest["lesions"]}
    painted = set(np.unique(case.lesions.array)) - {0}
    assert painted == listed
    if lesion_class == "normal":
        assert listed == set()
    else:
        assert listed
    for lesion in case.manifest["lesions"]:
        assert lesion["class"] == lesion_class
        assert 2.5 <= lesion["suv_max"] <= 20.0  # §2 range used by the generator
        inside = case.pet_truth.array[case.lesions.array == lesion["id"]]
        assert inside.max() == pytest.approx(lesion["suv_max"], abs=1e-3)


def test_grids_carry_geometry(cases):
    case = cases["lung"]
    assert case.organs.same_grid(case.ct) and case.lesions.same_grid(case.ct)
    assert case.ct.array.dtype == np.int16 and case.ct.units == "HU" and case.pet.units == "SUV"
    assert case.pet.spacing != case.ct.spacing and case.pet.origin != case.ct.origin
    assert float(case.pet.array.min()) >= 0.0


def _physical_box(volume, mask):
    index = np.argwhere(mask)  # (k, j, i)
    low = np.asarray(volume.origin) + np.asarray(volume.spacing) * index.min(axis=0)[::-1]
    high = np.asarray(volume.origin) + np.asarray(volume.spacing) * index.max(axis=0)[::-1]
    return low, high


def test_pet_and_ct_cover_the_same_body(cases):
    case = cases["normal"]
    body_low, body_high = _physical_box(case.ct, case.organs.array > 0)
    pet_low, pet_high = _physical_box(case.pet, case.pet.array > 0.25)
    overlap = np.minimum(body_high, pet_high) - np.maximum(body_low, pet_low)
    assert np.all(overlap > 0.9 * (body_high - body_low) - 2 * np.asarray(case.pet.spacing))


def _organ_mask_on_pet_grid(case, label):
    """Nearest CT-grid organ label at each PET voxel centre (identity directions: per-axis arithmetic)."""
    masks = []
    for axis in range(3):
        pet_coords = case.pet.origin[axis] + case.pet.spacing[axis] * np.arange(case.pet.size[axis])
        index = np.rint((pet_coords - case.ct.origin[axis]) / case.ct.spacing[axis]).astype(int)
        masks.append(np.clip(index, 0, case.ct.size[axis] - 1))
    labels = case.organs.array[np.ix_(masks[2], masks[1], masks[0])]
    return labels == label


def test_liver_suv_and_noise_match_literature():
    config = WholeBodyConfig().with_voxel_mm(5.0)
    case = make_wholebody_case(3, "normal", config, version=1)
    liver = ndimage.binary_erosion(_organ_mask_on_pet_grid(case, LABEL["liver"]), iterations=2)
    values = case.pet.array[liver]
    assert values.size > 300
    expected = case.manifest["organ_suv"]["liver"]
    assert 1.4 <= expected <= 3.0  # §1: 2.2±0.4 (Boktor), 1.9±0.4 (Liu)
    assert values.mean() == pytest.approx(expected, rel=0.04)
    cov = values.std() / values.mean()
    assert 0.10 <= case.manifest["pet_liver_cov"] <= 0.15  # §4 liver CoV 10-15 %
    assert cov == pytest.approx(case.manifest["pet_liver_cov"], rel=0.25)
    blood = case.manifest["organ_suv"]["blood"]
    assert blood < expected  # liver above blood pool (Deauville 3 reference)


@pytest.mark.parametrize(
    ("tissue", "low", "high"),
    [("liver", 49, 67), ("spleen", 35, 55), ("kidney", 20, 40), ("muscle", 10, 50), ("lung", -910, -850),
     ("visceral_fat", -100, -50)],
)
def test_ct_hu_of_organs(cases, tissue, low, high):
    """Mean HU over the organ (lesions excluded) is the table value within noise, inside the §3 range."""
    case = cases["normal"]
    mask = (case.organs.array == LABEL[tissue]) & (case.lesions.array == 0)
    values = case.ct.array[mask].astype(float)
    assert values.size > 100
    standard_error = values.std() / np.sqrt(values.size)
    assert abs(values.mean() - TISSUE_BY_NAME[tissue].hu_mean) < 4 * standard_error + 3.0
    assert low <= values.mean() <= high
    assert 5.0 < values.std() < 80.0  # noise + texture present, not a flat fill


def test_ct_noise_is_low_dose_level():
    """Without texture a uniform organ holds only scanner noise: SD as in the manifest, within §3's 15-40 HU."""
    case = make_wholebody_case(4, "normal", WholeBodyConfig(ct_texture=False).with_voxel_mm(8.0), version=1)
    liver = case.ct.array[case.organs.array == LABEL["liver"]].astype(float)
    assert liver.std() == pytest.approx(case.manifest["ct_noise_sd_hu"], rel=0.1)
    assert 15 <= case.manifest["ct_noise_sd_hu"] <= 40
    air = case.ct.array[:, :3, :].astype(float)  # in front of the patient
    assert abs(np.median(air) + 1000) < 5


def _half_max_width(profile, spacing):
    peak = int(np.argmax(profile))
    half = profile[peak] / 2.0
    left = peak - np.argmax(profile[peak::-1] < half)
    right = peak + np.argmax(profile[peak:] < half)
    # linear interpolation of the two crossings
    x_left = left + (half - profile[left]) / (profile[left + 1] - profile[left])
    x_right = right - 1 + (profile[right - 1] - half) / (profile[right - 1] - profile[right])
    return (x_right - x_left) * spacing


@pytest.mark.parametrize("fwhm", [5.0, 6.0, 7.8])
def test_point_source_has_configured_fwhm(fwhm):
    spacing = (1.0, 1.25, 2.0)  # (i, j, k) mm, anisotropic on purpose
    point = np.zeros((41, 61, 61), dtype=np.float32)
    point[20, 30, 30] = 1.0
    blurred = scanner_blur(point, spacing, fwhm)
    assert blurred.sum() == pytest.approx(1.0, rel=1e-3)
    for axis_kji, step in ((2, spacing[0]), (1, spacing[1]), (0, spacing[2])):
        centre = list((20, 30, 30))
        centre[axis_kji] = slice(None)
        profile = blurred[tuple(centre)]
        coords = (np.arange(profile.size) - np.argmax(profile)) * step
        second_moment_fwhm = 2.3548 * np.sqrt(np.sum(coords**2 * profile) / profile.sum())
        assert second_moment_fwhm == pytest.approx(fwhm, rel=0.03)
        if step <= 1.25:  # half-max crossings need a few samples across the peak
            assert _half_max_width(profile, step) == pytest.approx(fwhm, rel=0.05)


def _lesion_host_labels(case, lesion_id):
    return case.organs.array[case.lesions.array == lesion_id]


def _depth_fraction(case, centre_mm):
    return -centre_mm[2] / (case.manifest["subject"]["height_cm"] * 10.0)


def test_lesions_sit_in_the_right_regions():
    for seed in range(3):
        lung = make_wholebody_case(seed, "lung", TINY, version=1)
        nodules = [les for les in lung.manifest["lesions"] if les["site"] == "lung"]
        assert len(nodules) == 1
        hosts = _lesion_host_labels(lung, nodules[0]["id"])
        assert np.mean(hosts == LABEL["lung"]) > 0.5
        for lesion in lung.manifest["lesions"]:
            assert 0.18 <= _depth_fraction(lung, lesion["centre_mm"]) <= 0.45  # chest or upper abdomen

        neck = make_wholebody_case(seed, "head_neck", TINY, version=1)
        for lesion in neck.manifest["lesions"]:
            assert lesion["site"] in {"pharynx", "cervical_node"}
            assert 0.07 <= _depth_fraction(neck, lesion["centre_mm"]) <= 0.19  # skull base to thoracic inlet

        oes = make_wholebody_case(seed, "oesophagus", TINY, version=1)
        primary = [les for les in oes.manifest["lesions"] if les["site"] == "oesophagus"]
        assert len(primary) == 1
        assert np.any(_lesion_host_labels(oes, primary[0]["id"]) == LABEL["oesophagus"])
        assert 0.25 <= _depth_fraction(oes, primary[0]["centre_mm"]) <= 0.36  # behind the heart

        lymphoma = make_wholebody_case(seed, "lymphoma", TINY, version=1)
        sites = {les["site"] for les in lymphoma.manifest["lesions"]}
        assert sites <= {"cervical_node", "axillary_node", "mediastinal_node", "para_aortic_node", "inguinal_node",
                         "spleen"}
        assert len(lymphoma.manifest["lesions"]) >= 2


def test_ct_appearance_of_lesions():
    """Lung nodules are soft tissue in air-filled lung; liver lesions only 10-30 HU below the liver (§3)."""
    lung = make_wholebody_case(0, "lung", WholeBodyConfig(noise=False).with_voxel_mm(8.0), version=1)
    nodule = next(les for les in lung.manifest["lesions"] if les["site"] == "lung")
    assert lung.ct.array[lung.lesions.array == nodule["id"]].mean() > -50
    found = False
    for seed in range(60):
        case = make_wholebody_case(seed, "oesophagus", WholeBodyConfig(noise=False).with_voxel_mm(8.0), version=1)
        liver_lesions = [les for les in case.manifest["lesions"] if les["site"] == "liver"]
        if not liver_lesions:
            continue
        found = True
        liver = (case.organs.array == LABEL["liver"]) & (case.lesions.array == 0)
        drop = case.ct.array[liver].mean() - case.ct.array[case.lesions.array == liver_lesions[0]["id"]].mean()
        assert 5 <= drop <= 35
        break
    assert found, "no oesophagus case with a liver metastasis in 60 seeds"


def test_subject_physiology_within_literature(cases):
    for case in cases.values():
        suv = case.manifest["organ_suv"]
        assert suv["spleen"] < suv["liver"] or case.manifest["class"] == "lymphoma"
        assert 8.0 <= suv["grey_matter"] <= 12.0 and 2.5 <= suv["grey_matter"] / suv["white_matter"] <= 3.0
        assert suv["urine"] >= 4.0
        assert case.manifest["myocardium_state"] in {"suppressed", "partial", "hot"}
        assert 50 <= case.manifest["uptake_minutes"] <= 75
        subject = case.manifest["subject"]
        assert 140 <= subject["height_cm"] <= 200 and 18 <= subject["bmi"] <= 36
