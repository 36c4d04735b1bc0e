"""Version 5: a woman's breast fibroglandular tissue (label 38, ``breast_gland``; REFERENCE.md, "Version 5: breast").

Versions 1-4 paint each breast's glandular core as ``muscle`` (muscle HU and SUV). Version 5 paints the same core
as ``breast_gland`` with values of its own, drawn per woman:

* Density: mammographically dense (BI-RADS c-d) or not (a-b). The share of dense breasts falls with age: "more than
  half" of women under 50, about 40 % in their 50s, about 25 % at 60 and over (densebreast-info.org, citing
  Kerlikowske, JNCI 2007 and Sprague, JNCI 2014). Version 5 takes 0.5 (the stated bound, †) before menopause
  (:func:`~MedGANSynthLib.phantoms.endometrium_v5.is_postmenopausal`, 51.3 y †: the source's boundary is 50 y),
  0.40 after it and under 60 y, 0.25 from 60 y.
* FDG SUV (average, contralateral normal breast of 96 women; Kumar et al., Mol Imaging Biol 2006): dense 0.84 ± 0.27,
  non-dense 0.53 ± 0.23; no significant effect of age or menopause once density is known (the same study; a JNM 2010
  study of 149 women found none after age). Normal(mean, SD) of the density clipped to mean + 2 SD, with a floor
  at 0.30 (†: the dense mean - 2 SD, so that the gland never falls below subcutaneous fat's published 0.24).
* CT: no clinical-CT value of fibroglandular tissue was read; fibroglandular tissue attenuates "close to water"
  (den Heeten & Grimbergen, at mammographic energies). Unenhanced HU uniform between water (0 HU) and the bottom of
  muscle's 40-50 HU (†, REFERENCE.md §3); no portal-venous enhancement (†: none read for CT).

The state comes from its own stream of the case's seed, so it is the same in both contrast phases and leaves every
other draw of the case where it was.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from MedGANSynthLib.phantoms.endometrium_v5 import is_postmenopausal

DENSE_SHARE_POSTMENOPAUSAL = ((60.0, 0.40), (float("inf"), 0.25))  # upper age (y) -> share (densebreast-info)
DENSE_SHARE_PREMENOPAUSAL = 0.5  # "more than half" of women under 50 (the bound, †)
GLAND_SUV = {"dense": (0.84, 0.27), "non-dense": (0.53, 0.23)}  # mean, SD (Kumar, Mol Imaging Biol 2006)
SUV_CLIP_SD = 2.0
SUV_FLOOR = 0.30  # † the dense mean - 2 SD; the non-dense mean - 2 SD (0.07) would lie below fat
GLAND_HU = (0.0, 40.0)  # † from water to the bottom of muscle's band (fibroglandular tissue "close to water")
STREAM_KEY = 5038  # spawn key of the state's stream under the case seed's sequence (version 5, label 38)


@dataclass(frozen=True)
class BreastState:
    density: str  # "dense" or "non-dense"
    suv: float
    hu: float  # unenhanced, and so in both contrast phases

    def to_manifest(self) -> dict:
        return asdict(self)


def dense_share(age_years: float) -> float:
    """Share of women of this age whose breasts are dense (see the module text)."""
    if not is_postmenopausal(age_years):
        return DENSE_SHARE_PREMENOPAUSAL
    return next(share for upper, share in DENSE_SHARE_POSTMENOPAUSAL if age_years < upper)


def draw_breast(rng: np.random.Generator, age_years: float) -> BreastState:
    """A woman's breast density, glandular SUV and HU."""
    density = "dense" if rng.random() < dense_share(age_years) else "non-dense"
    mean, sd = GLAND_SUV[density]
    suv = float(np.clip(rng.normal(mean, sd), SUV_FLOOR, mean + SUV_CLIP_SD * sd))
    hu = float(rng.uniform(*GLAND_HU))
    return BreastState(density, round(suv, 4), round(hu, 2))


def set_breast_values(values, state: BreastState) -> None:
    """Give a woman's :class:`~MedGANSynthLib.phantoms.values_v2.SubjectValues` the gland's SUV and HU (both
    phases alike: no enhancement read)."""
    values.suv["breast_gland"] = state.suv
    values.hu["breast_gland"] = state.hu
    values.hu_unenhanced["breast_gland"] = state.hu
