"""CT noise in soft tissue, measured alike on real and phantom CTs (session 27; phantom version 6 is set by it).

In soft tissue (20-80 HU, eroded by one pixel in-plane) the SD of each voxel minus its 3 x 3 in-plane mean, times
sqrt(9/8): for white noise the residual's SD is sqrt(8/9) of the noise SD. What it measures includes fine tissue
texture and partial volume at edges inside the window, and the window cuts the tails of a noisy image, so it is
neither the scanner's noise SD nor a generator's drawn SD: compare CTs only on the same voxel size
(:func:`block_mean` brings a fine CT to a coarser grid).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

SOFT_TISSUE_HU = (20.0, 80.0)


def soft_tissue_noise_sd(hu: np.ndarray) -> tuple[float, int]:
    """(noise SD in HU, number of soft-tissue voxels measured) of a CT array (slices first)."""
    hu = np.asarray(hu, dtype=np.float32)
    low, high = SOFT_TISSUE_HU
    soft = ndimage.binary_erosion((hu >= low) & (hu <= high), np.ones((1, 3, 3), bool))
    residual = hu - ndimage.uniform_filter(hu, (1, 3, 3))
    return float(residual[soft].std() * np.sqrt(9 / 8)), int(soft.sum())


def block_mean(hu: np.ndarray, factors: tuple[int, int, int]) -> np.ndarray:
    """Mean over blocks of ``factors`` voxels (slices, rows, columns); a partial block at the far edge is dropped."""
    k, j, i = (size // factor * factor for size, factor in zip(hu.shape, factors, strict=True))
    shape = (k // factors[0], factors[0], j // factors[1], factors[1], i // factors[2], factors[2])
    return hu[:k, :j, :i].reshape(shape).mean(axis=(1, 3, 5))
