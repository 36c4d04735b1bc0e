"""Turn the many ways callers hold a stack of 2-D images into one checked float32 N x C x H x W array.

Every metric of the evaluation suite starts here, so an empty set, NaNs from a diverged generator or images of
different sizes are rejected once, with a message that says what to fix, instead of as a numpy shape error.
"""

from __future__ import annotations

import numpy as np
import torch

from MedGANSynthLib.errors import InputError


def as_image_batch(images: np.ndarray | torch.Tensor, what: str = "The images") -> np.ndarray:
    """``images`` (N x H x W or N x C x H x W, numpy or torch) as a finite float32 N x C x H x W array."""
    if isinstance(images, torch.Tensor):
        images = images.detach().cpu().numpy()
    batch = np.asarray(images, dtype=np.float32)
    if batch.ndim == 3:
        batch = batch[:, None]
    if batch.ndim != 4:
        raise InputError(f"{what} must be a stack of 2-D images (N x H x W or N x C x H x W); got shape {batch.shape}.")
    if batch.shape[0] == 0:
        raise InputError(f"{what} hold no image; give at least one.")
    if not np.isfinite(batch).all():
        raise InputError(f"{what} hold NaN or infinite values; the generator diverged or the input is broken.")
    return batch


def require_same_image_shape(first: np.ndarray, second: np.ndarray, what: str) -> None:
    """Both batches hold images of one shape (channels, rows, columns), else pixel comparisons are meaningless."""
    if first.shape[1:] != second.shape[1:]:
        raise InputError(
            f"{what}: images of shape {first.shape[1:]} cannot be compared with images of shape {second.shape[1:]};"
            " resample them to one size first."
        )


def flattened(batch: np.ndarray) -> np.ndarray:
    """One row of float64 pixels per image (float64 so squared distances of near-copies do not cancel)."""
    return batch.reshape(batch.shape[0], -1).astype(np.float64)
