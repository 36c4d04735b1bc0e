"""Whole-body phantom generator versions 2-4: anatomy, composition, HU and SUV measured on generated images against
published ranges (MedGANSynthLib/phantoms/REFERENCE.md), determinism, options and the CLI. Where frozen versions 2
and 3 differ from a source, the check is a strict xfail for them and passes for version 4, which corrects them.

Expected numbers are the literature's (section keys of REFERENCE.md in the comments), never the generator's own
tables. Cases use 4-8 mm grids so that the whole file runs in well under a minute.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import ndimage

from MedGANSynthLib.cli.main import main
from MedGANSynthLib.errors import InputError
from MedGANSynthLib.phantoms.frame_v2 import ICRP89_ORGAN_MASS_G
from MedGANSynthLib.phantoms.tissues import LABEL, MUSCLE_LABELS, is_muscle
from MedGANSynthLib.phantoms.wholebody import WholeBodyConfig, make_wholebody_case

TINY = WholeBodyConfig().with_voxel_mm(8.0)
SMALL = WholeBodyConfig().with_voxel_mm(4.0)

FAT = [LABEL["subcutaneous_fat"], LABEL["visceral_fat"]]
BONE = [LABEL["cortical_bone"], LABEL["cancellous_bone"], LABEL["yellow_marrow"], LABEL["disc"]]
AIR = [LABEL["lung"], LABEL["airway"], LABEL["bowel_gas"]]
BOWEL = [LABEL[n] for n in ("bowel", "bowel_content", "bowel_gas", "colon", "colon_content")]


def _differs_before_v4(reason):
    """The ``cases`` of versions 2 and 3 as strict xfails stating the published difference, version 4's as a pass."""
    old = [pytest.param(v, marks=pytest.mark.xfail(strict=True, reason=reason), id=f"v{v}") for v in (2, 3)]
    return pytest.mark.parametrize("cases", [*old, pytest.param(4, id="v4")], indirect=True)


@pytest.fixture(scope="module", params=[2, 3, 4], ids=["v2", "v3", "v4"])
def cases(request):
    """Four subjects (seeds drawn to give two women, aged 52 and 78, BMI 24.6 and 32.4, and two men aged 39 and 59),
    arms up and down, one in the portal-venous phase; in versions 2, 3 and 4 (the same subjects, corrected)."""
    version = request.param
    return [
        make_wholebody_case(0, "normal", SMALL, version=version, arms="down"),
        make_wholebody_case(6, "lymphoma", SMALL, version=version, arms="up"),
        make_wholebody_case(8, "lung", SMALL, version=version, contrast="portal-venous"),
        make_wholebody_case(3, "normal", SMALL, version=version),
    ]


def _z(case):
    return case.ct.origin[2] + case.ct.spacing[2] * np.arange(case.ct.array.shape[0])


def _voxel_ml(case):
    return float(np.prod(case.ct.spacing)) / 1000.0


def _height_mm(case):
    return case.manifest["subject"]["height_cm"] * 10.0


# --- versions, options, determinism ---------------------------------------------------------------------
def test_versions_1_and_2_say_which_they_are():
    old = make_wholebody_case(3, "normal", TINY, version=1)
    new = make_wholebody_case(3, "normal", TINY, version=2)
    assert old.manifest["generator_version"] == 1 and old.manifest["generator"] == "wholebody-1"
    assert new.manifest["generator_version"] == 2 and new.manifest["generator"] == "wholebody-2"
    assert new.ct.same_grid(old.ct) and new.pet.same_grid(old.pet)  # same grids: drop-in replacement
    assert not np.array_equal(old.organs.array, new.organs.array)


