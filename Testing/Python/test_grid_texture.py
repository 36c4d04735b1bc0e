"""Grid texture: ~1/ln 2 for a smooth spectrum, the predicted excess for a checkerboard, real CT slices near their
own floor, a checkerboard and nearest-neighbour x2 blocks flagged, and no change for an added constant."""

from __future__ import annotations

import math

import numpy as np
import pytest

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.evaluation.grid_texture import (
    MIN_SIDE,
    artefact_frequencies,
    grid_texture,
    grid_texture_scores,
    signal_scores,
)
from MedGANSynthLib.phantoms.ct_slices import make_chest_ct_slices

SIZE = 64


def checkerboard(size: int = SIZE) -> np.ndarray:
    rows, columns = np.indices((size, size))
    return (-1.0) ** (rows + columns)


def ct_gan_slices(seed: int, count: int = 12) -> np.ndarray:
    """Phantom chest slices scaled as the CT GAN sees them: -1000..1000 HU onto 0..2."""
    hu = make_chest_ct_slices(seed, count, size=SIZE).ct.array.astype(np.float64)
    return (np.clip(hu, -1000.0, 1000.0) + 1000.0) / 1000.0


@pytest.fixture(scope="module")
def slices() -> tuple[np.ndarray, np.ndarray]:
    """Two independent sets of real-like slices: one plays the held-out images, the other a perfect generator."""
    return ct_gan_slices(11), ct_gan_slices(12)


def test_the_frequencies_are_those_of_periods_two_and_four():
    frequencies = artefact_frequencies()
    assert len(frequencies) == 9  # 4 x 4 combinations of 0, 1/4, 1/2, 3/4, less (0, 0), one of each +f / -f pair
    for must in ((0.5, 0.5), (0.5, 0.0), (0.0, 0.5), (0.25, 0.0), (0.0, 0.25), (0.25, 0.25)):
        assert must in frequencies


def test_white_noise_scores_one_over_ln_two_and_a_checkerboard_adds_the_predicted_excess(rng):
    noise = rng.standard_normal((300, SIZE, SIZE))
    plain = signal_scores(noise)[0]  # the image's own spectrum
    # Each periodogram bin of white noise is exponential about one mean; the ring's median is ln 2 of it. The median
    # of ~100 correlated bins is itself noisy, which raises the mean of peak/median by a few per cent.
    assert 1.0 / math.log(2) <= plain.mean() <= 1.1 / math.log(2)
    # A checkerboard of amplitude e under the Hann window adds (e * sum w)^2 = (e * N^2 / 4)^2 at (1/2, 1/2), over a
    # ring of noise power sigma^2 * sum w^2 * ln 2 = (3N/8)^2 * ln 2, averaged over the 9 frequencies:
    # 4 e^2 N^2 / (81 ln 2) for sigma 1. With e = 1/4 (invisible under the noise) that is 18.2.
    amplitude = 0.25
    predicted = 4 * amplitude**2 * SIZE**2 / (81 * math.log(2))
    excess = (signal_scores(noise + amplitude * checkerboard())[0] - plain).mean()
    assert excess == pytest.approx(predicted, rel=0.2)


def test_real_slices_score_near_their_floor(slices):
    heldout, other = slices
    # Two independent sets of 12 phantom slices differ by a ratio near 1 (1.19 when written); this spread is the
    # margin the flagged artefacts below must clear with room to spare.
    assert 1 / 1.5 < grid_texture(other, heldout).summary()["ratio"] < 1.5


def test_a_faint_checkerboard_is_flagged(slices):
    heldout, other = slices
    # 0.01 is 10 HU, 0.5 % of the CT GAN's window and below the slices' noise: invisible, yet 3-4 times the floor.
    assert grid_texture(other + 0.01 * checkerboard(), heldout).summary()["ratio"] > 2.5


def test_nearest_neighbour_blocks_are_flagged(slices, rng):
    heldout, other = slices
    # Noise drawn at half resolution and copied into 2 x 2 blocks: the last layer of a generator that up-samples by
    # nearest neighbour and paints texture. SD 0.1 = 100 HU, about the slices' own mean neighbour difference.
    blocks = np.kron(rng.standard_normal((len(other), SIZE // 2, SIZE // 2)), np.ones((1, 2, 2))) * 0.1
    assert grid_texture(other + blocks, heldout).summary()["ratio"] > 2.0
    # The blocks show in the neighbour differences, not in the image's own spectrum (the 2 x 2 sum is 0 at 1/2).
    image_only, horizontal, vertical = signal_scores(other + blocks).mean(axis=1)
    assert min(horizontal, vertical) > 2 * image_only


def test_the_score_ignores_an_added_constant_and_the_contrast(slices):
    _, images = slices
    # Exact up to float32 rounding (images are checked into float32 first); a real dependence would move it by %.
    np.testing.assert_allclose(grid_texture_scores(images + 7.0), grid_texture_scores(images), rtol=1e-4)
    np.testing.assert_allclose(grid_texture_scores(images * 3.0), grid_texture_scores(images), rtol=1e-4)


def test_images_too_small_are_refused():
    with pytest.raises(InputError, match=f"at least {MIN_SIDE} x {MIN_SIDE}"):
        grid_texture_scores(np.zeros((2, MIN_SIDE - 1, 40)))
