"""Intensity windows of the papers: forward and inverse against hand arithmetic."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.preprocessing.windows import (
    CT_GAN_WINDOW,
    RADIOGAN_SUV_WINDOW,
    VIRTUAL_PET_CT_WINDOW,
    VIRTUAL_PET_SUV_WINDOW,
    IntensityWindow,
)
from MedGANSynthLib.volume import Volume


def test_radiogan_suv_0_30_to_0_1():
    suv = np.array([-2.0, 0.0, 3.0, 15.0, 30.0, 45.0])
    np.testing.assert_allclose(RADIOGAN_SUV_WINDOW.forward(suv), [0.0, 0.0, 0.1, 0.5, 1.0, 1.0])


def test_virtual_pet_suv_is_a_clip_to_0_20():
    suv = np.array([-1.0, 0.0, 2.5, 19.9, 20.0, 35.0])
    np.testing.assert_allclose(VIRTUAL_PET_SUV_WINDOW.forward(suv), [0.0, 0.0, 2.5, 19.9, 20.0, 20.0])


def test_virtual_pet_ct_window_minus_160_to_240():
    hu = np.array([-1000.0, -160.0, 0.0, 40.0, 240.0, 1200.0])
    np.testing.assert_allclose(VIRTUAL_PET_CT_WINDOW.forward(hu), [0.0, 0.0, 0.4, 0.5, 1.0, 1.0])


def test_ct_gan_window_minus_1000_1000_to_0_2():
    hu = np.array([-1024.0, -1000.0, 0.0, 500.0, 1000.0, 3000.0])
    np.testing.assert_allclose(CT_GAN_WINDOW.forward(hu), [0.0, 0.0, 1.0, 1.5, 2.0, 2.0])


@pytest.mark.parametrize("window", [RADIOGAN_SUV_WINDOW, VIRTUAL_PET_SUV_WINDOW, VIRTUAL_PET_CT_WINDOW, CT_GAN_WINDOW])
def test_inverse_undoes_forward_inside_the_window(window, rng):
    values = rng.uniform(window.low, window.high, size=1000)
    np.testing.assert_allclose(window.inverse(window.forward(values)), values, rtol=0, atol=1e-9)


def test_inverse_against_hand_arithmetic():
    np.testing.assert_allclose(VIRTUAL_PET_CT_WINDOW.inverse(np.array([0.0, 0.25, 1.0])), [-160.0, -60.0, 240.0])
    np.testing.assert_allclose(RADIOGAN_SUV_WINDOW.inverse(np.array([0.2])), [6.0])


def test_clipping_is_not_invertible_outside_the_window():
    # Everything above the window comes back as the window's top: the lost information stays lost.
    back = RADIOGAN_SUV_WINDOW.inverse(RADIOGAN_SUV_WINDOW.forward(np.array([30.0, 45.0, 100.0])))
    np.testing.assert_allclose(back, [30.0, 30.0, 30.0])
    # A generator overshooting [0, 1] is clipped back into the window on the way out.
    np.testing.assert_allclose(RADIOGAN_SUV_WINDOW.inverse(np.array([-0.1, 1.2])), [0.0, 30.0])
    np.testing.assert_allclose(RADIOGAN_SUV_WINDOW.inverse(np.array([1.2]), clip=False), [36.0])


def test_works_on_torch_tensors():
    hu = torch.tensor([-200.0, 40.0, 300.0])
    out = VIRTUAL_PET_CT_WINDOW.forward(hu)
    assert isinstance(out, torch.Tensor)
    torch.testing.assert_close(out, torch.tensor([0.0, 0.5, 1.0]))


def test_apply_keeps_grid_and_records_window(oblique_volume):
    ct = oblique_volume.with_array(oblique_volume.array * 300.0)
    out = VIRTUAL_PET_CT_WINDOW.apply(ct)
    assert out.same_grid(ct) and out.array.dtype == np.float32
    np.testing.assert_allclose(out.array, np.clip((ct.array + 160.0) / 400.0, 0, 1), atol=1e-6)
    assert out.metadata["intensity_window"]["low"] == -160.0 and out.units == "scaled"
    assert isinstance(ct, Volume)


def test_window_with_low_above_high_is_refused():
    with pytest.raises(InputError, match="low < high"):
        IntensityWindow("bad", 10.0, 5.0)
