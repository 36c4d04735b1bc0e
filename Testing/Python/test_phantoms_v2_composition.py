"""Version-2 and version-3 phantoms measured at L3 and in the kidneys against published CT reference values
(MedGANSynthLib/phantoms/REFERENCE.md §3 and §7). Version 2 is frozen (a virtual-PET candidate was trained on
it), so where it differs from a source its check is a strict xfail that states the difference; version 3 carries
the corrections and must pass the same checks.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from MedGANSynthLib.phantoms.tissues import LABEL
from MedGANSynthLib.phantoms.wholebody import WholeBodyConfig, make_wholebody_case

GRID = WholeBodyConfig().with_voxel_mm(4.0)
VERSIONS = (2, 3)

# Framingham Heart Study, women, L3 (Invest Radiol 2023;59:259, Table 2): age group -> (mean, SD)
FHS_WOMEN_L3_SMI = {45: (48.2, 7.1), 55: (48.0, 7.2), 65: (45.8, 6.8), 75: (44.3, 6.5), 200: (43.5, 6.7)}
FHS_WOMEN_L3_SMRA = {45: (42.6, 5.5), 55: (38.1, 7.2), 65: (33.4, 6.8), 75: (29.3, 6.6), 200: (25.2, 6.8)}
KONG_WOMEN_L3_VAT_MEDIAN_CM2 = 67.2  # Front Nutr 2022;9:871697 (1787 healthy adults; men 120.9)


def _age_group(table, age):
    return next(value for upper, value in table.items() if age < upper)


def _differs_in_v2(reason):
    """Version 2 as a strict xfail stating the published difference, version 3 as a plain pass."""
    return pytest.mark.parametrize("l3_slices", [pytest.param(2, marks=pytest.mark.xfail(strict=True, reason=reason)),
                                                 3], indirect=True)


@pytest.fixture(scope="module", params=VERSIONS)
def l3_slices(request):
    """L3 slice of eight unenhanced subjects (seeds 8-15, the same subjects in both versions: four women aged
    36-68, four men aged 59-80)."""
    slices = []
    for seed in range(8, 16):
        case = make_wholebody_case(seed, "normal", GRID, version=request.param)
        subject = case.manifest["subject"]
        z = case.ct.origin[2] + case.ct.spacing[2] * np.arange(case.ct.array.shape[0])
        k = int(np.argmin(np.abs(z - np.mean(case.manifest["landmarks"]["L3"]))))
        slices.append({"labels": case.organs.array[k], "ct": case.ct.array[k].astype(float), "sex": subject["sex"],
                       "age": subject["age_years"], "height_m": subject["height_cm"] / 100.0,
                       "pixel_cm2": case.ct.spacing[0] * case.ct.spacing[1] / 100.0})
    return slices


def _area_cm2(item, tissue):
    return (item["labels"] == LABEL[tissue]).sum() * item["pixel_cm2"]


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
        inner = ndimage.binary_erosion(item["labels"] == LABEL["muscle"])
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
                                            "and medulla differ by < 30 HU")), 3])
def test_portal_venous_kidney_cortex_and_medulla_nearly_equal(version):
    """Nephrographic phase: cortex-to-medulla difference below 30 HU from 45 s after the bolus trigger, medulla
    enhancement ~145 HU at 55 s (Eur J Radiol 2007;63:420)."""
    case = make_wholebody_case(8, "normal", GRID, version=version, contrast="portal-venous")
    cortex = ndimage.binary_erosion(case.organs.array == LABEL["kidney"])
    medulla = ndimage.binary_erosion(case.organs.array == LABEL["renal_medulla"])
    difference = case.ct.array[cortex].mean() - case.ct.array[medulla].mean()
    assert abs(difference) < 30.0, difference
