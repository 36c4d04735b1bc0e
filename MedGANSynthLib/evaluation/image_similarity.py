"""PSNR and SSIM of each generated image against its nearest real image, as the brain-PET DCGAN paper reports.

Islam & Zhang reports mean PSNR 32.83 dB and mean SSIM 0.7748 "of real and generated images" with
PSNR = 10 log10(max(y)^2 / MSE) and SSIM with k1 = 0.01, k2 = 0.03 and L the dynamic range. A generated image has no
true counterpart, so (like the paper's practice) each one is compared with its nearest real image (pixel L2).

We use ``skimage.metrics`` with ``data_range`` = the width of the normalisation range (e.g. 1 for images scaled
to [0, 1], 2 for tanh outputs in [-1, 1]) rather than the paper's max(y): it is the same for every pair, so
numbers are comparable across images. The paper's values are therefore a reference, not a target: they depend on
its normalisation and data. Identical images give PSNR = +inf (a copy), kept as such here; reports print it as
"copy". SSIM uses skimage's uniform 7 x 7 window (smaller for tiny images), k1 = 0.01, k2 = 0.03.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.evaluation.image_batches import as_image_batch, require_same_image_shape
from MedGANSynthLib.evaluation.memorisation import nearest_image_neighbours

# The brain-PET DCGAN paper's means, for the report's context line.
PAPER_PSNR_DB = 32.83
PAPER_SSIM = 0.7748


def psnr(image: np.ndarray, reference: np.ndarray, data_range: float, mask: np.ndarray | None = None) -> float:
    """Peak signal-to-noise ratio in dB: 10 log10(data_range^2 / MSE); +inf for identical images.

    With ``mask`` (boolean, the images' shape) the MSE is taken over the mask's voxels only (the virtual PET's body).
    """
    image, reference = np.asarray(image, np.float64), np.asarray(reference, np.float64)
    if mask is not None:
        mask = _checked_mask(mask, reference.shape)
        image, reference = image[mask], reference[mask]
    if np.array_equal(image, reference):
        return float("inf")
    return float(peak_signal_noise_ratio(reference, image, data_range=_checked_range(data_range)))


def ssim(image: np.ndarray, reference: np.ndarray, data_range: float, mask: np.ndarray | None = None) -> float:
    """Structural similarity of two images (H x W or C x H x W; channels first) with k1 = 0.01, k2 = 0.03.

    With ``mask`` (boolean, the images' shape) every axis is spatial (a 2-D image or a 3-D volume) and the result is
    the mean of skimage's local SSIM map (7-voxel window) over the mask's voxels, as for the virtual PET's body.
    """
    image, reference = np.asarray(image, np.float64), np.asarray(reference, np.float64)
    if image.shape != reference.shape:
        raise InputError(f"SSIM needs two images of one shape; got {image.shape} and {reference.shape}.")
    if mask is not None:
        mask = _checked_mask(mask, reference.shape)
        _, local = structural_similarity(reference, image, data_range=_checked_range(data_range), full=True)
        return float(local[mask].mean())
    if image.ndim == 3 and image.shape[0] == 1:
        image, reference = image[0], reference[0]
    window = min(7, *image.shape[-2:])
    window -= 1 - window % 2  # skimage needs an odd window
    if window < 3:
        raise InputError(f"SSIM needs images of at least 3 x 3 pixels; got {image.shape[-2:]}.")
    channel_axis = 0 if image.ndim == 3 else None
    return float(
        structural_similarity(
            reference, image, data_range=_checked_range(data_range), win_size=window, channel_axis=channel_axis
        )
    )


@dataclass
class SimilarityToNearest:
    psnr: np.ndarray  # dB per generated image (inf for copies)
    ssim: np.ndarray  # per generated image
    nearest_index: np.ndarray  # index of the nearest real image used

    def summary(self) -> dict:
        finite = self.psnr[np.isfinite(self.psnr)]
        return {
            "psnr_mean_db": float(finite.mean()) if len(finite) else None,
            "psnr_median_db": float(np.median(self.psnr)),
            "copies_infinite_psnr": int(np.isinf(self.psnr).sum()),
            "ssim_mean": float(self.ssim.mean()),
            "ssim_median": float(np.median(self.ssim)),
        }


def similarity_to_nearest_real(
    generated, real, data_range: float, nearest_index: np.ndarray | None = None
) -> SimilarityToNearest:
    """PSNR and SSIM of each generated image against its nearest real image (found by pixel L2 unless given)."""
    generated, real = as_image_batch(generated, "The generated images"), as_image_batch(real, "The real images")
    require_same_image_shape(generated, real, "PSNR/SSIM")
    if nearest_index is None:
        nearest_index = nearest_image_neighbours(generated, real)[1]
    nearest_index = np.asarray(nearest_index, dtype=np.int64)
    psnrs = np.array([psnr(g, real[i], data_range) for g, i in zip(generated, nearest_index, strict=True)])
    ssims = np.array([ssim(g, real[i], data_range) for g, i in zip(generated, nearest_index, strict=True)])
    return SimilarityToNearest(psnrs, ssims, nearest_index)


def _checked_range(data_range: float) -> float:
    if not np.isfinite(data_range) or data_range <= 0:
        raise InputError(f"The data range must be a positive number (e.g. 1 for images in [0, 1]); got {data_range}.")
    return float(data_range)


def _checked_mask(mask: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    mask = np.asarray(mask, dtype=bool)
    if mask.shape != shape or not mask.any():
        raise InputError(f"The mask must have the images' shape {shape} and at least one voxel; got {mask.shape}.")
    return mask
