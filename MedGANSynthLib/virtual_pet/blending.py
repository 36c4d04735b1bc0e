"""Laplacian-pyramid blending of the FCN and GAN virtual PETs (Burt & Adelson 1983; Ben-Cohen et al.).

The paper keeps the FCN image where the FCN predicts SUV > 2.5 (its better tumour response) and the GAN image
elsewhere (its realistic texture): Laplacian pyramids of both images are mixed level by level with the Gaussian
pyramid of the mask as weights, then collapsed, so the seam is smooth at every scale.

Pyramid operators (5-tap binomial kernel k = [1, 4, 6, 4, 1] / 16, separable):

* reduce: blur with mirror ("reflect-101": ..., x2, x1 | x0, x1, x2, ...) padding, keep even rows and columns;
  size (n + 1) // 2. This is exactly OpenCV's ``cv2.pyrDown``.
* expand: mirror-pad the coarse image by one pixel, insert zeros between samples, blur with 4 k (2 k per axis),
  crop to the finer size (computed polyphase, see :func:`_expand_last_axis`). This is ``cv2.pyrUp`` applied to a ``BORDER_REFLECT_101``-padded image and cropped;
  plain ``cv2.pyrUp`` replicates its last row/column on the right/bottom edge instead of mirroring, an
  asymmetry we do not copy. The test compares with that OpenCV construction to float tolerance.

Everything runs batched on (N, 1, H, W) tensors on their own device. The separable passes are written as shifted
slices rather than ``conv2d``: with one channel and a 5-tap kernel they measured about 10x faster on the CPU.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from MedGANSynthLib.errors import InputError

PAPER_THRESHOLD_SUV = 2.5
"""Malignant lesions show SUV > 2.5 (Ben-Cohen et al., sections 2.4-2.5)."""
DEFAULT_LEVELS = 4
MIN_LEVEL_SIZE = 3
"""Mirror padding by 2 needs at least 3 pixels per side, which bounds the number of levels."""


def _reduce_last_axis(image: torch.Tensor) -> torch.Tensor:
    """Binomial blur along the last axis evaluated only at even pixels (input already mirror-padded by 2)."""
    n_out = (image.shape[-1] - 4 + 1) // 2

    def tap(offset: int) -> torch.Tensor:
        return image[..., offset : offset + 2 * n_out - 1 : 2]

    return (tap(0) + 4.0 * tap(1) + 6.0 * tap(2) + 4.0 * tap(3) + tap(4)) / 16.0


def _expand_last_axis(image: torch.Tensor, size: int) -> torch.Tensor:
    """Zero insertion + 2 k along the last axis, computed polyphase (no multiplications by the inserted zeros).

    With the coarse row x mirrored by one pixel, fine pixel 2q is (x[q-1] + 6 x[q] + x[q+1]) / 8 and fine pixel
    2q+1 is (x[q] + x[q+1]) / 2: exactly the zero-inserted row convolved with [1, 4, 6, 4, 1] / 8.
    """
    length = image.shape[-1]
    padded = torch.cat([image[..., 1:2], image, image[..., -2:-1]], dim=-1)
    even = (padded[..., 0:length] + 6.0 * padded[..., 1 : length + 1] + padded[..., 2 : length + 2]) / 8.0
    odd = (padded[..., 1 : length + 1] + padded[..., 2 : length + 2]) / 2.0
    return torch.stack([even, odd], dim=-1).flatten(-2)[..., :size]


def pyramid_reduce(image: torch.Tensor) -> torch.Tensor:
    """Blur with the binomial kernel (mirror borders) and keep every second row and column."""
    padded = F.pad(image, (2, 2, 2, 2), mode="reflect")
    columns = _reduce_last_axis(padded)
    return _reduce_last_axis(columns.transpose(-1, -2)).transpose(-1, -2)


def pyramid_expand(image: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Upsample to ``size`` by zero insertion and the binomial kernel x4, the coarse image mirrored by one pixel."""
    columns = _expand_last_axis(image, size[1])
    return _expand_last_axis(columns.transpose(-1, -2), size[0]).transpose(-1, -2)


