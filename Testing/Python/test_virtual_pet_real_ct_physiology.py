"""The bundled virtual PET on real patient CTs, judged by published FDG levels (issue 29, item 3).

The real CTs in ../shared/data come without a PET, so the truth is what the literature says of normal tissue:
fat at SUVmean 0.2-0.6 and below skeletal muscle (0.6-1.0), liver at 1.5-2.5, nothing below 0 and nothing outside
the body. Tissues are told apart by HU, depth and thickness (Testing/Training/virtual_pet_real_ct_physiology.py,
written independently of the product's body mask). Each CT is predicted as `medgansynth virtual-pet` writes it by default.
"""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "Training"))
from virtual_pet_real_ct_physiology import PUBLISHED, REAL_CTS, SHARED_DATA, measure, tissue_masks  # noqa: E402

from MedGANSynthLib.virtual_pet.weights import load_virtual_pet  # noqa: E402
from MedGANSynthLib.volume import Volume  # noqa: E402


@pytest.fixture(scope="module")
def measured():
    """The tissue SUVs of one real CT, predicted once per module."""
    model, cache = load_virtual_pet("virtual-pet-phantom"), {}

    def tissues_of(name: str) -> dict:
        path = SHARED_DATA / name
        if not path.exists():
            pytest.skip(f"{path} is absent (the real data lives in ../shared/data beside the clone)")
        if name not in cache:
            cache[name] = measure(path, model, "zero")
        return cache[name]

    return tissues_of


@pytest.fixture(params=REAL_CTS)
def tissues(request, measured):
    return measured(request.param)


def test_fat_sits_at_its_published_level_and_below_muscle(tissues):
    low, high = PUBLISHED["fat"]
    assert low <= tissues["fat_mean"] <= high, tissues
    assert tissues["fat_mean"] < tissues["muscle_mean"], tissues


def test_nothing_below_zero_and_nothing_outside_the_body(tissues):
    assert tissues["suv_min"] >= 0.0 and tissues["fraction_below_0"] == 0.0
    assert tissues["outside_body_max"] == 0.0


THORAX, TORSO = "ct-dicom-thorax", "ct-nifti/example_ct_sm.nii.gz"
ORGAN_LEVELS = [
    pytest.param(THORAX, "muscle", id="portal-venous-muscle"),
    # Muscle away from the liver (its rim and the wall that touches it share muscle's HU): with them the mask read
    # 1.06 in session 31, pulled up by the liver's level.
    pytest.param(TORSO, "muscle", id="unenhanced-muscle"),
    # The core of the liver (thick soft tissue on the right, here portal-venous at ~93 HU).
    pytest.param(THORAX, "liver", id="portal-venous-liver"),
    pytest.param(TORSO, "liver", id="unenhanced-liver", marks=pytest.mark.xfail(
        strict=True, reason="the small unenhanced torso CT's liver reads 1.44 (session 32), below the published "
        "1.5-2.5: the blend's base from the FCN cools the liver (1.70 with the paper's base), as on the phantoms; "
        "this flips when a model gets it right")),
    pytest.param(THORAX, "spleen", id="portal-venous-spleen"),
]


@pytest.mark.parametrize("ct, organ", ORGAN_LEVELS)
def test_organ_sits_at_its_published_level(measured, ct, organ):
    low, high = PUBLISHED[organ]
    tissues = measured(ct)
    assert low <= tissues[f"{organ}_mean"] <= high, tissues


@pytest.mark.parametrize("ct", [THORAX, pytest.param(TORSO, marks=pytest.mark.xfail(
    strict=True, reason="left 0.97 against right 0.87 (1.11) on the small unenhanced torso CT (session 33; the "
    "mask's right half holds less muscle once the liver's rim is left out); 10 % is this test's own tolerance"))])
def test_muscle_reads_alike_left_and_right(measured, ct):
    tissues = measured(ct)
    assert np.isclose(tissues["muscle_left_mean"], tissues["muscle_right_mean"], rtol=0.1), tissues


@pytest.mark.xfail(strict=True, reason="the spleen reads 1.72 against the liver's 1.59 on the portal-venous CT "
                                       "(session 32; 2.28 / 2.18 with the paper's base); FDG puts the spleen below the "
                                       "liver (liver = 1.36 x spleen on average, REFERENCE.md [Peters-2017])")
def test_spleen_sits_below_the_liver(measured):
    tissues = measured(THORAX)
    assert tissues["spleen_mean"] < tissues["liver_mean"]


def synthetic_trunk(with_organ: bool):
    """A 3 mm elliptical trunk of fat (-100 HU) under a 9 mm muscle band (40 HU); with_organ adds a 60 mm-radius
    cylinder at 55 HU on the patient's right (LPS: smaller x, here smaller i) that touches the band."""
    k, j, i = np.indices((12, 100, 140))
    r = np.hypot((i - 70) / 60.0, (j - 50) / 40.0)
    hu = np.where(r <= 1.0, -100.0, -1000.0)
    hu[(r <= 1.0) & (r > 0.85)] = 40.0
    organ = np.hypot(i - 35, j - 50) <= 20  # 20 voxels = 60 mm
    if with_organ:
        hu[organ & (r <= 1.0)] = 55.0
    return Volume(hu.astype(np.int16), spacing=(3.0, 3.0, 3.0)), organ


def test_the_liver_mask_finds_a_thick_organ_on_the_right_and_keeps_its_rim_out_of_muscle():
    without, _ = synthetic_trunk(with_organ=False)
    masks = tissue_masks(without)
    assert not masks["liver"].any() and masks["muscle"].any()
    with_organ, organ = synthetic_trunk(with_organ=True)
    masks = tissue_masks(with_organ)
    liver = masks["liver"]
    assert liver.any() and (liver & organ).sum() >= 0.95 * liver.sum()  # the rest: the band where it meets the organ
    k, j, i = np.nonzero(masks["muscle"])
    assert np.all(np.hypot(i - 35, j - 50) * 3.0 > 60.0 + 20.0 - 15.0 - 3.0)  # nothing within the rim of the core
