"""Tissue shares of CT slices (Testing/Training/ct_gan_real_ct_tissues.py): the classes' HU bounds, counted by hand."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "Testing" / "Training"))

from ct_gan_real_ct_tissues import tissue_shares  # noqa: E402


def test_shares_count_each_class_among_the_pixels_that_are_not_air():
    # Two pixels per group, on and inside each bound: air (<= -950 HU, not counted), lung (-950, -400],
    # between lung and fat (no class), fat (-150, -30], soft tissue (-30, 150], bone (> 150).
    hu = np.array([[-1000, -950, -949, -400, -200, -150],
                   [-100, -30, 40, 150, 151, 700]], dtype=np.float64)[None]
    shares = tissue_shares(hu)
    assert shares["body_share_of_image"] == pytest.approx(10 / 12)
    for name in ("lung", "fat", "soft", "bone"):
        assert shares[name] == pytest.approx(2 / 10), name
    assert shares["soft_mean_hu"] == pytest.approx((40 + 150) / 2)
    assert shares["slices"] == 1


def test_sample_spread_is_the_sd_of_each_slice_s_whole_image_mean():
    # Three 2 x 2 slices whose means are -1000, -500 and 0 HU: population SD = sqrt((500² + 0 + 500²) / 3).
    slices = np.array([np.full((2, 2), -1000.0), [[-1000.0, 0.0], [-1000.0, 0.0]], np.zeros((2, 2))])
    assert tissue_shares(slices)["sample_mean_hu_sd"] == pytest.approx(np.sqrt(2 * 500.0**2 / 3))
