"""Version 5's unenhanced blood HU: non-anaemic adults, and below the subject's (normal) liver.

Versions 2-4 draw 45-60 HU (radclass textbook), whose upper third lies above the blood of non-anaemic patients on
unenhanced chest CT: aortic arch IQR 40-47.5 HU (325 patients, Sci Rep 2022;12:21380, Table 2; ascending aorta
39.7-50, descending 39.2-50, pulmonary artery 40-47.7 HU). Version 5 draws a normal fitted to the aortic arch's IQR
(mean 43.75, SD 7.5 / 1.349 = 5.56 HU, derived), truncated to its mean ± 2 SD and below the subject's liver: on
unenhanced CT of a normal liver the intrahepatic vessels are hypoattenuating to it (Hamer et al., RadioGraphics
2006;26:1637, Fig. 2); vessels brighter than the liver are a sign of fatty liver, and the phantom's livers are
normal (49-67 HU). The myocardium takes the same value (in non-anaemic patients the septum cannot be told from the
LV blood, Can Assoc Radiol J 2003;54:26). One distribution for both sexes: no normal blood HU by sex was read.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import truncnorm

NON_ANAEMIC_AORTIC_ARCH_IQR_HU = (40.0, 47.5)  # Sci Rep 2022;12:21380, Table 2
NORMAL_IQR_IN_SD = 1.349  # a normal's interquartile range in standard deviations (2 × 0.6745)
TRUNCATE_SD = 2.0  # keep the draw inside mean ± 2 SD, as version 4's normal draws
HU_STEP = 0.01  # HU are kept to two decimals: the blood stays at least one step below the liver after rounding


def unenhanced_blood_hu() -> tuple[float, float]:
    """(mean, SD) of the normal fitted to the non-anaemic aortic-arch IQR."""
    low, high = NON_ANAEMIC_AORTIC_ARCH_IQR_HU
    return (low + high) / 2, (high - low) / NORMAL_IQR_IN_SD


def draw_unenhanced_blood(rng: np.random.Generator, liver_hu: float) -> float:
    """One subject's unenhanced blood HU, inside mean ± 2 SD and below ``liver_hu``."""
    mean, sd = unenhanced_blood_hu()
    upper = min(TRUNCATE_SD, (liver_hu - HU_STEP - mean) / sd)
    return round(float(truncnorm.rvs(-TRUNCATE_SD, upper, loc=mean, scale=sd, random_state=rng)), 2)
