"""Laplacian-pyramid blending against an independent OpenCV construction and its defining properties."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.virtual_pet import blending
from MedGANSynthLib.virtual_pet.blending import (
    hot_mask,
    laplacian_blend,
    pyramid_expand,
    pyramid_reduce,
    usable_levels,
)


@pytest.fixture(autouse=True, params=["torch", "opencv"])
def pyramid_path(request, monkeypatch):
    """Every test runs twice: with the torch pyramid ops (CUDA's path, and the CPU's without OpenCV) and with the
    OpenCV kernels the CPU uses when cv2 is importable."""
    monkeypatch.setattr(blending, "OPENCV_ON_CPU", request.param == "opencv")
    return request.param


def _images(rng, n=1, shape=(37, 45)):
    fcn = rng.uniform(0.0, 6.0, size=(n, 1, *shape))
    gan = rng.uniform(0.0, 6.0, size=(n, 1, *shape))
    return torch.from_numpy(fcn), torch.from_numpy(gan)


# --- independent reference with OpenCV --------------------------------------------------------------------
# cv2.pyrDown blurs with [1 4 6 4 1]/16 and BORDER_REFLECT_101, then keeps even pixels. cv2.pyrUp replicates
# its last row/column at the bottom/right border, so the reference mirrors the coarse image by one pixel with
# cv2.copyMakeBorder(BORDER_REFLECT_101) first and crops the expansion: every kept pixel then comes from
# mirrored neighbours on all four sides, the boundary rule the library documents.
def _cv_expand(coarse: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    padded = cv2.copyMakeBorder(coarse, 1, 1, 1, 1, cv2.BORDER_REFLECT_101)
    return cv2.pyrUp(padded)[2 : 2 + shape[0], 2 : 2 + shape[1]]


def _cv_blend(fcn: np.ndarray, gan: np.ndarray, mask: np.ndarray, levels: int, base: int = 0) -> np.ndarray:
    def gaussian(image):
        pyramid = [image]
        for _ in range(levels):
            pyramid.append(cv2.pyrDown(pyramid[-1]))
        return pyramid

    def laplacian(image):
        g = gaussian(image)
        return [g[i] - _cv_expand(g[i + 1], g[i].shape) for i in range(levels)] + [g[-1]]

    weights, a, b = gaussian(mask), laplacian(fcn), laplacian(gan)
    weights = weights[: levels + 1 - base] + [np.ones_like(w) for w in weights[levels + 1 - base :]]  # the FCN's base
    mixed = [w * x + (1 - w) * y for w, x, y in zip(weights, a, b, strict=True)]
    result = mixed[-1]
    for detail in reversed(mixed[:-1]):
        result = _cv_expand(result, detail.shape) + detail
    return result


@pytest.mark.parametrize("shape", [(37, 45), (64, 64), (33, 20)])
def test_pyramid_operators_equal_opencv(rng, shape):
    image = rng.normal(size=shape)
    tensor = torch.from_numpy(image)[None, None]
    np.testing.assert_allclose(pyramid_reduce(tensor)[0, 0].numpy(), cv2.pyrDown(image), atol=1e-12)
    coarse = cv2.pyrDown(image)
    np.testing.assert_allclose(
        pyramid_expand(torch.from_numpy(coarse)[None, None], shape)[0, 0].numpy(), _cv_expand(coarse, shape),
        atol=1e-12,
    )


@pytest.mark.parametrize("levels", [1, 3, 4])
def test_blend_equals_opencv_reference(rng, levels):
    fcn, gan = _images(rng)
    expected = _cv_blend(fcn[0, 0].numpy(), gan[0, 0].numpy(), (fcn[0, 0].numpy() > 2.5).astype(np.float64), levels)
    blended = laplacian_blend(fcn, gan, threshold_suv=2.5, levels=levels)
    np.testing.assert_allclose(blended[0, 0].numpy(), expected, atol=1e-10)
    # float32 on the same data agrees to float32 precision
    blended32 = laplacian_blend(fcn.float(), gan.float(), threshold_suv=2.5, levels=levels)
    np.testing.assert_allclose(blended32[0, 0].numpy(), expected, atol=2e-5)


@pytest.mark.parametrize("base", [1, 2])
def test_a_base_from_the_fcn_equals_opencv_with_the_coarsest_weights_set_to_one(rng, base):
    fcn, gan = _images(rng, shape=(64, 64))
    f, g = fcn[0, 0].numpy(), gan[0, 0].numpy()
    expected = _cv_blend(f, g, (f > 4.5).astype(np.float64), levels=3, base=base)
    blended = laplacian_blend(fcn, gan, threshold_suv=4.5, levels=3, base_levels=base)
    np.testing.assert_allclose(blended[0, 0].numpy(), expected, atol=1e-10)
    # no hot pixel at all: still the FCN's base (the paper's blend would return the GAN image unchanged)
    expected = _cv_blend(f, g, np.zeros_like(f), levels=3, base=base)
    blended = laplacian_blend(fcn, gan, threshold_suv=99.0, levels=3, base_levels=base)
    np.testing.assert_allclose(blended[0, 0].numpy(), expected, atol=1e-10)
    assert not np.allclose(blended[0, 0].numpy(), g)


def test_the_base_lays_the_gan_s_texture_over_the_fcn_s_level():
    """A GAN at 1.3 with a one-pixel checkerboard (which the 5-tap kernel removes exactly: 1 - 4 + 6 - 4 + 1 = 0)
    over an FCN flat at 0.8: with the residual from the FCN the result is 0.8 plus the same checkerboard; with every
    level from the FCN it is the FCN image."""
    rows, cols = np.indices((64, 64))
    texture = torch.from_numpy(0.3 * (-1.0) ** (rows + cols))[None, None]
    gan = 1.3 + texture
    fcn = torch.full_like(gan, 0.8)
    np.testing.assert_allclose(laplacian_blend(fcn, gan, levels=4, base_levels=1).numpy(), (0.8 + texture).numpy(),
                               atol=1e-10)
    np.testing.assert_allclose(laplacian_blend(fcn, gan, levels=4, base_levels=5).numpy(), fcn.numpy(), atol=1e-10)
    np.testing.assert_array_equal(laplacian_blend(fcn, gan, levels=4, base_levels=0).numpy(), gan.numpy())
    with pytest.raises(InputError, match="negative number of levels"):
        laplacian_blend(fcn, gan, base_levels=-1)


@pytest.mark.parametrize("dilation", [1, 3])
def test_grown_mask_blend_equals_opencv_with_cv2_dilate(rng, dilation):
    fcn, gan = _images(rng)
    mask = (fcn[0, 0].numpy() > 4.5).astype(np.float64)
    grown = cv2.dilate(mask, np.ones((2 * dilation + 1, 2 * dilation + 1), np.uint8))
    assert grown.sum() > mask.sum()
    expected = _cv_blend(fcn[0, 0].numpy(), gan[0, 0].numpy(), grown, levels=3)
    blended = laplacian_blend(fcn, gan, threshold_suv=4.5, levels=3, dilation_px=dilation)
    np.testing.assert_allclose(blended[0, 0].numpy(), expected, atol=1e-10)


@pytest.mark.parametrize("dilation", [0, 2])
def test_vetoed_blend_equals_opencv_with_the_gan_s_unconfirmed_hot_pixels_added_to_the_mask(rng, dilation):
    fcn, gan = _images(rng)
    f, g = fcn[0, 0].numpy(), gan[0, 0].numpy()
    square = np.ones((2 * dilation + 1,) * 2, np.uint8)
    paper_mask = (f > 4.5).astype(np.float64)
    mask = cv2.dilate(np.maximum(paper_mask, (g > 4.5) & (f < 2.0)).astype(np.float64), square)
    assert mask.sum() > cv2.dilate(paper_mask, square).sum()
    expected = _cv_blend(f, g, mask, levels=3)
    blended = laplacian_blend(fcn, gan, threshold_suv=4.5, levels=3, dilation_px=dilation, veto_suv=2.0)
    np.testing.assert_allclose(blended[0, 0].numpy(), expected, atol=1e-10)


def test_the_veto_removes_a_gan_hot_spot_on_cool_fcn_and_keeps_one_on_warm_fcn():
    """A GAN hot spot where the FCN reads 1.0 takes the FCN's value; one where the FCN reads 2.0 (above the veto
    level) stays the GAN's, and a lesion both networks see is unchanged."""
    fcn = torch.full((1, 1, 96, 96), 1.0, dtype=torch.float64)
    gan = fcn.clone()
    gan[0, 0, 8:16, 8:16] = 4.0  # the GAN alone, on cool FCN tissue
    gan[0, 0, 8:16, 72:80], fcn[0, 0, 8:16, 72:80] = 4.0, 2.0  # the GAN, on tissue the FCN reads warm
    fcn[0, 0, 72:80, 40:48] = gan[0, 0, 72:80, 40:48] = 5.0  # a lesion both see
    paper = laplacian_blend(fcn, gan, levels=4)
    vetoed = laplacian_blend(fcn, gan, levels=4, veto_suv=1.5)
    assert float(paper[0, 0, 8:16, 8:16].max()) == pytest.approx(4.0)  # the paper's mask leaves it in
    assert float(vetoed[0, 0, 8:16, 8:16].max()) < 2.5  # below the lesion threshold: no candidate
    np.testing.assert_allclose(vetoed[0, 0, 8:16, 72:80].numpy(), paper[0, 0, 8:16, 72:80].numpy(), atol=1e-3)
    # Both images agree on the lesion; only the coarsest levels carry a trace of the vetoed spot far away.
    np.testing.assert_allclose(vetoed[0, 0, 72:80, 40:48].numpy(), 5.0, atol=1e-3)
    np.testing.assert_array_equal(laplacian_blend(fcn, gan, veto_suv=0.0).numpy(), paper.numpy())
    with pytest.raises(InputError, match="veto level must be 0 SUV"):
        laplacian_blend(fcn, gan, veto_suv=-1.0)


