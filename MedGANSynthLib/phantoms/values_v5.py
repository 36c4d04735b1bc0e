"""Version-5 values: version 4's, plus an SUV for each named skeletal muscle group (:mod:`muscle_groups_v5`).

Goncalves et al. (Acad Radiol 2017;24(10), Table 1) measured FDG SUVmean in 14 muscles of 18 healthy men; version 4
draws one muscle SUV per subject around the mean of all 14 (0.575 ± 0.085, clipped to ± 2 SD). Version 5 keeps that
draw for unnamed muscle and gives each group its own Table 1 mean plus the same subject's deviation from 0.575
(derived: one deviation per subject, so the groups keep their published order in every subject and each stays
inside its mean ± 2 SD, the SD being SEM 0.02 × √18 ≈ 0.085 for each of these muscles). No new draw is made, so
every other value equals version 4's. Women take the men's values (no women's source read, †). Each group's HU is
muscle's, unenhanced and enhanced.
"""

from __future__ import annotations

import numpy as np

from MedGANSynthLib.phantoms.values_v2 import SubjectValues
from MedGANSynthLib.phantoms.values_v4 import MUSCLE_SUV, sample_values_v4

# Goncalves 2017 Table 1, SUVmean of the muscle (or the mean of the group's muscles) each label stands for.
MUSCLE_GROUP_SUV = {
    "muscle_paraspinal": 0.67,  # erector spinae
    "muscle_psoas": 0.56,
    "muscle_gluteus_maximus": 0.59,
    "muscle_thigh": round((0.51 + 0.49 + 0.48) / 3, 3),  # rectus femoris, adductor magnus, vastus lateralis
    "muscle_rectus_abdominis": 0.46,
    "muscle_oblique": 0.57,  # internal oblique
    "muscle_pectoralis": 0.51,  # pectoralis major
    "muscle_intercostal": 0.68,
}


def sample_values_v5(rng: np.random.Generator, sex: str, age_years: float, contrast: str) -> SubjectValues:
    """Version 4's values with each muscle group's SUV and HU added (see the module text)."""
    values = sample_values_v4(rng, sex, age_years, contrast)
    deviation = values.suv["muscle"] - MUSCLE_SUV[0]
    for group, mean in MUSCLE_GROUP_SUV.items():
        values.suv[group] = round(mean + deviation, 4)
        values.hu[group] = values.hu["muscle"]
        values.hu_unenhanced[group] = values.hu_unenhanced["muscle"]
    return values