def test_same_seed_same_case_and_different_seed_differs():
    first, again, other = (make_wholebody_case(s, "oesophagus", TINY, version=2) for s in (5, 5, 6))
    for name in ("ct", "pet", "organs", "lesions"):
        assert np.array_equal(getattr(first, name).array, getattr(again, name).array), name
    assert first.manifest == again.manifest
    assert not np.array_equal(first.organs.array, other.organs.array)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"version": 11}, "version"), ({"version": 1, "contrast": "portal-venous"}, "version 2"),
    ({"version": 1, "arms": "up"}, "version 2"), ({"version": 2, "contrast": "arterial"}, "contrast"),
    ({"version": 2, "arms": "sideways"}, "arm"),
])
def test_bad_options_are_clear_input_errors(kwargs, message):
    with pytest.raises(InputError, match=message):
        make_wholebody_case(1, "normal", TINY, **kwargs)


# --- anatomy --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("arms", ["down", "up"])
def test_arms_are_present_where_the_position_puts_them(arms):
    """Arm bones (humerus, radius, ulna) on both sides, far lateral to the trunk skeleton or the skull: beside
    the waist at elbow height (0.37 of stature below the vertex, Drillis & Contini) or beside the head."""
    case = make_wholebody_case(11, "normal", SMALL, version=2, arms=arms)
    bone = case.organs.array == LABEL["cortical_bone"]
    x = case.ct.origin[0] + case.ct.spacing[0] * np.arange(bone.shape[2])
    z, h = _z(case), _height_mm(case)
    rows = ((z < -0.34 * h) & (z > -0.40 * h)) if arms == "down" else ((z < -0.03 * h) & (z > -0.12 * h))
    lateral = np.abs(x) > 110.0  # beyond the lumbar transverse processes / the skull
    for side in (-1, 1):
        assert bone[rows][:, :, lateral & (x * side > 0)].sum() > 10, f"no arm bone on side {side}"
    other = ((z < -0.34 * h) & (z > -0.40 * h)) if arms == "up" else ((z < -0.03 * h) & (z > -0.12 * h))
    assert bone[other][:, :, lateral].sum() == 0  # and nothing there in the other position


def test_organ_volumes_match_icrp89_reference_masses(cases):
    """Organ volume = ICRP 89 mass (sex) / density × the subject's organ factor, within ±35 % (grid, shape)."""
    density = {"liver": 1.06, "spleen": 1.06, "kidney": 1.05, "pancreas": 1.05, "brain": 1.04}  # g/mL, §6 †
    parts = {"liver": ["liver"], "spleen": ["spleen"], "kidney": ["kidney", "renal_medulla"],
             "pancreas": ["pancreas"], "brain": ["grey_matter", "white_matter", "cerebellum"]}
    for case in cases:
        subject = case.manifest["subject"]
        for organ, names in parts.items():
            male, female = ICRP89_ORGAN_MASS_G[organ]
            count = 2 if organ == "kidney" else 1
            expected = count * (male if subject["sex"] == "M" else female) / density[organ]
            expected *= subject["organ_scale"][organ]
            measured = np.isin(case.organs.array, [LABEL[n] for n in names]).sum() * _voxel_ml(case)
            assert 0.65 * expected <= measured <= 1.35 * expected, (organ, measured, expected)


def _level_slab(case, low_frac, high_frac):
    z = _z(case)
    h = _height_mm(case)
    return (z <= -low_frac * h) & (z >= -high_frac * h)


def test_trunk_body_composition_within_ranges(cases):
    """Volume fractions of the trunk (acromion to greater trochanter, arms excluded) in REFERENCE.md §7 bands."""
    for case in cases:
        labels = case.organs.array[_level_slab(case, 0.19, 0.47)]
        trunk = _without_arms(labels)
        total = trunk.sum()
        fractions = {
            "fat": np.isin(labels, FAT)[trunk].sum() / total,
            "muscle": is_muscle(labels)[trunk].sum() / total,
            "bone": np.isin(labels, BONE)[trunk].sum() / total,
            "air": np.isin(labels, AIR)[trunk].sum() / total,
        }
        fractions["organ"] = 1.0 - sum(fractions.values())
        bmi = case.manifest["subject"]["bmi"]
        assert 0.10 <= fractions["fat"] <= 0.55, fractions
        assert fractions["fat"] > 0.15 or bmi < 22, fractions
        assert 0.18 <= fractions["muscle"] <= 0.50, fractions
        assert 0.03 <= fractions["bone"] <= 0.15, fractions
        assert 0.05 <= fractions["air"] <= 0.25, fractions
        assert 0.10 <= fractions["organ"] <= 0.40, fractions


