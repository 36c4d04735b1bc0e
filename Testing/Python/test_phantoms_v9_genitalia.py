"""Phantom version 9: the external genitalia between the thighs (REFERENCE.md, "Version 9: external genitalia").

Version 8 leaves air in front of the perineum between the thighs. Version 9 puts a scrotum with two testes and a
penis there in men, the labia majora in women. Each check reads the real cases' label maps and noise-free PET
(numpy only, not the painting code's masks) against the published numbers, copied here from REFERENCE.md:

* testis volume on CT, 640 testes: 18.80 ± 4.83 ml, range 3.85-33.56 ml [Testis-CT-volume];
* testis FDG SUV by age decade (mean, range) [Testis-FDG-age];
* flaccid pendulous penile length 9.16 ± 1.57 cm, flaccid circumference 9.31 ± 0.90 cm [Penis-nomogram];
* labia majora length 9.7 ± 1.8 cm, width 3.7 ± 0.8 cm [Vulva-dimensions].

Versions 1-8 stay bit for bit: test_phantoms_versions.py's and the other digest tests.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

from MedGANSynthLib.phantoms.frame_v2 import Frame, random_subject_v2
from MedGANSynthLib.phantoms.pelvis_v4 import pelvis_landmarks
from MedGANSynthLib.phantoms.tissues import LABEL, MUSCLE_LABELS
from MedGANSynthLib.phantoms.wholebody import WholeBodyConfig, make_wholebody_case
from MedGANSynthLib.phantoms.wholebody_v2 import case_streams

GRID = WholeBodyConfig().with_voxel_mm(4.0)
VOXEL_ML = 4.0**3 / 1000.0
MEN, WOMEN = (9, 13, 22), (0, 3)  # men short enough for the penis and testes to lie inside the 1 m grid
TESTIS_ML_RANGE = (3.85, 33.56)  # [Testis-CT-volume]
TESTIS_SUV_BY_DECADE = {30: (1.23, 3.85), 40: (1.77, 3.75), 50: (1.44, 3.15), 60: (1.50, 3.46), 70: (1.42, 3.29),
                        80: (1.23, 3.03)}  # [Testis-FDG-age]: range per decade (the 30s for the 25-29 y too)
PENIS_LENGTH_MM, PENIS_GIRTH_MM = (91.6, 15.7), (93.1, 9.0)  # [Penis-nomogram], mean and SD
BONE = (LABEL["cortical_bone"], LABEL["cancellous_bone"], LABEL["yellow_marrow"], LABEL["disc"])


def landmarks(seed: int) -> dict:
    rng = case_streams(seed)[0]
    subject = random_subject_v2(rng, "down")
    return pelvis_landmarks(Frame(subject, copy.deepcopy(rng), 9))


@pytest.fixture(scope="module")
def cases():
    return {(seed, version): make_wholebody_case(seed, "normal", GRID, version=version, arms="down")
            for seed in MEN + WOMEN for version in (8, 9)}


def coordinates(case, mask: np.ndarray) -> np.ndarray:
    """(n, 3) x, y, z in mm of the voxels of ``mask``."""
    k, j, i = np.nonzero(mask)
    spacing, origin = case.organs.spacing, case.organs.origin
    return np.column_stack([origin[0] + i * spacing[0], origin[1] + j * spacing[1], origin[2] + k * spacing[2]])


@pytest.mark.parametrize("seed", MEN)
def test_each_testis_has_a_published_volume(cases, seed):
    """Each side's testis holds the drawn volume (±15 %: the 4 mm grid) inside the published range."""
    case = cases[seed, 9]
    xyz = coordinates(case, case.organs.array == LABEL["testis"])
    drawn = case.manifest["genitalia"]["testis_ml"]
    for side, volume in zip((-1, 1), drawn, strict=True):
        measured = (side * xyz[:, 0] > 0).sum() * VOXEL_ML
        assert TESTIS_ML_RANGE[0] <= measured <= TESTIS_ML_RANGE[1], (side, measured)
        assert measured == pytest.approx(volume, rel=0.15), (side, measured, volume)


