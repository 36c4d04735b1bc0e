"""Version-4 values: version 3's per-subject HU and SUV with the six corrections REFERENCE.md proposed for version 4.

* Men's L3 muscle attenuation falls with age: version 3's 40-50 HU minus 2.05 HU per decade after 25 y, the fall
  of the healthy men's 5th percentile (35.5 HU at 20-29 y to 27.3 HU at 60-69 y; van der Werf, Eur J Clin Nutr
  2018, Table 3), assuming the whole distribution shifts with it.
* Women's vertebral marrow SUV by age group: lumbar L2-L4 SUVmean of 162 healthy women (Marrow-323), clipped to
  the group's mean ± 2 SD; under 50 y the 40-49 y values (the study found 30-39 and 40-49 y alike).
* Skeletal muscle SUV 0.575 ± 0.085 (mean of the 14 muscles of 18 healthy men, SD = SEM × √18), visceral fat
  0.30 ± 0.085 and subcutaneous fat 0.24 ± 0.13 (Goncalves, Acad Radiol 2017, Table 1). Every muscle shares the
  one label "muscle", so one value per subject (no per-group means).
* Kidney cortex SUV 2.2 ± 0.3 (normal kidney tissue of the controls of an RCC series, Clin Nucl Med 2015); the
  medulla keeps version 3's draw (no source read for it).
* Thyroid, unenhanced, 118.1 ± 12.2 HU (24 normal glands, Radiology 1983); the phase's enhancement is kept.

Every normal draw is clipped to its mean ± 2 SD, except the subcutaneous fat's floor (0.10 †, mean - 2 SD would
reach 0). Version 3's draws come first from the same generator, so a version-4 subject is version 3's subject with
these values replaced; the new draws follow in a fixed order, the women's marrow last.
"""

from __future__ import annotations

import numpy as np

from MedGANSynthLib.phantoms.values_v2 import SubjectValues
from MedGANSynthLib.phantoms.values_v3 import sample_values_v3

CLIP_SD = 2.0  # keep each normal draw inside its mean ± 2 SD (about 95 % of healthy subjects)
MEN_MUSCLE_HU_PER_YEAR = -0.205  # fall of the men's 5th percentile, 2.05 HU per decade (van der Werf 2018)
MEN_MUSCLE_HU_FROM_AGE = 25.0  # version 3's 40-50 HU stands for the youngest men (25 y)
# Marrow-323, women, lumbar L2-L4 SUVmean: age group's upper bound (y) -> (mean, SD)
WOMEN_MARROW_SUV = ((50.0, (1.75, 0.44)), (60.0, (1.45, 0.32)), (70.0, (1.45, 0.31)), (float("inf"), (1.18, 0.17)))
MUSCLE_SUV = (0.575, 0.085)  # Goncalves 2017 Table 1
VISCERAL_FAT_SUV = (0.30, 0.085)  # Goncalves 2017 Table 1, retroperitoneal
SUBCUTANEOUS_FAT_SUV = (0.24, 0.13)  # Goncalves 2017 Table 1, anterior abdominal
SUBCUTANEOUS_FAT_SUV_FLOOR = 0.10  # † about mean - 1 SD, so that VAT stays above SAT on average
KIDNEY_CORTEX_SUV = (2.2, 0.3)  # Clin Nucl Med 2015 (RCC series, controls)
THYROID_HU = (118.1, 12.2)  # Radiology 1983;147(3), normal controls


def women_marrow_suv(age_years: float) -> tuple[float, float]:
    """(mean, SD) of the Marrow-323 women's lumbar marrow SUVmean for this age."""
    return next(stats for upper, stats in WOMEN_MARROW_SUV if age_years < upper)


def sample_values_v4(rng: np.random.Generator, sex: str, age_years: float, contrast: str) -> SubjectValues:
    """One subject's HU (phase-dependent) and SUV per tissue: version 3's draws, then the corrections."""
    values = sample_values_v3(rng, sex, age_years, contrast)
    plain, hu, suv = values.hu_unenhanced, values.hu, values.suv
    suv["muscle"] = _clipped_normal(rng, *MUSCLE_SUV)
    suv["visceral_fat"] = _clipped_normal(rng, *VISCERAL_FAT_SUV)
    suv["subcutaneous_fat"] = _clipped_normal(rng, *SUBCUTANEOUS_FAT_SUV, low=SUBCUTANEOUS_FAT_SUV_FLOOR)
    suv["kidney"] = _clipped_normal(rng, *KIDNEY_CORTEX_SUV)
    _set_unenhanced(plain, hu, "thyroid", round(_clipped_normal(rng, *THYROID_HU), 2))
    if sex == "M":
        decline = MEN_MUSCLE_HU_PER_YEAR * max(age_years - MEN_MUSCLE_HU_FROM_AGE, 0.0)
        _set_unenhanced(plain, hu, "muscle", round(plain["muscle"] + decline, 2))
    else:
        suv["cancellous_bone"] = _clipped_normal(rng, *women_marrow_suv(age_years))
    return values


def _clipped_normal(rng: np.random.Generator, mean: float, sd: float, low: float | None = None) -> float:
    value = float(np.clip(rng.normal(mean, sd), mean - CLIP_SD * sd if low is None else low, mean + CLIP_SD * sd))
    return round(value, 4)


def _set_unenhanced(plain: dict, hu: dict, tissue: str, value: float) -> None:
    """New unenhanced HU; the phase's HU keeps the enhancement version 2 drew."""
    hu[tissue] = round(hu[tissue] - plain[tissue] + value, 2)
    plain[tissue] = value
