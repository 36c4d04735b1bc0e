"""Brain FDG-PET phantoms: stage effects of PHANTOM_REFERENCE §5 measured in the region masks."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import shared_data_path
from scipy import ndimage

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.phantoms.brain import REGION_IDS, BrainConfig, make_brain_case


@pytest.fixture(scope="module")
def analytic_stages(tmp_path_factory):
    config = BrainConfig(template_path=str(tmp_path_factory.mktemp("none") / "missing_PET.nii"))
    return {stage: make_brain_case(11, stage, config) for stage in ("NC", "MCI", "AD")}


def _core(region, *cases):
    """Voxels of ``region`` in every case (enlarged ventricles take some), 2 voxels from its edge."""
    mask = np.logical_and.reduce([case.regions.array == REGION_IDS[region] for case in cases])
    return ndimage.binary_erosion(mask, iterations=2)


def _check_stage_pattern(cases):
    nc, mci, ad = cases["NC"], cases["MCI"], cases["AD"]
    for region, (low, high) in (("posterior_cingulate", (0.15, 0.25)), ("temporoparietal", (0.15, 0.30))):
        core = _core(region, nc, mci, ad)
        assert core.sum() > 30
        deficit = ad.manifest["deficits"][region]
        assert low <= deficit <= high  # §5 AD range
        ratio = ad.pet.array[core].mean() / nc.pet.array[core].mean()
        assert ratio == pytest.approx(1.0 - deficit, abs=0.03)
        mci_ratio = mci.pet.array[core].mean() / nc.pet.array[core].mean()
        assert ratio < mci_ratio < 1.0
        assert 0.05 <= mci.manifest["deficits"][region] <= 0.10  # §5 MCI -5..-10 %
    for preserved in ("cerebellum", "sensorimotor", "basal_ganglia"):
        core = _core(preserved, nc, ad)
        assert ad.pet.array[core].mean() / nc.pet.array[core].mean() == pytest.approx(1.0, abs=0.02)
    ventricle_voxels = [(c.regions.array == REGION_IDS["ventricles"]).sum() for c in (nc, mci, ad)]
    assert ventricle_voxels[0] < ventricle_voxels[1] < ventricle_voxels[2]


def test_analytic_fallback_stage_pattern(analytic_stages):
    assert {c.manifest["anatomy_source"] for c in analytic_stages.values()} == {"analytic"}
    _check_stage_pattern(analytic_stages)


def test_template_stage_pattern():
    template = shared_data_path("brain-pet-template", "PET.nii")
    cases = {stage: make_brain_case(11, stage, BrainConfig(template_path=str(template))) for stage in ("NC", "MCI", "AD")}
    assert cases["NC"].manifest["anatomy_source"] == "spm_template"
    _check_stage_pattern(cases)
    pet = cases["NC"].pet
    assert pet.array.shape == (91, 109, 91) and pet.spacing == (2.0, 2.0, 2.0) and pet.units == "SUV"
    grey = cases["NC"].manifest["grey_matter_suv"]
    assert 8.0 <= grey <= 12.0  # §1 grey matter 8-12 at 60 min
    brain = cases["NC"].regions.array > 0
    # The hottest cortex sits near the grey-matter SUV; white matter well below (GM:WM 2.5-3, §1).
    assert np.percentile(pet.array[brain], 97) == pytest.approx(grey, rel=0.25)


@pytest.mark.parametrize("use_template", [True, False])
def test_grey_white_contrast(use_template, tmp_path):
    """GM:WM 2.5-3 (§1): hottest cortex over the centrum semiovale, measured without noise or subject motion."""
    path = str(shared_data_path("brain-pet-template", "PET.nii")) if use_template else str(tmp_path / "absent.nii")
    config = BrainConfig(template_path=path, noise=False, rotation_sd_deg=0.0, scale_range=0.0, shift_sd_mm=0.0)
    case = make_brain_case(5, "NC", config)
    pet = case.pet.array
    # Centrum semiovale at MNI (±26, -15, 28) mm: index = (LPS - origin) / spacing, with LPS = (-x, -y, z).
    white = [pet[int((28 + 72) / 2), int((126 - 15) / 2) - dj, int((90 - side * 26) / 2) + di]
             for side in (-1, 1) for dj in (-1, 0, 1) for di in (-1, 0, 1)]
    ratio = np.percentile(pet[case.regions.array > 0], 95) / np.mean(white)
    assert 2.2 <= ratio <= 3.3
    assert ratio == pytest.approx(case.manifest["gm_wm_ratio"], rel=0.12)


def test_same_seed_same_volume_and_seeds_differ(analytic_stages, tmp_path):
    config = BrainConfig(template_path=None)
    again = make_brain_case(11, "AD", config)
    assert np.array_equal(again.pet.array, analytic_stages["AD"].pet.array)
    assert np.array_equal(again.regions.array, analytic_stages["AD"].regions.array)
    other = make_brain_case(12, "AD", config)
    assert not np.array_equal(other.pet.array, again.pet.array)
    assert other.manifest["affine"] != again.manifest["affine"]


def test_unknown_stage():
    with pytest.raises(InputError, match="stage"):
        make_brain_case(1, "FTD", BrainConfig(template_path=None))
