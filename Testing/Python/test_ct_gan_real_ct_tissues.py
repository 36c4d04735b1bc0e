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
