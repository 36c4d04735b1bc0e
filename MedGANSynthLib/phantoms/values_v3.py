"""Version-3 values: version 2's per-subject HU and SUV with the two value corrections REFERENCE.md §3 proposed.

* Women's skeletal muscle attenuation falls with age: drawn from the Framingham women's L3 mean ± SD of the
  subject's age group (Invest Radiol 2023;59:259, Table 2), clipped to mean ± 2 SD. Men keep version 2's 40-50 HU
  (the study's men's table was not retrievable, REFERENCE.md §3).
* Portal-venous (~70 s, nephrographic) kidney: the medulla enhances to within 30 HU of the cortex (Eur J Radiol
  2007;63:420: medulla +145 HU, cortex - medulla < 30 HU), instead of version 2's +60-100 HU.

Version 2's draws come first from the same generator, so a version-3 subject differs from the version-2 subject
of the same seed only where corrected (the third correction, women's visceral fat, is anatomy: ``frame_v2``).
"""

from __future__ import annotations

import numpy as np

from MedGANSynthLib.phantoms.values_v2 import SubjectValues, sample_values

# Framingham Heart Study, women, L3 skeletal muscle radio-attenuation (HU): age group's upper bound -> (mean, SD)
FHS_WOMEN_L3_MUSCLE_HU = ((45.0, (42.6, 5.5)), (55.0, (38.1, 7.2)), (65.0, (33.4, 6.8)), (75.0, (29.3, 6.6)),
                          (float("inf"), (25.2, 6.8)))
MUSCLE_HU_CLIP_SD = 2.0  # keep the draw inside the age group's mean ± 2 SD (its ~95 % band)
KIDNEY_CORTEX_MINUS_MEDULLA_PV = (0.0, 30.0)  # HU, nephrographic phase (Eur J Radiol 2007;63:420)


def women_muscle_hu(age_years: float) -> tuple[float, float]:
    """(mean, SD) of the Framingham women's L3 muscle attenuation for this age."""
    return next(stats for upper, stats in FHS_WOMEN_L3_MUSCLE_HU if age_years < upper)


def sample_values_v3(rng: np.random.Generator, sex: str, age_years: float, contrast: str) -> SubjectValues:
    """One subject's HU (phase-dependent) and SUV per tissue: version 2's draws, then the corrections."""
    values = sample_values(rng, age_years, contrast)
    plain, hu = values.hu_unenhanced, values.hu
    if sex == "F":
        mean, sd = women_muscle_hu(age_years)
        muscle = float(np.clip(rng.normal(mean, sd), mean - MUSCLE_HU_CLIP_SD * sd, mean + MUSCLE_HU_CLIP_SD * sd))
        hu["muscle"] = round(hu["muscle"] - plain["muscle"] + muscle, 2)  # keeps the phase's enhancement
        plain["muscle"] = round(muscle, 2)
    if contrast == "portal-venous":
        hu["renal_medulla"] = round(hu["kidney"] - float(rng.uniform(*KIDNEY_CORTEX_MINUS_MEDULLA_PV)), 2)
    return values
