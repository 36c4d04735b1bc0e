"""Version-2, -3 and -4 phantoms measured at L3 and in the kidneys against published CT and FDG reference values
(MedGANSynthLib/phantoms/REFERENCE.md §1, §3 and §7). Versions 2 and 3 are frozen (models were trained on them), so
where one differs from a source its check is a strict xfail that states the difference; the version that carries
the correction (3, or 4 for the sources read after version 3 was frozen) must pass the same check.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from MedGANSynthLib.phantoms.tissues import LABEL, is_muscle
from MedGANSynthLib.phantoms.wholebody import WholeBodyConfig, make_wholebody_case

GRID = WholeBodyConfig().with_voxel_mm(4.0)
VERSIONS = (2, 3, 4, 5)

# Framingham Heart Study, women, L3 (Invest Radiol 2023;59:259, Table 2): age group -> (mean, SD)
FHS_WOMEN_L3_SMI = {45: (48.2, 7.1), 55: (48.0, 7.2), 65: (45.8, 6.8), 75: (44.3, 6.5), 200: (43.5, 6.7)}
FHS_WOMEN_L3_SMRA = {45: (42.6, 5.5), 55: (38.1, 7.2), 65: (33.4, 6.8), 75: (29.3, 6.6), 200: (25.2, 6.8)}
# van der Werf, Eur J Clin Nutr 2018, Table 3: healthy men's predicted L3 muscle attenuation 5th percentile (HU)
# by age decade, all BMIs: 35.5 (20-29 y) ... 27.3 (60-69 y), i.e. a fall per decade of
VDWERF_MEN_P5_FALL_HU_PER_DECADE = (35.5 - 27.3) / 4
KONG_WOMEN_L3_VAT_MEDIAN_CM2 = 67.2  # Front Nutr 2022;9:871697 (1787 healthy adults; men 120.9)

# Goncalves et al., Acad Radiol 2017;24(10), Table 1: 18 healthy men, FDG SUVmean (mean, SEM) per region
GONCALVES_MEN = 18
GONCALVES_L3_MUSCLES_SUV = {"erector spinae": (0.67, 0.02), "psoas": (0.56, 0.02), "internal oblique": (0.57, 0.02),
                            "rectus abdominis": (0.46, 0.02)}  # the Table 1 muscles an L3 slice cuts
GONCALVES_SAT_SUV = (0.24, 0.03)  # anterior abdominal subcutaneous fat
GONCALVES_VAT_SUV = (0.30, 0.02)  # retroperitoneal visceral fat


def _two_sd_band(mean, sem):
    """mean ± 2 SD, the SD recovered from the published SEM as SEM × sqrt(n)."""
    sd = sem * np.sqrt(GONCALVES_MEN)
    return mean - 2 * sd, mean + 2 * sd


def _age_group(table, age):
    return next(value for upper, value in table.items() if age < upper)


def _differs_in_v2(reason):
    """Version 2 as a strict xfail stating the published difference, versions 3 and 4 as a plain pass."""
    return pytest.mark.parametrize("l3_slices", [pytest.param(2, marks=pytest.mark.xfail(strict=True, reason=reason)),
                                                 3, 4], indirect=True)


def _differs_before_v4(reason, fixture="l3_slices"):
    """Versions 2 and 3 as strict xfails stating the published difference, version 4 as a plain pass."""
    return pytest.mark.parametrize(fixture, [pytest.param(v, marks=pytest.mark.xfail(strict=True, reason=reason))
                                             for v in (2, 3)] + [4], indirect=True)


@pytest.fixture(scope="module", params=VERSIONS)
def l3_slices(request):
    """L3 slice of eight unenhanced subjects (seeds 8-15, the same subjects in both versions: four women aged
    36-68, four men aged 59-80), with the PET truth (SUV before the scanner's blur and noise) on the CT grid."""
    slices = []
    for seed in range(8, 16):
        case = make_wholebody_case(seed, "normal", GRID, version=request.param)
        subject = case.manifest["subject"]
        z = case.ct.origin[2] + case.ct.spacing[2] * np.arange(case.ct.array.shape[0])
        k = int(np.argmin(np.abs(z - np.mean(case.manifest["landmarks"]["L3"]))))
        slices.append({"labels": case.organs.array[k], "ct": case.ct.array[k].astype(float), "sex": subject["sex"],
                       "age": subject["age_years"], "height_m": subject["height_cm"] / 100.0,
                       "suv": case.pet_truth.array[k].astype(float),
                       "pixel_cm2": case.ct.spacing[0] * case.ct.spacing[1] / 100.0})
    return slices


def _mask(labels, tissue):
    """The tissue's voxels; "muscle" takes every muscle label (version 5 names muscle groups)."""
    return is_muscle(labels) if tissue == "muscle" else labels == LABEL[tissue]


def _area_cm2(item, tissue):
    return _mask(item["labels"], tissue).sum() * item["pixel_cm2"]


def test_women_l3_muscle_index_within_framingham_band(l3_slices):
    """SMI within the age group's mean ± 2 SD (Framingham women, L3)."""
    women = [s for s in l3_slices if s["sex"] == "F"]
    assert len(women) >= 4
    for item in women:
        mean, sd = _age_group(FHS_WOMEN_L3_SMI, item["age"])
        smi = _area_cm2(item, "muscle") / item["height_m"] ** 2
        assert mean - 2 * sd <= smi <= mean + 2 * sd, (item["age"], smi)


@_differs_in_v2("known difference (REFERENCE.md §3): muscle is drawn at 40-50 HU at every age, Framingham "
                "women's L3 muscle falls from 42.6 (<45 y) to 25.2 HU (>=75 y)")
def test_women_l3_muscle_attenuation_follows_age(l3_slices):
    for item in (s for s in l3_slices if s["sex"] == "F"):
        mean, sd = _age_group(FHS_WOMEN_L3_SMRA, item["age"])
        inner = ndimage.binary_erosion(is_muscle(item["labels"]))
        assert mean - 2 * sd <= item["ct"][inner].mean() <= mean + 2 * sd, item["age"]


@_differs_in_v2("known difference (REFERENCE.md §7): women's L3 visceral fat is about twice the published "
                "median (~145 vs 67.2 cm²)")
def test_women_l3_visceral_fat_near_the_published_median(l3_slices):
    """Median over the women within 1.5x either way of the published median (the band's width is †: the source's
    abstract gives medians only)."""
    vat = np.median([_area_cm2(s, "visceral_fat") for s in l3_slices if s["sex"] == "F"])
    assert KONG_WOMEN_L3_VAT_MEDIAN_CM2 / 1.5 <= vat <= KONG_WOMEN_L3_VAT_MEDIAN_CM2 * 1.5, vat


def test_women_have_more_subcutaneous_than_visceral_fat_at_l3(l3_slices):
    """Healthy women: median SAT 146.7 > VAT 67.2 cm² at L3 (Kong, Front Nutr 2022); compared on the median."""
    women = [s for s in l3_slices if s["sex"] == "F"]
    sat = np.median([_area_cm2(s, "subcutaneous_fat") for s in women])
    vat = np.median([_area_cm2(s, "visceral_fat") for s in women])
    assert sat > vat


@pytest.mark.parametrize("version", [
    pytest.param(2, marks=pytest.mark.xfail(strict=True, reason="known difference (REFERENCE.md §3): medulla enhances "
                                            "+60-100 HU, cortex +120-170; at the nephrographic phase (~70 s) cortex "
                                            "and medulla differ by < 30 HU")), 3, 4])
def test_portal_venous_kidney_cortex_and_medulla_nearly_equal(version):
    """Nephrographic phase: cortex-to-medulla difference below 30 HU from 45 s after the bolus trigger, medulla
    enhancement ~145 HU at 55 s (Eur J Radiol 2007;63:420)."""
    case = make_wholebody_case(8, "normal", GRID, version=version, contrast="portal-venous")
    cortex = ndimage.binary_erosion(case.organs.array == LABEL["kidney"])
    medulla = ndimage.binary_erosion(case.organs.array == LABEL["renal_medulla"])
    difference = case.ct.array[cortex].mean() - case.ct.array[medulla].mean()
    assert abs(difference) < 30.0, difference



def _suv_mean(item, tissue):
    """Mean SUV inside the eroded tissue mask of the L3 slice (away from the boundaries, as an ROI is drawn)."""
    inner = ndimage.binary_erosion(_mask(item["labels"], tissue))
    assert inner.sum() > 10, tissue
    return float(item["suv"][inner].mean())


def _men(l3_slices):
    men = [s for s in l3_slices if s["sex"] == "M"]
    assert len(men) >= 4
    return men


@_differs_before_v4("known difference (REFERENCE.md §1, corrected in version 4): muscle SUV is drawn at 0.6-1.0 in "
                    "versions 2 and 3, healthy men's L3 muscles 0.46-0.67 (SD ~0.085); seed 10 draws 0.92")
def test_men_l3_muscle_suv_within_healthy_men_band(l3_slices):
    """Each man's L3 muscle SUVmean within the published L3 muscles' band: the lowest mean - 2 SD to the highest
    mean + 2 SD of erector spinae, psoas, internal oblique and rectus abdominis (18 healthy men; women not
    published in the source read)."""
    low = min(_two_sd_band(*stats)[0] for stats in GONCALVES_L3_MUSCLES_SUV.values())
    high = max(_two_sd_band(*stats)[1] for stats in GONCALVES_L3_MUSCLES_SUV.values())
    for item in _men(l3_slices):
        assert low <= _suv_mean(item, "muscle") <= high, (item["age"], _suv_mean(item, "muscle"), low, high)


def test_men_l3_subcutaneous_fat_suv_within_healthy_men_band(l3_slices):
    """Each man's L3 subcutaneous fat SUVmean within the published SAT mean ± 2 SD (0.24, SEM 0.03, n = 18)."""
    low, high = _two_sd_band(*GONCALVES_SAT_SUV)
    for item in _men(l3_slices):
        assert low <= _suv_mean(item, "subcutaneous_fat") <= high, (item["age"], _suv_mean(item, "subcutaneous_fat"))


@_differs_before_v4("known difference (REFERENCE.md §1, corrected in version 4): visceral fat SUV is drawn at 0.3-0.6 "
                    "in versions 2 and 3, healthy men's VAT 0.30 (SD ~0.085, mean + 2 SD = 0.47); seeds 8 and 10 "
                    "draw 0.52 and 0.48")
def test_men_l3_visceral_fat_suv_within_healthy_men_band(l3_slices):
    """Each man's L3 visceral fat SUVmean within the published VAT mean ± 2 SD (0.30, SEM 0.02, n = 18)."""
    low, high = _two_sd_band(*GONCALVES_VAT_SUV)
    for item in _men(l3_slices):
        assert low <= _suv_mean(item, "visceral_fat") <= high, (item["age"], _suv_mean(item, "visceral_fat"))


def test_l3_visceral_fat_takes_up_more_fdg_than_subcutaneous_fat(l3_slices):
    """VAT FDG uptake above SAT (141 adults, P < 0.0001, Obesity 2015;23:286; 18 men 0.30 vs 0.24, Goncalves 2017);
    compared on the median over all eight subjects."""
    vat = np.median([_suv_mean(s, "visceral_fat") for s in l3_slices])
    sat = np.median([_suv_mean(s, "subcutaneous_fat") for s in l3_slices])
    assert vat > sat, (vat, sat)


# Men of the first seeds (0-119) under 35 y and at 75 y or over: four of each (seeds 21, 30, 38, 43 aged 28-31;
# 13, 16, 22, 60 aged 76-80), the same subjects in every version.
YOUNG_MEN_SEEDS, OLD_MEN_SEEDS = (21, 30, 38, 43), (13, 16, 22, 60)


@pytest.fixture(scope="module")
def men_by_age(request):
    """(age, eroded L3 muscle HU) of the young and the old men, unenhanced."""
    groups = []
    for seeds in (YOUNG_MEN_SEEDS, OLD_MEN_SEEDS):
        group = []
        for seed in seeds:
            case = make_wholebody_case(seed, "normal", GRID, version=request.param)
            assert case.manifest["subject"]["sex"] == "M"
            z = case.ct.origin[2] + case.ct.spacing[2] * np.arange(case.ct.array.shape[0])
            k = int(np.argmin(np.abs(z - np.mean(case.manifest["landmarks"]["L3"]))))
            inner = ndimage.binary_erosion(is_muscle(case.organs.array[k]))
            group.append((case.manifest["subject"]["age_years"], float(case.ct.array[k][inner].mean())))
        groups.append(np.array(group))
    return groups


@pytest.mark.slow
@_differs_before_v4("known difference (REFERENCE.md §3, corrected in version 4): men's muscle is drawn at 40-50 HU at "
                    "every age; the healthy men's 5th percentile falls 2.05 HU per decade (van der Werf 2018)",
                    fixture="men_by_age")
def test_men_l3_muscle_attenuation_falls_with_age(men_by_age):
    """Young minus old men's mean L3 muscle HU equals the published fall of the 5th percentile over their age gap
    (2.05 HU per decade; assumes the distribution shifts with its 5th percentile, as REFERENCE.md says) within two
    standard errors of the measured difference (from the groups' own spread)."""
    young, old = men_by_age
    measured = young[:, 1].mean() - old[:, 1].mean()
    expected = VDWERF_MEN_P5_FALL_HU_PER_DECADE * (old[:, 0].mean() - young[:, 0].mean()) / 10.0
    standard_error = np.sqrt(young[:, 1].var(ddof=1) / len(young) + old[:, 1].var(ddof=1) / len(old))
    assert abs(measured - expected) <= 2 * standard_error, (measured, expected, standard_error)