def test_hot_mask_grows_one_hot_pixel_into_a_square():
    fcn = torch.zeros(1, 1, 12, 12)
    fcn[0, 0, 5, 6] = 3.0
    expected = np.zeros((12, 12))
    expected[3:8, 4:9] = 1.0  # 5 x 5 around (5, 6)
    np.testing.assert_array_equal(hot_mask(fcn, 2.5, dilation_px=2)[0, 0].numpy(), expected)
    assert float(hot_mask(fcn, 2.5)[0, 0].sum()) == 1.0
    with pytest.raises(InputError, match="negative number of pixels"):
        hot_mask(fcn, 2.5, dilation_px=-1)


def test_a_grown_mask_keeps_a_small_lesions_peak():
    """Why the option exists: the paper's mask lets the GAN's background dilute a small FCN hot spot."""
    gan = torch.full((1, 1, 64, 64), 1.0)
    fcn = gan.clone()
    fcn[0, 0, 30:33, 30:33] = 4.0  # a 3 x 3 lesion at SUV 4 where the GAN saw none
    paper = float(laplacian_blend(fcn, gan, levels=4).max())
    grown = float(laplacian_blend(fcn, gan, levels=4, dilation_px=8).max())
    assert paper < 3.5 < grown <= 4.0 + 1e-6