def _without_arms(labels):
    """Body voxels connected to the trunk's centre column in each slice (drops arms that do not touch it)."""
    body = labels > 0
    keep = np.zeros_like(body)
    for k in range(body.shape[0]):
        parts, count = ndimage.label(body[k])
        if count == 0:
            continue
        centre = parts[:, body.shape[2] // 2]
        ids = np.unique(centre[centre > 0])
        keep[k] = np.isin(parts, ids)
    return keep


def test_l3_muscle_area_and_attenuation_above_healthy_cutoffs(cases):
    """At L3: skeletal muscle index and muscle HU at or above the healthy 5th percentiles (van der Werf 2018):
    SMI 41.6 (men) / 32.0 (women) cm²/m², muscle attenuation 29.3 / 22.0 HU; SMI below 80 cm²/m² (†)."""
    for case in cases:
        if case.manifest["contrast"] != "none":
            continue
        z_l3 = np.mean(case.manifest["landmarks"]["L3"])
        k = int(np.argmin(np.abs(_z(case) - z_l3)))
        labels = case.organs.array[k]
        trunk = _without_arms(labels[None])[0]
        muscle = is_muscle(labels) & trunk
        area_cm2 = muscle.sum() * case.ct.spacing[0] * case.ct.spacing[1] / 100.0
        smi = area_cm2 / (case.manifest["subject"]["height_cm"] / 100.0) ** 2
        male = case.manifest["subject"]["sex"] == "M"
        assert (41.6 if male else 32.0) <= smi <= 80.0, smi
        inner = ndimage.binary_erosion(muscle)
        assert case.ct.array[k][inner].mean() >= (29.3 if male else 22.0)


def test_psoas_left_and_right_are_symmetric(cases):
    """Psoas cross-sections at L4 beside the spine: equal areas (±15 %) and equal PET uptake (±15 %)."""
    for case in cases:
        z_l4 = np.mean(case.manifest["landmarks"]["L4"])
        k = int(np.argmin(np.abs(_z(case) - z_l4)))
        labels = case.organs.array[k]
        x = case.ct.origin[0] + case.ct.spacing[0] * np.arange(labels.shape[1])
        y = case.ct.origin[1] + case.ct.spacing[1] * np.arange(labels.shape[0])
        spine_y = case.manifest["landmarks"]["spine_y_L4"]
        near = (np.abs(y - spine_y)[:, None] < 45) & (np.abs(x)[None, :] < 90) & (np.abs(x)[None, :] > 15)
        muscle = is_muscle(labels) & near
        areas = [muscle[:, x * side > 0].sum() for side in (-1, 1)]
        assert min(areas) > 0 and max(areas) / min(areas) < 1.15, areas
        truth = case.pet_truth.array[k]
        uptake = [truth[:, x * side > 0][muscle[:, x * side > 0]].mean() for side in (-1, 1)]
        assert uptake[0] == pytest.approx(uptake[1], rel=0.15)


def test_bowel_fills_the_abdomen(cases):
    """Between L2 and L5, in front of the lumbar vertebral bodies (the peritoneal cavity; behind lie the
    retroperitoneal fat and muscles), the space is mostly bowel, not empty fat (issue 28)."""
    for case in cases:
        z = _z(case)
        y = case.ct.origin[1] + case.ct.spacing[1] * np.arange(case.ct.array.shape[1])
        top, bottom = case.manifest["landmarks"]["L2"][0], case.manifest["landmarks"]["L5"][1]
        front = y < case.manifest["landmarks"]["spine_y_L4"] - 10
        slab = case.organs.array[(z <= top) & (z >= bottom)][:, front]
        bowel = np.isin(slab, BOWEL).sum()
        free = (slab == LABEL["visceral_fat"]).sum()
        assert bowel / (bowel + free) >= 0.5, bowel / (bowel + free)


@pytest.mark.parametrize("lesion_class", ["head_neck", "oesophagus", "lung", "lymphoma"])
def test_lesions_sit_in_plausible_tissue(lesion_class):
    """The lesion classes of version 1 reused on the new anatomy: nodules in lung, the oesophageal primary on the
    oesophagus, nodes in soft tissue or fat - never mostly inside bone or air."""
    soft = [*MUSCLE_LABELS] + [LABEL[n] for n in ("subcutaneous_fat", "visceral_fat", "blood", "oesophagus", "tonsil",
                                                  "parotid", "liver", "spleen", "airway", "lung", "pancreas", "bowel",
                                                  "colon")]
    for seed in range(3):
        case = make_wholebody_case(seed, lesion_class, SMALL, version=2)
        assert case.manifest["lesions"]
        for lesion in case.manifest["lesions"]:
            hosts = case.organs.array[case.lesions.array == lesion["id"]]
            if hosts.size == 0:
                continue
            assert np.isin(hosts, BONE + [LABEL["bowel_gas"]]).mean() < 0.5, lesion
            if lesion["site"] == "lung":
                assert np.mean(hosts == LABEL["lung"]) > 0.5
            elif lesion["site"] == "oesophagus":
                assert np.any(hosts == LABEL["oesophagus"])
            else:
                assert np.isin(hosts, soft).mean() > 0.5, (lesion["site"], np.unique(hosts))


# --- CT -------------------------------------------------------------------------------------------------
def _label_ids(tissues):
    """Label ids of the tissues; "muscle" takes every muscle label (version 5 names muscle groups)."""
    return [i for t in tissues for i in (MUSCLE_LABELS if t == "muscle" else (LABEL[t],))]


def _inner(mask, iterations=1):
    return ndimage.binary_erosion(mask, iterations=iterations)


@pytest.mark.parametrize(("tissue", "low", "high"), [
    ("liver", 40.5, 76.1),  # 58.32 ± 8.91 HU, mean ± 2 SD (post-mortem CT 2019)
    ("spleen", 35.0, 55.0),  # radclass (Buzug 2008)
    ("kidney", 20.0, 40.0),  # radclass
    ("muscle", 40.0 - 8, 50.0 + 8),  # 40-50 HU (†), ± the noise's standard error allowance
    ("subcutaneous_fat", -100.0 - 8, -50.0),  # radclass fat -50..-100
    ("lung", -910.0 - 15, -850.0 + 25),  # radclass inspiration; + partial volume of vessels
    ("urine", 0.0, 32.0),  # bladder urine, culture-negative patients: median 12, range 0-32 (Int Urol Nephrol 2018)
])
def test_unenhanced_ct_numbers_within_published_ranges(cases, tissue, low, high):
    for case in cases:
        if tissue == "muscle" and _muscle_hu_by_age(case):
            continue  # drawn by age (women from version 3, men from 4): checked in test_phantoms_v2_composition.py
        _assert_unenhanced_mean_within(case, tissue, low, high)


def _muscle_hu_by_age(case):
    version, sex = case.manifest["generator_version"], case.manifest["subject"]["sex"]
    return version >= 4 or (version == 3 and sex == "F")


def _assert_unenhanced_mean_within(case, tissue, low, high) -> bool:
    """Mean HU of the eroded tissue (lesions left out) within [low, high] ± 3 HU; False when there is too little
    of it to measure (or the case is enhanced)."""
    if case.manifest["contrast"] != "none":
        return False
    mask = _inner(np.isin(case.organs.array, _label_ids([tissue]))) & (case.lesions.array == 0)
    values = case.ct.array[mask].astype(float)
    if values.size < 30:
        return False
    tolerance = 3.0  # HU: noise (standard error) and partial volume at the eroded mask's rim
    assert low - tolerance <= values.mean() <= high + tolerance, (tissue, values.mean())
    return True


@_differs_before_v4("known difference (REFERENCE.md §3, corrected in version 4): thyroid drawn at 80-120 HU in "
                    "versions 2 and 3, normal glands 118.1 ± 12.2; seed 6 draws 88")
def test_unenhanced_thyroid_within_normal_glands(cases):
    """Normal controls 118.1 ± 12.2 HU, mean ± 2 SD (Radiology 1983;147(3)); at least one gland large enough to
    measure."""
    measured = [_assert_unenhanced_mean_within(case, "thyroid", 118.1 - 2 * 12.2, 118.1 + 2 * 12.2) for case in cases]
    assert any(measured)


def test_portal_venous_phase_enhances_liver_and_vessels(cases):
    """Liver +56.2 ± 13.7 HU (Naruo 2007), adequate portal phase: liver ≥ +40 HU and aorta ≥ +80 HU over
    unenhanced (iodine-dose study, §3); spleen stays within 40 HU of the liver (†)."""
    case = next(c for c in cases if c.manifest["contrast"] == "portal-venous")
    hu, plain = case.manifest["organ_hu"], case.manifest["organ_hu_unenhanced"]
    liver = _inner(case.organs.array == LABEL["liver"]) & (case.lesions.array == 0)
    measured = case.ct.array[liver].mean()
    assert measured - plain["liver"] >= 30.0  # 56.2 - 2 × 13.7 ≈ 29 (Naruo 2007)
    assert 56.2 - 2 * 13.7 <= hu["liver"] - plain["liver"] <= 56.2 + 2 * 13.7
    assert hu["blood"] - plain["blood"] >= 80.0
    aorta = _inner(case.organs.array == LABEL["blood"])
    assert case.ct.array[aorta].mean() > plain["blood"] + 60  # partial volume of thin vessels allowed


def test_liver_metastases_are_hypodense_in_both_phases():
    for contrast in ("none", "portal-venous"):
        for seed in range(40):
            case = make_wholebody_case(seed, "oesophagus", SMALL, version=2, contrast=contrast)
            metastases = [les for les in case.manifest["lesions"] if les["site"] == "liver"]
            if metastases:
                break
        else:
            pytest.fail("no liver metastasis in 40 seeds")
        liver = case.manifest["organ_hu"]["liver"]
        assert all(les["hu"] < liver - 10 for les in metastases)  # ≥10 HU darker (Bressler 1987 †)


# --- PET ------------------------------------------------------------------------------------------------
def _organ_on_pet_grid(case, label_ids):
    index = []
    for axis in range(3):
        coords = case.pet.origin[axis] + case.pet.spacing[axis] * np.arange(case.pet.size[axis])
        nearest = np.rint((coords - case.ct.origin[axis]) / case.ct.spacing[axis]).astype(int)
        index.append(np.clip(nearest, 0, case.ct.size[axis] - 1))
    labels = case.organs.array[np.ix_(index[2], index[1], index[0])]
    return np.isin(labels, label_ids)


@pytest.mark.parametrize(("tissues", "low", "high"), [
    (["liver"], 1.4, 3.0),  # 2.2 ± 0.4, mean ± 2 SD (Boktor 2013); 1.85-1.89 (Liu 2019)
    (["muscle"], 0.5, 1.1),  # versions 2-3: their band 0.6-1.0 ± 0.1 (noise, partial volume); version 4: see below
    (["lung"], 0.35, 0.95),  # 0.5-0.6, dependent base 0.80 ± 0.23 (Eur J Nucl Med 1996)
    (["spleen"], 1.1, 2.6),  # 1.5-2.2, below liver (†) ± partial volume
    (["cerebellum"], 3.6, 12.4),  # 8.0 ± 2.2, ± 2 SD (Wang 2007)
])
def test_pet_organ_suv_within_published_ranges(cases, tissues, low, high):
    if tissues == ["muscle"] and cases[0].manifest["generator_version"] >= 4:
        # 14 muscles of 18 healthy men: lowest mean 0.46 - 2 SD to highest 0.68 + 2 SD, SD = SEM 0.02 x sqrt(18)
        # (Goncalves 2017, Table 1), ± 0.1 as above; the L3 muscles per man: test_phantoms_v2_composition.py
        low, high = 0.46 - 2 * 0.02 * np.sqrt(18) - 0.1, 0.68 + 2 * 0.02 * np.sqrt(18) + 0.1
    for case in cases:
        mask = _inner(_organ_on_pet_grid(case, _label_ids(tissues)))
        values = case.pet.array[mask]
        if values.size < 20:
            continue
        assert low <= values.mean() <= high, (tissues, values.mean())


@_differs_before_v4("known difference (REFERENCE.md §1, corrected in version 4): kidney cortex drawn at 2.5-3.5 in "
                    "versions 2 and 3, normal kidney 2.2 ± 0.3 in the controls of an RCC series; seeds 0 and 6 draw "
                    "3.1")
def test_kidney_parenchyma_suv_within_published_controls(cases):
    """Eroded renal cortex on the PET truth (before blur, so the urine in the pelves does not spill in) within
    the controls' mean ± 2 SD: 2.2 ± 0.3 (Clin Nucl Med 2015, PMC4890815; the abstract's SUV type not read)."""
    for case in cases:
        cortex = _inner(case.organs.array == LABEL["kidney"]) & (case.lesions.array == 0)
        value = float(case.pet_truth.array[cortex].mean())
        assert 2.2 - 2 * 0.3 <= value <= 2.2 + 2 * 0.3, value


# Lumbar (L2-L4) vertebral marrow SUVmean of healthy women by age group (Marrow-323): upper age bound -> (mean, SD);
# 30-39 y did not differ from 40-49 y, whose values stand for them; the study's ages were 30-78 y.
MARROW_323_WOMEN = {50: (1.75, 0.44), 60: (1.45, 0.32), 70: (1.45, 0.31), 80: (1.18, 0.17)}


@_differs_before_v4("known difference (REFERENCE.md §1, corrected in version 4): marrow drawn at 1.43 ± 0.27 at every "
                    "age in versions 2 and 3; women aged 70-79 1.18 ± 0.17 (mean + 2 SD = 1.52), seed 3 (78 y) "
                    "draws 1.64")
def test_women_lumbar_marrow_suv_within_their_age_group(cases):
    """Each woman's L2-L4 vertebral-body marrow on the PET truth within her age group's mean ± 2 SD (323 healthy
    adults; women aged 30-79 only, as studied)."""
    women = [c for c in cases if c.manifest["subject"]["sex"] == "F" and 30 <= c.manifest["subject"]["age_years"] < 80]
    assert len(women) >= 2
    for case in women:
        mean, sd = next(v for upper, v in MARROW_323_WOMEN.items() if case.manifest["subject"]["age_years"] < upper)
        z = _z(case)
        x = case.ct.origin[0] + case.ct.spacing[0] * np.arange(case.ct.array.shape[2])
        levels = (z <= case.manifest["landmarks"]["L2"][0]) & (z >= case.manifest["landmarks"]["L4"][1])
        marrow = (case.organs.array == LABEL["cancellous_bone"]) & (case.lesions.array == 0)
        marrow &= levels[:, None, None] & (np.abs(x) < 30)[None, None, :]  # vertebral bodies, not the iliac wings
        value = float(case.pet_truth.array[marrow].mean())
        assert mean - 2 * sd <= value <= mean + 2 * sd, (case.manifest["subject"]["age_years"], value)


@pytest.mark.parametrize("version", [
    pytest.param(v, marks=pytest.mark.xfail(strict=True, reason="known difference (REFERENCE.md, corrected in version "
                                            "4): diffuse splenic lymphoma is 1.1-1.5 x the version-1 table's liver "
                                            "(2.2), not the subject's; seed 5's liver is 3.0, its spleen 2.70"))
    for v in (2, 3)] + [4])
def test_diffuse_splenic_lymphoma_lies_above_the_subjects_liver(version):
    """Diffuse splenic involvement is uptake above the liver (Deauville 4: > liver, EJNMMI 2017;44); seed 5 (a woman
    with splenic involvement and a liver SUV of 3.0) on the PET truth, lesions left out."""
    case = make_wholebody_case(5, "lymphoma", TINY, version=version)
    assert any(lesion["site"] == "spleen" for lesion in case.manifest["lesions"])
    free = case.lesions.array == 0
    spleen = float(case.pet_truth.array[(case.organs.array == LABEL["spleen"]) & free].mean())
    liver = float(case.pet_truth.array[(case.organs.array == LABEL["liver"]) & free].mean())
    assert spleen > liver, (spleen, liver)


def test_stomach_wall_suv_within_published_gastric_regions(cases):
    """Stomach wall on the PET truth (thin, so not eroded and not blurred) within the gastric regions' band of 11
    patients without gastric disease: lower 1.34 ± 0.44 to upper 2.38 ± 1.03, lowest mean - 2 SD to highest
    mean + 2 SD (Koga et al., physiological FDG uptake pattern in the stomach)."""
    for case in cases:
        wall = (case.organs.array == LABEL["stomach"]) & (case.lesions.array == 0)
        value = float(case.pet_truth.array[wall].mean())
        assert 1.34 - 2 * 0.44 <= value <= 2.38 + 2 * 1.03, value


def test_physiological_uptake_pattern(cases):
    """Blood pool below liver (Deauville reference), marrow 1.41-1.46 ± 0.27 (CAMONA), urine in the renal
    pelves, ureters and bladder at least 4 and above blood (13.8 ± 10.3, JNM 2015), myocardium per subject."""
    for case in cases:
        suv = case.manifest["organ_suv"]
        assert suv["blood"] < suv["liver"]
        assert 0.9 <= suv["cancellous_bone"] <= 2.0
        assert suv["urine"] >= 4.0
        truth = case.pet_truth.array
        urine = case.organs.array == LABEL["urine"]
        assert truth[urine].mean() >= 4.0 - 1e-4 and truth[urine].mean() > suv["blood"]
        assert case.manifest["myocardium_state"] in {"suppressed", "partial", "hot"}
        if case.manifest["myocardium_state"] == "suppressed":
            assert suv["myocardium"] <= 0.75 * suv["blood"] + 1e-6


def test_pet_grid_is_clinical_and_noise_matches_liver_cov():
    case = make_wholebody_case(4, "normal", WholeBodyConfig().with_voxel_mm(3.0), version=2)
    assert case.pet.spacing[0] == pytest.approx(4.0)  # 4 mm PET voxels (§4: 2-4 mm usual)
    liver = ndimage.binary_erosion(_organ_on_pet_grid(case, [LABEL["liver"]]), iterations=2)
    values = case.pet.array[liver]
    assert values.size > 200
    assert values.std() / values.mean() == pytest.approx(case.manifest["pet_liver_cov"], rel=0.3)
    assert 0.10 <= case.manifest["pet_liver_cov"] <= 0.15  # §4


# --- CLI ------------------------------------------------------------------------------------------------
def test_cli_writes_version_2_cases(tmp_path):
    out = tmp_path / "v2"
    code = main(["phantoms", "-o", str(out), "--count", "1", "--seed", "3", "--classes", "lung", "--voxel-mm", "12",
                 "--phantom-version", "2", "--contrast", "portal-venous", "--arms", "up"])
    assert code == 0
    manifest = json.loads(next(out.glob("*/manifest.json")).read_text())
    assert manifest["generator_version"] == 2 and manifest["contrast"] == "portal-venous"
    assert manifest["subject"]["arms"] == "up"


@pytest.mark.parametrize("argv", [
    ["--phantom-version", "1", "--contrast", "portal-venous"], ["--phantom-version", "11"],
    ["--phantom-version", "2", "--arms", "left"],
    ["--kind", "brain", "--phantom-version", "2"],
])
def test_cli_rejects_bad_version_options(tmp_path, capsys, argv):
    assert main(["phantoms", "-o", str(tmp_path / "x"), *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert err and "\n" not in err and "Traceback" not in err
    assert not (tmp_path / "x").exists()
