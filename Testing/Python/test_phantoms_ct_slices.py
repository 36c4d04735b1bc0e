"""Chest CT slices for the CT GAN: shape, spacing, HU range and content, determinism."""

from __future__ import annotations

import numpy as np
import pytest

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.phantoms.ct_slices import make_chest_ct_slices


@pytest.mark.parametrize("size", [40, 64])
def test_shape_spacing_and_range(size):
    stack = make_chest_ct_slices(3, 6, size=size, field_of_view_mm=360.0)
    assert stack.ct.array.shape == (6, size, size)
    assert stack.ct.spacing[:2] == pytest.approx((360.0 / size, 360.0 / size))
    assert stack.ct.units == "HU" and stack.manifest["count"] == 6 and len(stack.manifest["slices"]) == 6
    image = stack.ct.array
    assert image.min() >= -1024 and image.max() <= 3071
    for slice_ in image:
        assert np.median(slice_[:2, :]) == pytest.approx(-1000, abs=30)  # air in front of the chest
        assert np.mean((slice_ > -950) & (slice_ < -600)) > 0.02  # aerated lung (§3: -850..-910 plus vessels)
        assert np.mean((slice_ > -150) & (slice_ < 100)) > 0.1  # soft tissue and fat of the chest wall
        assert slice_.max() > 300  # spine / ribs


def test_area_downsampling_keeps_mean_hu():
    """The 64 px image is the block mean of the fine render: same slice rendered at 32 px has ~the same mean."""
    fine = make_chest_ct_slices(8, 3, size=64, render_px=320)
    coarse = make_chest_ct_slices(8, 3, size=32, render_px=320)
    block = fine.ct.array.reshape(3, 32, 2, 32, 2).mean(axis=(2, 4))
    assert np.allclose(block.mean(axis=(1, 2)), coarse.ct.array.mean(axis=(1, 2)), atol=15)


def test_deterministic_and_varied():
    a, b, c = make_chest_ct_slices(1, 4), make_chest_ct_slices(1, 4), make_chest_ct_slices(2, 4)
    assert np.array_equal(a.ct.array, b.ct.array)
    assert not np.array_equal(a.ct.array, c.ct.array)
    assert not np.array_equal(a.ct.array[0], a.ct.array[1])  # each slice a different subject / level


def test_bad_count():
    with pytest.raises(InputError, match="at least 1"):
        make_chest_ct_slices(1, 0)