def usable_levels(height: int, width: int, levels: int) -> int:
    """``levels`` reductions, fewer if a level would shrink below MIN_LEVEL_SIZE pixels per side."""
    usable = 0
    while usable < levels and min(height, width) >= MIN_LEVEL_SIZE and (min(height, width) + 1) // 2 >= MIN_LEVEL_SIZE:
        height, width = (height + 1) // 2, (width + 1) // 2
        usable += 1
    return usable


def gaussian_pyramid(image: torch.Tensor, levels: int) -> list[torch.Tensor]:
    pyramid = [image]
    for _ in range(levels):
        pyramid.append(pyramid_reduce(pyramid[-1]))
    return pyramid


def laplacian_pyramid(image: torch.Tensor, levels: int) -> list[torch.Tensor]:
    gaussian = gaussian_pyramid(image, levels)
    pairs = zip(gaussian[:-1], gaussian[1:], strict=True)
    details = [fine - pyramid_expand(coarse, fine.shape[-2:]) for fine, coarse in pairs]
    return details + [gaussian[-1]]


def collapse(pyramid: list[torch.Tensor]) -> torch.Tensor:
    image = pyramid[-1]
    for detail in reversed(pyramid[:-1]):
        image = pyramid_expand(image, detail.shape[-2:]) + detail
    return image


def hot_mask(fcn: torch.Tensor, threshold_suv: float = PAPER_THRESHOLD_SUV, dilation_px: int = 0) -> torch.Tensor:
    """1 where the FCN predicts SUV > ``threshold_suv``, grown by ``dilation_px`` pixels (a square of side 2r + 1).

    Why grow it: the mask's Gaussian pyramid spreads a small hot spot thin at the coarse levels, so there the blend
    takes mostly the GAN's (cooler) image, and a small lesion's peak falls below the threshold. Measured on 8
    held-out phantoms (FCN alone TPR 0.58): blended TPR 0.38 with the paper's mask, 0.54 grown by 8 pixels.
    """
    if dilation_px < 0:
        raise InputError(f"The blending mask cannot grow by a negative number of pixels (got {dilation_px}).")
    mask = (fcn > threshold_suv).to(fcn.dtype)
    if dilation_px == 0:
        return mask
    return F.max_pool2d(mask, kernel_size=2 * dilation_px + 1, stride=1, padding=dilation_px)


def laplacian_blend(
    fcn: torch.Tensor,
    gan: torch.Tensor,
    mask: torch.Tensor | None = None,
    threshold_suv: float = PAPER_THRESHOLD_SUV,
    levels: int = DEFAULT_LEVELS,
    dilation_px: int = 0,
) -> torch.Tensor:
    """Blend ``fcn`` into ``gan`` where ``mask`` is 1 (default: :func:`hot_mask` of ``fcn``, binary).

    ``fcn``, ``gan`` (and ``mask``, weights in [0, 1]) are (N, 1, H, W) tensors in SUV on one device. ``levels``
    is the number of reductions (fewer on small images, see :func:`usable_levels`); ``dilation_px`` grows the
    default mask (the paper: 0).
    """
    if fcn.shape != gan.shape or fcn.dim() != 4:
        raise InputError(f"FCN and GAN images must both be (N, 1, H, W) of one shape; got {tuple(fcn.shape)} and "
                         f"{tuple(gan.shape)}.")
    if mask is None:
        mask = hot_mask(fcn, threshold_suv, dilation_px)
    elif mask.shape != fcn.shape:
        raise InputError(f"The blending mask has shape {tuple(mask.shape)}; it must match the images {tuple(fcn.shape)}.")
    mask = mask.to(fcn.dtype)
    if not bool(mask.any()):
        return gan.clone()  # every level's weight is 0: the GAN image itself (most slices of a body)
    depth = usable_levels(fcn.shape[-2], fcn.shape[-1], levels)
    # Pyramids and collapse are linear and collapse(L(x)) = x, so
    #   collapse(w L(fcn) + (1 - w) L(gan)) = gan + collapse(w L(fcn - gan)):
    # one Laplacian pyramid instead of two, the same result up to float rounding (1.3x faster at 512², measured).
    weights = gaussian_pyramid(mask, depth)
    difference = laplacian_pyramid(fcn - gan, depth)
    return gan + collapse([w * d for w, d in zip(weights, difference, strict=True)])
