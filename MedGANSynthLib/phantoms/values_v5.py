"""Version-5 values: version 4's per-subject HU and SUV, drawn the same way in both contrast phases, plus the endometrium.

Versions 2-4 draw the portal-venous enhancement from the subject's generator before the version-3 and version-4
corrections, so in those versions the two phases of one seed differ beyond the enhancement (a woman's muscle HU, the
thyroid HU, muscle, fat, kidney and women's marrow SUV). Version 5 always draws as the portal-venous phase and, for
an unenhanced case, takes the unenhanced HU: every value a seed draws is then the same in both phases, the
enhancement aside.

The endometrium (label 37, women only) takes the SUV of the woman's menstrual state (:mod:`endometrium_v5`) and the
uterus's HU, unenhanced and enhanced († no CT value of the endometrium read).
"""

from __future__ import annotations

import numpy as np

from MedGANSynthLib.phantoms.endometrium_v5 import EndometriumState
from MedGANSynthLib.phantoms.tissues import LABEL
from MedGANSynthLib.phantoms.values_v2 import TISSUE_VALUES, SubjectValues, texture_lookup
from MedGANSynthLib.phantoms.values_v4 import sample_values_v4

ENHANCED_PHASE = "portal-venous"


def sample_values_v5(rng: np.random.Generator, sex: str, age_years: float, contrast: str,
                     endometrium: EndometriumState | None = None) -> SubjectValues:
    """One subject's HU and SUV: version 4's portal-venous draws; unenhanced HU when ``contrast`` is "none"."""
    values = sample_values_v4(rng, sex, age_years, ENHANCED_PHASE)
    if contrast != ENHANCED_PHASE:
        values.hu = dict(values.hu_unenhanced)
    if endometrium is not None:
        values.suv["endometrium"] = endometrium.suv
        values.hu["endometrium"] = values.hu["uterus"]
        values.hu_unenhanced["endometrium"] = values.hu_unenhanced["uterus"]
    return values


def texture_lookup_v5(size: int = 256) -> np.ndarray:
    """Version 2's texture SD table with the endometrium's, the uterus's († as its HU); label 37 exists only in
    version 5, so the table of versions 2-4 is unchanged where their label maps look it up."""
    table = texture_lookup(size)
    table[LABEL["endometrium"]] = TISSUE_VALUES["uterus"].texture_sd
    return table