def test_identical_images_blend_to_themselves(rng):
    image, _ = _images(rng)
    np.testing.assert_allclose(laplacian_blend(image, image.clone()).numpy(), image.numpy(), atol=1e-12)


def test_all_ones_mask_gives_fcn_and_all_zeros_gives_gan(rng):
    fcn, gan = _images(rng)
    ones, zeros = torch.ones_like(fcn), torch.zeros_like(fcn)
    np.testing.assert_allclose(laplacian_blend(fcn, gan, mask=ones).numpy(), fcn.numpy(), atol=1e-12)
    np.testing.assert_allclose(laplacian_blend(fcn, gan, mask=zeros).numpy(), gan.numpy(), atol=1e-12)
    # threshold mask: FCN above 2.5 everywhere -> FCN; nowhere -> GAN
    np.testing.assert_allclose(laplacian_blend(fcn + 3.0, gan).numpy(), (fcn + 3.0).numpy(), atol=1e-12)
    np.testing.assert_allclose(laplacian_blend(fcn * 0.0, gan).numpy(), gan.numpy(), atol=1e-12)


def test_batch_equals_singles(rng):
    fcn, gan = _images(rng, n=3)
    batch = laplacian_blend(fcn, gan)
    singles = torch.cat([laplacian_blend(fcn[i : i + 1], gan[i : i + 1]) for i in range(3)])
    np.testing.assert_allclose(batch.numpy(), singles.numpy(), atol=1e-12)


def test_blend_far_from_the_mask_keeps_the_gan_image():
    fcn = torch.zeros(1, 1, 64, 64, dtype=torch.float64)
    fcn[..., 28:36, 28:36] = 8.0
    gan = torch.full_like(fcn, 1.0)
    blended = laplacian_blend(fcn, gan, levels=3)
    # The coarse mask levels spread the lesion's weight smoothly, but 20+ pixels away it is below 1e-6.
    np.testing.assert_allclose(blended[..., :8, :8].numpy(), 1.0, atol=1e-6)
    assert float(blended[0, 0, 32, 32]) > 4.0


def test_levels_shrink_on_small_images_and_shapes_are_checked():
    assert usable_levels(5, 5, 4) == 1
    assert usable_levels(256, 256, 4) == 4
    with pytest.raises(InputError, match="same shape|one shape"):
        laplacian_blend(torch.zeros(1, 1, 8, 8), torch.zeros(1, 1, 8, 9))


def test_the_cpu_picks_opencv_only_where_asked(pyramid_path):
    """The fixture's switch really selects the path: OpenCV only for CPU float tensors outside autograd."""
    image = torch.zeros(1, 1, 8, 8)
    assert blending._uses_opencv(image) == (pyramid_path == "opencv")
    assert not blending._uses_opencv(image.to(torch.float16))
    assert not blending._uses_opencv(image.clone().requires_grad_())