@pytest.mark.parametrize("seed", MEN)
def test_testis_fdg_uptake_lies_in_its_age_decade_range(cases, seed):
    case = cases[seed, 9]
    age = case.manifest["subject"]["age_years"]
    low, high = TESTIS_SUV_BY_DECADE[max(30, min(80, int(age // 10) * 10))]
    suv = case.pet_truth.array[case.organs.array == LABEL["testis"]]
    assert suv.size and low <= float(suv.mean()) <= high
    assert float(suv.mean()) > case.manifest["organ_suv"]["muscle"]  # testes stand out of the thighs on PET


@pytest.mark.parametrize("seed", MEN)
def test_penis_and_scrotum_lie_below_the_symphysis_between_the_thighs(cases, seed):
    """The penis's centre in front of and below the symphysis; the testes below the perineum (tuberosities) and
    within 30 mm of the symphysis's coronal plane (between the thighs' fronts); both centred on the midline."""
    case, marks = cases[seed, 9], landmarks(seed)
    penis = coordinates(case, case.organs.array == LABEL["penis"]).mean(axis=0)
    testes = coordinates(case, case.organs.array == LABEL["testis"]).mean(axis=0)
    symphysis = marks["symphysis"]
    assert penis[1] < symphysis[1] and penis[2] < symphysis[2] - 20.0, (penis, symphysis)
    assert testes[2] < marks["tuberosity_z"] and testes[1] < symphysis[1] + 30.0, (testes, symphysis)
    assert abs(penis[0]) < 5.0 and abs(testes[0]) < 5.0


@pytest.mark.parametrize("seed", MEN)
def test_penis_has_the_published_girth_and_length(cases, seed):
    """The corpora with their sleeve: the cross-section's area gives the girth, the extent along the main axis the
    length, each within the published mean ± 2 SD (and near the drawn value)."""
    case = cases[seed, 9]
    corpora = coordinates(case, case.organs.array == LABEL["penis"])
    centred = corpora - corpora.mean(axis=0)
    axis = np.linalg.svd(centred, full_matrices=False)[2][0]
    along = centred @ axis
    length = float(along.max() - along.min()) + 4.0  # voxel centres to voxel edges
    drawn = case.manifest["genitalia"]
    radius_corpora = drawn["penis_girth_mm"] / (2 * np.pi) - 3.0
    assert length - 2 * radius_corpora == pytest.approx(drawn["penis_length_mm"], abs=12.0)
    assert PENIS_LENGTH_MM[0] - 2 * PENIS_LENGTH_MM[1] <= drawn["penis_length_mm"] <= sum((PENIS_LENGTH_MM[0],
                                                                                          2 * PENIS_LENGTH_MM[1]))
    area = corpora.shape[0] * VOXEL_ML * 1000.0 / (length - 2 * radius_corpora + 4.0 / 3.0 * radius_corpora)
    girth = 2 * np.pi * (np.sqrt(area / np.pi) + 3.0)
    assert PENIS_GIRTH_MM[0] - 2 * PENIS_GIRTH_MM[1] <= girth <= PENIS_GIRTH_MM[0] + 2 * PENIS_GIRTH_MM[1], girth


@pytest.mark.parametrize("seed", MEN + WOMEN)
def test_only_air_and_skin_fat_of_version_8_change(cases, seed):
    """Genitalia fill the air between the thighs (and the skin's fat): every bone and muscle voxel, the thighs'
    included, and every organ is version 8's."""
    old, new = cases[seed, 8].organs.array, cases[seed, 9].organs.array
    changed = old != new
    assert changed.sum() * VOXEL_ML > 20.0  # ml of genitalia
    assert np.isin(old[changed], (LABEL["air"], LABEL["subcutaneous_fat"])).all()
    for kept in (BONE, MUSCLE_LABELS):
        assert np.array_equal(np.isin(old, kept), np.isin(new, kept))


@pytest.mark.parametrize("seed", WOMEN)
def test_women_have_labia_majora_either_side_of_a_cleft_and_no_testis(cases, seed):
    """Below the perineum, in front of the anal canal's line, version 8's air between the thighs becomes fat on both
    sides of the midline; the midline between them stays air (the vulval cleft)."""
    old, new = cases[seed, 8].organs.array, cases[seed, 9].organs.array
    assert not np.isin(new, (LABEL["testis"], LABEL["penis"])).any()
    marks = landmarks(seed)
    xyz = coordinates(cases[seed, 9], (old == LABEL["air"]) & (new == LABEL["subcutaneous_fat"]))
    below = (xyz[:, 2] < marks["tuberosity_z"]) & (xyz[:, 1] < marks["symphysis"][1] + 60.0)
    for side in (-1, 1):
        assert (below & (side * xyz[:, 0] > 0)).sum() * VOXEL_ML > 5.0  # ml of each labium outside the trunk
    origin, spacing = cases[seed, 9].organs.origin, cases[seed, 9].organs.spacing
    mid = int(round(-origin[0] / spacing[0]))
    flanked = (new[:, :, mid - 1] == LABEL["subcutaneous_fat"]) & (new[:, :, mid + 1] == LABEL["subcutaneous_fat"])
    assert (flanked & (new[:, :, mid] == LABEL["air"])).sum() >= 3  # the cleft, voxels between the two folds
