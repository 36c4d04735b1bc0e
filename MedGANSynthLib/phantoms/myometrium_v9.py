"""Version 9: the myometrium at its published FDG uptake (REFERENCE.md, "Version 9: myometrium").

Versions 2-8 draw the whole uterus at SUVmean 1.5-3.0 (†), and from version 5 that label is the wall around the
endometrium, the myometrium. Lerman et al. measured normal myometrium at 1.24 ± 0.33 in 152 women
([Myometrium-FDG-Lerman], found in session 33): the old band lay wholly above that mean, and the wall was hotter than
a postmenopausal endometrium in most draws, where the sources call it the low-uptake layer. Version 9 draws a woman's
myometrium as a normal of that mean and SD clipped to mean ± 2 SD, from a stream of its own under the case's seed,
so every other draw stays version 8's. Its HU is unchanged (†).
"""

from __future__ import annotations

import numpy as np

STREAM_KEY = 9034  # spawn key of this draw's stream under the case seed's sequence (version 9, the uterus label 34)
MYOMETRIUM_SUV = (1.24, 0.33)  # normal myometrium, mean ± SD, 152 women ([Myometrium-FDG-Lerman])
CLIP_SD = 2.0


def draw_myometrium_suv(rng: np.random.Generator) -> float:
    """One woman's myometrial SUVmean: normal(1.24, 0.33) clipped to mean ± 2 SD (0.58-1.90)."""
    mean, sd = MYOMETRIUM_SUV
    return round(float(np.clip(rng.normal(mean, sd), mean - CLIP_SD * sd, mean + CLIP_SD * sd)), 4)
