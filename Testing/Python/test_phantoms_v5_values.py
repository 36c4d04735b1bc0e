"""Version 5's values (REFERENCE.md, "Version 5: values and endometrium"): the two contrast phases of a seed draw the
same subject, and women have an endometrium whose uptake follows their menstrual state.

Phases: every SUV and unenhanced HU of the "none" and "portal-venous" cases of one seed agree, the label, lesion
and PET truth volumes are equal and so is the PET (default noise); what legitimately differs is the enhancement
(organs' HU, and the share of its organ's enhancement a liver or spleen lesion takes up), the CT noise level and
so the CT. Versions 2-4 drew the enhancement before their corrections, so their phases differ beyond it: version 4
is a strict xfail.

Endometrium: the numbers are typed from the sources REFERENCE.md cites, never imported from the generator.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from MedGANSynthLib.phantoms.endometrium_v5 import draw_endometrium
from MedGANSynthLib.phantoms.tissues import LABEL
from MedGANSynthLib.phantoms.wholebody import WholeBodyConfig, make_wholebody_case

PHASES = ("none", "portal-venous")
COARSE = WholeBodyConfig().with_voxel_mm(8.0)
GRID = WholeBodyConfig().with_voxel_mm(4.0)
# (seed, class): women of 44 and 78, men of 73 and 42, and a woman of 52 with lymphoma in the spleen (two deposits:
# the second lesion's HU is drawn after the first's enhancement share)
PHASE_CASES = ((0, "normal"), (3, "normal"), (10, "normal"), (24, "lung"), (7, "lymphoma"))
ARRAYS = ("organs", "lesions", "pet_truth", "pet")
METASTASIS_PV_SHARE = (0.2, 0.5)  # share of the organ's enhancement a hypovascular lesion takes up (REFERENCE.md †)

# [Endometrium-FDG-2004], endometrial SUV mean ± SD by menstrual phase and after menopause
ENDOMETRIUM_SUV = {"menstrual": (5.0, 3.2), "proliferative": (2.6, 1.1), "ovulatory": (3.7, 0.9),
                   "secretory": (2.5, 1.1), "postmenopausal": (1.7, 0.5)}
MENOPAUSE_MEDIAN_AGE = 51.3  # [Menopause-MWHS-1992]
# [Cycle-pooled-2020] medians: menses 6 d, follicular phase 17 d (its last day the ovulation), luteal 12 d; the
# ovulatory phase ovulation ± 1 d (†): menstrual 6, proliferative 17 - 6 - 2 = 9, ovulatory 3, secretory 12 - 1 = 11
PHASE_DAYS = {"menstrual": 6, "proliferative": 9, "ovulatory": 3, "secretory": 11}
WOMEN_SEEDS = (0, 2, 3, 4, 7, 19, 20, 23)  # women of 44, 38, 78, 51, 52, 30, 27 and 48
MEN_SEEDS = (10, 24)


V4_DIFFERS = pytest.param(4, marks=pytest.mark.xfail(strict=True, reason=(
    "known difference (REFERENCE.md, 'Version 5: values and endometrium'): version 4 draws the enhancement before "
    "its corrections, so a woman's muscle HU, the thyroid HU and the muscle, fat, kidney and marrow SUV of a seed "
    "differ between its phases")), id="v4")


@pytest.fixture(scope="module")
def phase_pairs(request):
    """(unenhanced, portal-venous) cases of each of PHASE_CASES in the requested version."""
    return [tuple(make_wholebody_case(seed, lesion_class, COARSE, version=request.param, contrast=contrast)
                  for contrast in PHASES) for seed, lesion_class in PHASE_CASES]


@pytest.mark.parametrize("phase_pairs", [V4_DIFFERS, pytest.param(5, id="v5")], indirect=True)
def test_both_phases_of_a_seed_draw_the_same_subject(phase_pairs):
    for plain, enhanced in phase_pairs:
        seed = plain.manifest["seed"]
        assert plain.manifest["subject"] == enhanced.manifest["subject"], seed
        assert plain.manifest["organ_suv"] == enhanced.manifest["organ_suv"], seed
        assert plain.manifest["organ_hu_unenhanced"] == enhanced.manifest["organ_hu_unenhanced"], seed
        assert plain.manifest["organ_hu"] == plain.manifest["organ_hu_unenhanced"], seed  # no enhancement
        for name in ARRAYS:
            assert np.array_equal(getattr(plain, name).array, getattr(enhanced, name).array), (seed, name)


@pytest.mark.parametrize("phase_pairs", [pytest.param(5, id="v5")], indirect=True)
def test_lesions_differ_between_phases_only_by_their_share_of_the_enhancement(phase_pairs):
    """Every lesion field agrees except the HU of a liver or spleen lesion, which in the portal-venous phase is its
    unenhanced HU (the "none" case's) plus 0.2-0.5 of its organ's enhancement."""
    organ_lesions = 0
    for plain, enhanced in phase_pairs:
        for before, after in zip(plain.manifest["lesions"], enhanced.manifest["lesions"], strict=True):
            assert {k: v for k, v in before.items() if k != "hu"} == {k: v for k, v in after.items() if k != "hu"}
            site = before["site"]
            if site not in ("liver", "spleen"):
                assert before["hu"] == after["hu"]
                continue
            organ_lesions += 1
            enhancement = enhanced.manifest["organ_hu"][site] - enhanced.manifest["organ_hu_unenhanced"][site]
            share = (after["hu"] - before["hu"]) / enhancement
            assert METASTASIS_PV_SHARE[0] - 1e-3 <= share <= METASTASIS_PV_SHARE[1] + 1e-3, (site, share)
    assert organ_lesions >= 2  # the lymphoma case's two splenic deposits


@pytest.fixture(scope="module")
def women():
    return [make_wholebody_case(seed, "normal", GRID, version=5) for seed in WOMEN_SEEDS]


def test_the_endometrium_lies_inside_the_uterus(women):
    """Present in every woman, and every voxel next to it (face neighbours) is uterus or endometrium."""
    for case in women:
        organs = case.organs.array
        endometrium = organs == LABEL["endometrium"]
        assert endometrium.sum() >= 4, case.manifest["seed"]
        rim = ndimage.binary_dilation(endometrium) & ~endometrium
        assert set(np.unique(organs[rim])) <= {LABEL["uterus"]}, case.manifest["seed"]


def test_endometrial_uptake_follows_age_and_menstrual_phase(women):
    """On the PET truth, the endometrium eroded within its own plane (left-right and head-foot: the layer is thin
    front to back) takes the SUV of the woman's group, within its published mean ± 2 SD (floor 0.7 †); women from
    51.3 y are postmenopausal and younger ones in one of the four phases."""
    in_plane = np.zeros((3, 3, 3), bool)
    in_plane[:, 1, :] = ndimage.generate_binary_structure(2, 1)
    statuses = set()
    for case in women:
        age, status = case.manifest["subject"]["age_years"], case.manifest["endometrium"]["status"]
        assert (status == "postmenopausal") == (age >= MENOPAUSE_MEDIAN_AGE), (age, status)
        statuses.add(status)
        core = ndimage.binary_erosion(case.organs.array == LABEL["endometrium"], in_plane)
        assert core.any(), case.manifest["seed"]
        suv = case.pet_truth.array[core]
        mean, sd = ENDOMETRIUM_SUV[status]
        assert max(mean - 2 * sd, 0.7) - 1e-4 <= suv.min() and suv.max() <= mean + 2 * sd + 1e-4, (status, suv.mean())
    assert "postmenopausal" in statuses and len(statuses) >= 3  # both groups and more than one phase were drawn


def test_men_have_no_endometrium():
    for seed in MEN_SEEDS:
        case = make_wholebody_case(seed, "normal", COARSE, version=5)
        assert case.manifest["subject"]["sex"] == "M"
        assert not (case.organs.array == LABEL["endometrium"]).any()
        assert case.manifest["endometrium"] is None and "endometrium" not in case.manifest["organ_suv"]


def test_phase_frequencies_follow_the_cycle_and_postmenopausal_women_never_cycle():
    """20,000 women of 30 y: each phase as often as its share of the 29-day cycle (± 0.015, about 5 standard
    errors); 2,000 women of 51.3-80 y are all postmenopausal; every SUV inside its group's band."""
    rng = np.random.default_rng(2025)
    young = [draw_endometrium(rng, 30.0) for _ in range(20000)]
    counts = {phase: sum(state.status == phase for state in young) / len(young) for phase in PHASE_DAYS}
    assert counts == pytest.approx({phase: days / 29 for phase, days in PHASE_DAYS.items()}, abs=0.015)
    old = [draw_endometrium(rng, float(age)) for age in rng.uniform(MENOPAUSE_MEDIAN_AGE, 80.0, 2000)]
    assert {state.status for state in old} == {"postmenopausal"}
    for state in young + old:
        mean, sd = ENDOMETRIUM_SUV[state.status]
        assert max(mean - 2 * sd, 0.7) - 1e-4 <= state.suv <= mean + 2 * sd + 1e-4  # SUV kept to 4 decimals
    for group, states in (("proliferative", young), ("postmenopausal", old)):  # symmetric clip: the mean stays
        drawn = [state.suv for state in states if state.status == group]
        assert np.mean(drawn) == pytest.approx(ENDOMETRIUM_SUV[group][0], abs=0.05), group
