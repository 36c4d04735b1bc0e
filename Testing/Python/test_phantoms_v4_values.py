"""Version 4's session-24 value corrections measured on generated cases against the published values of
MedGANSynthLib/phantoms/REFERENCE.md ("Version 4"): the muscle's and small bowel's portal-venous enhancement, the
unenhanced pancreas and the cortical bone's SUV. Versions 2 and 3 are frozen (models are trained on 3), so where
they differ from a source the check is a strict xfail stating the difference; version 4 must pass it.

The numbers are typed from REFERENCE.md, never imported from the generator. Each subject is generated unenhanced and
portal-venous from the same seed, with the same CT noise level in both so that their difference is the enhancement.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from MedGANSynthLib.phantoms.tissues import LABEL, is_muscle
from MedGANSynthLib.phantoms.wholebody import WholeBodyConfig, make_wholebody_case

GRID = WholeBodyConfig(ct_noise_sd=20.0).with_voxel_mm(4.0)
SEEDS = (10, 12, 24)  # a man of 73, a woman of 66, a man of 42 (the subject a seed draws is the same in 2-4)

# Posterior paraspinal muscle, venous phase over non-contrast, by sex (mean) [Paraspinal-contrast]; the spread is the
# paired same-kV SD of [vdWerf-contrast-2018]; mean ± 2 SD, and never below 0 (iodine cannot lower attenuation †).
MUSCLE_ENHANCEMENT_MEAN_HU = {"F": 8.0, "M": 4.0}
MUSCLE_ENHANCEMENT_SD_HU = 3.2
# Small-bowel wall at the portal phase after 52.5 g iodine: 107 (ileum) to 111 HU (duodenum, jejunum)
# [SmallBowel-enh]; minus the phantom's unenhanced wall (40 HU †), scaled to the liver source's 30 g iodine, gives
# +38.3 to +40.6 HU (derived); REFERENCE.md widens it by about 3 HU each side † to +35 ... +45.
SMALL_BOWEL_ENHANCEMENT_HU = (35.0, 45.0)
PANCREAS_HU = (47.4, 3.7)  # body of 33 non-diabetic controls, unenhanced (mean, SD) [Pancreas-DECT-T2DM]
# Femoral diaphysis SUVmean of 84 patients, 0.46 (95 % CI 0.42-0.49) [LongBone-FDG-2016]; the between-patient SD
# recovered from the CI (derived): (0.49 - 0.42) / (2 × 1.96) × sqrt(84) = 0.16
CORTICAL_BONE_SUV = (0.46, 0.16)


def _differs_before_v4(reason):
    """Versions 2 and 3 as strict xfails stating the published difference, version 4 as a plain pass."""
    old = [pytest.param(v, marks=pytest.mark.xfail(strict=True, reason=reason), id=f"v{v}") for v in (2, 3)]
    return pytest.mark.parametrize("pairs", [*old, pytest.param(4, id="v4")], indirect=True)


@pytest.fixture(scope="module")
def pairs(request):
    """(unenhanced, portal-venous) cases of each seed in the requested version."""
    return [tuple(make_wholebody_case(seed, "normal", GRID, version=request.param, contrast=contrast)
                  for contrast in ("none", "portal-venous")) for seed in SEEDS]


def _free(case, tissue, structure=None):
    """The tissue's voxels eroded once (``structure``: scipy's default cross), lesions left out."""
    voxels = is_muscle(case.organs.array) if tissue == "muscle" else case.organs.array == LABEL[tissue]
    mask = ndimage.binary_erosion(voxels, structure=structure)
    return mask & (case.lesions.array == 0)


@_differs_before_v4("known difference (REFERENCE.md §3, corrected in version 4): muscle enhanced +5-15 HU for both "
                    "sexes in versions 2 and 3; men +4.0 ± 3.2 (at most 10.4); seed 24 draws +13.2")
def test_muscle_portal_venous_enhancement_by_sex(pairs):
    """Eroded muscle on the portal-venous CT minus the subject's unenhanced muscle HU within the sex's mean ± 2 SD,
    floor 0 (± 0.5 HU for the CT noise's mean over the muscle). The unenhanced HU is the one the case records: in
    versions 3 and 4 a woman's unenhanced muscle is drawn after the phase's enhancement draws, so the unenhanced
    case of her seed is another draw (a man's is the same, checked below)."""
    for unenhanced, enhanced in pairs:
        sex = enhanced.manifest["subject"]["sex"]
        measured = enhanced.ct.array[_free(enhanced, "muscle")].mean() - enhanced.manifest["organ_hu_unenhanced"][
            "muscle"]
        mean, sd = MUSCLE_ENHANCEMENT_MEAN_HU[sex], MUSCLE_ENHANCEMENT_SD_HU
        assert max(mean - 2 * sd, 0.0) - 0.5 <= measured <= mean + 2 * sd + 0.5, (sex, measured)
        if sex == "M":  # the same man in both phases: the image pair gives the same enhancement
            muscle = _free(enhanced, "muscle")
            pair = enhanced.ct.array[muscle].mean() - unenhanced.ct.array[muscle].mean()
            assert pair == pytest.approx(measured, abs=0.5)


@_differs_before_v4("known difference (REFERENCE.md §3, corrected in version 4): small-bowel wall enhanced +20-40 HU in "
                    "versions 2 and 3, 22-30 HU below the published portal wall (107-111 HU); seed 10 draws +23.6")
def test_small_bowel_wall_portal_venous_enhancement(pairs):
    """Portal-venous minus unenhanced CT of the same subject over small-bowel wall voxels whose neighbours along z
    are wall too (the wall is thinner than a voxel in-plane, where the blur is negligible; along z the slice profile
    mixes neighbours), within the derived +35 ... +45 HU (± 0.5 HU for rounding)."""
    for unenhanced, enhanced in pairs:
        wall = _free(enhanced, "bowel", structure=np.ones((3, 1, 1), bool))
        assert wall.sum() > 100
        measured = (enhanced.ct.array[wall].astype(float) - unenhanced.ct.array[wall]).mean()
        assert SMALL_BOWEL_ENHANCEMENT_HU[0] - 0.5 <= measured <= SMALL_BOWEL_ENHANCEMENT_HU[1] + 0.5, measured


@_differs_before_v4("known difference (REFERENCE.md §3, corrected in version 4): pancreas drawn at 35-50 HU in "
                    "versions 2 and 3, 33 % of the draws below the controls' mean - 2 SD (40.0); seed 12 draws 35.4")
def test_unenhanced_pancreas_within_non_diabetic_controls(pairs):
    """Eroded pancreas on the unenhanced CT within the controls' mean ± 2 SD (40.0-54.8 HU), ± 2 HU for the noise
    and texture over a small organ."""
    mean, sd = PANCREAS_HU
    for unenhanced, _ in pairs:
        measured = unenhanced.ct.array[_free(unenhanced, "pancreas")].mean()
        assert mean - 2 * sd - 2.0 <= measured <= mean + 2 * sd + 2.0, measured


@_differs_before_v4("known difference (REFERENCE.md §1, corrected in version 4): cortical bone drawn at SUV 0.5-1.0 in "
                    "versions 2 and 3, all above the femoral diaphysis's 0.46, 44 % above its mean + 2 SD (0.78); "
                    "seeds 10 and 12 draw 0.86 and 0.94")
def test_cortical_bone_suv_within_femoral_diaphysis(pairs):
    """Cortical bone on the PET truth (before the scanner's blur, which would mix in the marrow) within the femoral
    diaphysis's mean ± 2 SD (0.14-0.78); the same in both phases of a seed."""
    mean, sd = CORTICAL_BONE_SUV
    for unenhanced, enhanced in pairs:
        values = [case.pet_truth.array[(case.organs.array == LABEL["cortical_bone"]) & (case.lesions.array == 0)]
                  .mean() for case in (unenhanced, enhanced)]
        assert values[0] == pytest.approx(values[1], abs=1e-4)
        assert mean - 2 * sd - 1e-3 <= values[0] <= mean + 2 * sd + 1e-3, values[0]


@pytest.mark.parametrize("pairs", [pytest.param(4, id="v4")], indirect=True)
def test_version_4_draws_the_four_values_the_same_in_both_phases(pairs):
    """A woman of 66 (seed 12): her unenhanced pancreas does not depend on the contrast phase (the phase's extra
    draws move every value drawn after them in the physiology stream, e.g. her unenhanced muscle), so the two
    images differ over the pancreas by the enhanced case's own enhancement only."""
    unenhanced, enhanced = pairs[SEEDS.index(12)]  # the fixture's version-4 pair of seed 12
    assert unenhanced.manifest["seed"] == enhanced.manifest["seed"] == 12
    pancreas = _free(unenhanced, "pancreas")
    enhancement = enhanced.ct.array[pancreas].mean() - unenhanced.ct.array[pancreas].mean()
    recorded = enhanced.manifest["organ_hu"]["pancreas"] - enhanced.manifest["organ_hu_unenhanced"]["pancreas"]
    assert enhancement == pytest.approx(recorded, abs=0.5)  # the image pair's difference is the phase's enhancement
    assert 50.0 - 0.5 <= enhancement <= 80.0 + 0.5  # version 2's pancreatic enhancement (+50-80 †), kept
