"""Phantom version 9: the myometrium at its published FDG uptake (REFERENCE.md, "Version 9: myometrium").

Lerman et al. measured normal myometrium at SUV 1.24 ± 0.33 in 152 women [Myometrium-FDG-Lerman]; versions 2-8 draw
the uterus (from version 5 the wall around the endometrium) at 1.5-3.0. The checks read the real cases' label map and
noise-free PET, and the published mean and SD are copied here from REFERENCE.md.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from MedGANSynthLib.phantoms.myometrium_v9 import draw_myometrium_suv
from MedGANSynthLib.phantoms.tissues import LABEL
from MedGANSynthLib.phantoms.wholebody import WholeBodyConfig, make_wholebody_case

GRID = WholeBodyConfig().with_voxel_mm(4.0)
PUBLISHED_MEAN, PUBLISHED_SD = 1.24, 0.33  # [Myometrium-FDG-Lerman]
WOMEN, MAN = (0, 3), 9


@pytest.fixture(scope="module")
def cases():
    return {(seed, version): make_wholebody_case(seed, "normal", GRID, version=version, arms="down")
            for seed in (*WOMEN, MAN) for version in (8, 9)}


def wall_suv(case) -> float:
    """The uterus label's core (one voxel in from its border, off the endometrium) on the noise-free PET."""
    core = ndimage.binary_erosion(case.organs.array == LABEL["uterus"])
    assert core.sum() > 20
    return float(case.pet_truth.array[core].mean())


@pytest.mark.parametrize("seed", WOMEN)
def test_a_woman_s_myometrium_reads_inside_the_published_spread(cases, seed):
    old, new = wall_suv(cases[seed, 8]), wall_suv(cases[seed, 9])
    low, high = PUBLISHED_MEAN - 2 * PUBLISHED_SD, PUBLISHED_MEAN + 2 * PUBLISHED_SD
    assert low <= new <= high, new
    assert old >= 1.5 > PUBLISHED_MEAN  # version 8's band, all above the published mean


@pytest.mark.parametrize("seed", (*WOMEN, MAN))
def test_every_other_value_stays_version_8_s(cases, seed):
    """Of the tissues version 8 has (version 9's genitalia add their own), only a woman's uterus SUV moves."""
    old, new = cases[seed, 8].manifest, cases[seed, 9].manifest
    changed = {name for name in old["organ_suv"] if old["organ_suv"][name] != new["organ_suv"][name]}
    assert changed == ({"uterus"} if seed in WOMEN else set()), changed
    assert all(new["organ_hu"][name] == hu for name, hu in old["organ_hu"].items())


def test_the_draws_follow_the_published_mean_and_spread():
    draws = np.array([draw_myometrium_suv(np.random.default_rng(seed)) for seed in range(4000)])
    assert abs(draws.mean() - PUBLISHED_MEAN) < 0.02
    assert 0.85 * PUBLISHED_SD < draws.std() <= PUBLISHED_SD  # the ± 2 SD clip trims ~5 % of the spread
    assert draws.min() >= PUBLISHED_MEAN - 2 * PUBLISHED_SD and draws.max() <= PUBLISHED_MEAN + 2 * PUBLISHED_SD
