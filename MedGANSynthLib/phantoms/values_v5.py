"""Version-5 values: version 4's per-subject HU and SUV, drawn the same way in both contrast phases, plus the
endometrium and an SUV for each named skeletal muscle group.

Versions 2-4 draw the portal-venous enhancement from the subject's generator before the version-3 and version-4
corrections, so in those versions the two phases of one seed differ beyond the enhancement (a woman's muscle HU, the
thyroid HU, muscle, fat, kidney and women's marrow SUV). Version 5 always draws as the portal-venous phase and, for
an unenhanced case, takes the unenhanced HU: every value a seed draws is then the same in both phases, the
enhancement aside.

The endometrium (label 37, women only) takes the SUV of the woman's menstrual state (:mod:`endometrium_v5`) and the
uterus's HU, unenhanced and enhanced († no CT value of the endometrium read).

The breast gland (label 38, women only) takes the SUV and HU of the woman's breast state (:mod:`breast_v5`).

Muscle groups (:mod:`muscle_groups_v5`): Goncalves et al. (Acad Radiol 2017;24(10), Table 1) measured FDG SUVmean
in 14 muscles of 18 healthy men; version 4 draws one muscle SUV per subject around the mean of all 14 (0.575 ±
0.085, clipped to ± 2 SD). Version 5 keeps that draw for unnamed muscle and gives each group its own Table 1 mean
plus the same subject's deviation from 0.575 (derived: one deviation per subject, so the groups keep their
published order in every subject and each stays inside its mean ± 2 SD, the SD being SEM 0.02 × √18 ≈ 0.085 for
each of these muscles). No new draw is made for them. Women take the men's values (no women's source read, †).
Each group's HU is muscle's, unenhanced and enhanced.

Blood and myocardium, unenhanced: non-anaemic blood below the subject's liver (:mod:`blood_v5`), drawn after every
version-4 draw, so nothing else a seed draws moves; each keeps version 4's portal-venous enhancement.
"""

from __future__ import annotations

import numpy as np

from MedGANSynthLib.phantoms.blood_v5 import draw_unenhanced_blood
from MedGANSynthLib.phantoms.breast_v5 import BreastState, set_breast_values
from MedGANSynthLib.phantoms.endometrium_v5 import EndometriumState
from MedGANSynthLib.phantoms.tissues import LABEL
from MedGANSynthLib.phantoms.values_v2 import TISSUE_VALUES, SubjectValues, texture_lookup
from MedGANSynthLib.phantoms.values_v4 import MUSCLE_SUV, sample_values_v4, set_unenhanced

ENHANCED_PHASE = "portal-venous"
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


def sample_values_v5(rng: np.random.Generator, sex: str, age_years: float, contrast: str,
                     endometrium: EndometriumState | None = None,
                     breast: BreastState | None = None) -> SubjectValues:
    """One subject's HU and SUV: version 4's portal-venous draws (unenhanced HU when ``contrast`` is "none") with
    version 5's unenhanced blood and myocardium, the endometrium's, the breast gland's (:mod:`breast_v5`) and the
    muscle groups'."""
    values = sample_values_v4(rng, sex, age_years, ENHANCED_PHASE)
    blood = draw_unenhanced_blood(rng, values.hu_unenhanced["liver"])
    for tissue in ("blood", "myocardium"):
        set_unenhanced(values.hu_unenhanced, values.hu, tissue, blood)
    if contrast != ENHANCED_PHASE:
        values.hu = dict(values.hu_unenhanced)
    if endometrium is not None:
        values.suv["endometrium"] = endometrium.suv
        values.hu["endometrium"] = values.hu["uterus"]
        values.hu_unenhanced["endometrium"] = values.hu_unenhanced["uterus"]
    if breast is not None:
        set_breast_values(values, breast)
    deviation = values.suv["muscle"] - MUSCLE_SUV[0]
    for group, mean in MUSCLE_GROUP_SUV.items():
        values.suv[group] = round(mean + deviation, 4)
        values.hu[group] = values.hu["muscle"]
        values.hu_unenhanced[group] = values.hu_unenhanced["muscle"]
    return values


def texture_lookup_v5(size: int = 256) -> np.ndarray:
    """Version 2's texture SD table with the endometrium's, the uterus's († as its HU), and the breast gland's,
    muscle's (†); labels 37 and 38 exist only in version 5, so the table of versions 2-4 is unchanged where their
    label maps look it up."""
    table = texture_lookup(size)
    table[LABEL["endometrium"]] = TISSUE_VALUES["uterus"].texture_sd
    table[LABEL["breast_gland"]] = TISSUE_VALUES["muscle"].texture_sd  # † no texture read: soft tissue's
    table[LABEL["testis"]] = TISSUE_VALUES["prostate"].texture_sd  # version 9, † as its HU
    table[LABEL["penis"]] = TISSUE_VALUES["muscle"].texture_sd  # version 9: the corpora take muscle's values †
    return table
