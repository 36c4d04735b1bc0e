"""The false-positive floor's core (Testing/Training/virtual_pet_noise_floor.py) on one 4 mm version-5 phantom:
the noise it redraws is the generator's, a second draw has the same level and is independent, the smoothing is
a three-slice mean, and the noiseless truth scored against itself is a perfect prediction."""

from __future__ import annotations

import sys
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest

from MedGANSynthLib.phantoms.wholebody import WholeBodyConfig, add_pet_noise
from MedGANSynthLib.preprocessing.resample import resample_to_reference
from MedGANSynthLib.virtual_pet.evaluation import score_case

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "Testing" / "Training"))

from virtual_pet_noise_floor import (  # noqa: E402
    floor_predictions,
    generate_pair,
    generator_noise,
    second_realisation,
)

SEED = 11


@pytest.fixture(scope="module")
def pair():
    config = WholeBodyConfig().with_voxel_mm(4.0)
    return generate_pair({"config": asdict(config), "seed": SEED, "class": "lymphoma", "generator_version": 5,
                          "contrast": "none"})


def test_the_generators_noise_on_the_noiseless_pet_is_the_noisy_case(pair):
    noisy, quiet = pair
    assert np.array_equal(quiet.lesions.array, noisy.lesions.array)
    assert np.array_equal(quiet.organs.array, noisy.organs.array)
    assert not np.array_equal(quiet.pet.array, noisy.pet.array)
    assert np.array_equal(add_pet_noise(quiet.pet.array, *generator_noise(noisy.manifest)), noisy.pet.array)


def test_a_second_realisation_has_the_cases_noise_level_and_is_independent_of_it(pair):
    noisy, quiet = pair
    liver_cov, liver_suv, _ = generator_noise(noisy.manifest)
    second = second_realisation(quiet.pet, liver_cov, liver_suv, noise_seed=27, seed=SEED).array
    warm = quiet.pet.array > 1.0  # far above 0: the clip at 0 never acts
    # The generator's model, SD = liver_cov * sqrt(liver_suv * mean), gives unit SD once divided out.
    scale = liver_cov * np.sqrt(liver_suv * quiet.pet.array[warm])
    first_noise = (noisy.pet.array[warm] - quiet.pet.array[warm]) / scale
    second_noise = (second[warm] - quiet.pet.array[warm]) / scale
    assert warm.sum() > 10_000
    assert np.std(first_noise) == pytest.approx(1.0, abs=0.03)
    assert np.std(second_noise) == pytest.approx(1.0, abs=0.03)
    assert abs(np.corrcoef(first_noise, second_noise)[0, 1]) < 0.03


def test_the_noiseless_truth_scored_against_itself_finds_what_the_truth_finds_and_nothing_else(pair):
    noisy, quiet = pair
    ct = noisy.ct
    truth = resample_to_reference(quiet.pet, ct, "linear", default_value=0.0)
    truth = truth.with_array(truth.array.astype(np.float32))
    noiseless = floor_predictions(quiet.pet, {}, ct, smoothing_mm=12.0)["noiseless"]
    entry = score_case("floor", ct, truth, noisy.lesions, {"noiseless": noiseless}, 2.5, 0.5, None, noisy.organs.array)
    assert entry["true_pet"]["margin_tp"] > 0
    assert entry["noiseless"]["margin_tp"] == entry["true_pet"]["margin_tp"]
    assert entry["noiseless"]["margin_fp"] == 0 and entry["noiseless"]["margin_fp_regions"] == []
    assert np.array_equal(noiseless.array, truth.array)


def test_the_smoothing_is_the_mean_of_three_4mm_slices_with_the_edge_slice_repeated(pair):
    noisy, quiet = pair
    predictions = floor_predictions(quiet.pet, {}, noisy.ct, smoothing_mm=12.0)
    raw, smooth = predictions["noiseless"].array.astype(np.float64), predictions["noiseless_smoothed"].array
    assert noisy.ct.axis_along(2) == 0
    np.testing.assert_allclose(smooth[1:-1], (raw[:-2] + raw[1:-1] + raw[2:]) / 3, atol=1e-5)
    np.testing.assert_allclose(smooth[0], (2 * raw[0] + raw[1]) / 3, atol=1e-5)
