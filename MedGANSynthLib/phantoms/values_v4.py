"""Version-4 values: version 3's per-subject HU and SUV with the ten corrections REFERENCE.md proposed for version 4.

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
* Skeletal muscle portal-venous enhancement by sex: women 8.0, men 4.0 HU (paraspinal muscle, venous phase over
  non-contrast, 240 adults), SD 3.2 HU (paired, same tube voltage; van der Werf 2018), floor 0 † (iodine cannot
  lower attenuation); instead of version 2's +5-15 HU for both sexes.
* Small-bowel wall portal-venous enhancement +35-45 HU, derived: the portal-phase wall's 107-111 HU (after 52.5 g
  iodine) minus the phantom's own unenhanced 40 HU †, scaled by 30/52.5 to the liver source's dose, ± 3 HU †.
* Pancreas, unenhanced, 47.4 ± 3.7 HU (body of 33 non-diabetic controls, DECT); the phase's enhancement is kept.
* Cortical bone SUVmean 0.46 ± 0.16 (femoral diaphysis of 84 patients; the SD derived from the 95 % CI).

Every normal draw is clipped to its mean ± 2 SD, except the subcutaneous fat's floor (0.10 †, mean - 2 SD would
reach 0) and the men's muscle enhancement's floor of 0. Version 3's draws come first from the same generator, so a
version-4 subject is version 3's subject with these values replaced; the first six corrections' draws follow in a
fixed order, the women's marrow last. The last four (session 24) come from a child of that generator's seed sequence,
which does not depend on how far the generator was drawn: their values are the same in both contrast phases of a
seed, and they leave every earlier draw where it was.
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
MUSCLE_PV_ENHANCEMENT_HU = {"F": (8.0, 3.2), "M": (4.0, 3.2)}  # paraspinal, by sex; paired same-kV SD (vdWerf 2018)
SMALL_BOWEL_PV_ENHANCEMENT_HU = (35.0, 45.0)  # derived from the portal-phase wall (REFERENCE.md, "Version 4")
PANCREAS_HU = (47.4, 3.7)  # body, non-diabetic controls (DECT study, REFERENCE.md [Pancreas-DECT-T2DM])
LATER_STREAM_KEY = 4024  # spawn key of the last four corrections' stream, far above any spawn made of the stream
CORTICAL_BONE_SUV = (0.46, 0.16)  # femoral diaphysis, 84 patients; SD derived from the 95 % CI ([LongBone-FDG-2016])


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
    set_unenhanced(plain, hu, "thyroid", round(_clipped_normal(rng, *THYROID_HU), 2))
    if sex == "M":
        decline = MEN_MUSCLE_HU_PER_YEAR * max(age_years - MEN_MUSCLE_HU_FROM_AGE, 0.0)
        set_unenhanced(plain, hu, "muscle", round(plain["muscle"] + decline, 2))
    else:
        suv["cancellous_bone"] = _clipped_normal(rng, *women_marrow_suv(age_years))
    _correct_pancreas_bone_and_enhancement(_phase_independent_stream(rng), values, sex, contrast)
    return values


def _phase_independent_stream(rng: np.random.Generator) -> np.random.Generator:
    """A child of ``rng``'s seed sequence under a fixed spawn key: it depends on the seed only, not on how many
    draws ``rng`` made (the portal-venous phase draws more), and neither draws from ``rng`` nor mutates its seeds."""
    seeds = rng.bit_generator.seed_seq
    return np.random.default_rng(np.random.SeedSequence(seeds.entropy, spawn_key=(*seeds.spawn_key, LATER_STREAM_KEY)))


def _correct_pancreas_bone_and_enhancement(rng: np.random.Generator, values: SubjectValues, sex: str,
                                           contrast: str) -> None:
    """Pancreas HU, cortical-bone SUV and the muscle's and small bowel's portal-venous enhancement. ``rng`` is the
    phase-independent stream: every value is drawn in both phases, so a seed's draws are the same in both."""
    plain, hu, suv = values.hu_unenhanced, values.hu, values.suv
    set_unenhanced(plain, hu, "pancreas", round(_clipped_normal(rng, *PANCREAS_HU), 2))
    suv["cortical_bone"] = _clipped_normal(rng, *CORTICAL_BONE_SUV)
    mean, sd = MUSCLE_PV_ENHANCEMENT_HU[sex]
    muscle = round(_clipped_normal(rng, mean, sd, low=max(mean - CLIP_SD * sd, 0.0)), 2)  # iodine never lowers HU
    bowel = round(float(rng.uniform(*SMALL_BOWEL_PV_ENHANCEMENT_HU)), 2)
    if contrast == "portal-venous":
        hu["muscle"] = round(plain["muscle"] + muscle, 2)
        hu["bowel"] = round(plain["bowel"] + bowel, 2)


def _clipped_normal(rng: np.random.Generator, mean: float, sd: float, low: float | None = None) -> float:
    value = float(np.clip(rng.normal(mean, sd), mean - CLIP_SD * sd if low is None else low, mean + CLIP_SD * sd))
    return round(value, 4)


def set_unenhanced(plain: dict, hu: dict, tissue: str, value: float) -> None:
    """New unenhanced HU; the phase's HU keeps the enhancement version 2 drew."""
    hu[tissue] = round(hu[tissue] - plain[tissue] + value, 2)
    plain[tissue] = value
