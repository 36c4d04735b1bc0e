"""2-D joint intensity histogram of generated vs nearest real images, and its mutual information.

The brain-PET DCGAN paper (Islam & Zhang, Fig. 9) shows "the 2D-histogram of a sample real and synthetic image": for
each pixel position, the pair (real intensity, generated intensity) is counted. Mass on the diagonal means the two
images agree pixel by pixel; a cloud means they differ. Mutual information (in bits) summarises the histogram:
for an image with itself it equals the image's intensity entropy, for independent images it is near 0.
"""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # pictures are files; never open a window
import numpy as np  # noqa: E402
from matplotlib.colors import LogNorm  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from MedGANSynthLib.errors import InputError  # noqa: E402
from MedGANSynthLib.evaluation.image_batches import as_image_batch, require_same_image_shape  # noqa: E402
from MedGANSynthLib.io.atomic import atomic_output  # noqa: E402

DEFAULT_BINS = 64
"""Bins per axis of the joint histograms (intensities in the model's normalised range)."""


def joint_histogram(
    real, generated, value_range: tuple[float, float], bins: int = DEFAULT_BINS
) -> tuple[np.ndarray, np.ndarray]:
    """Counts[bins, bins] of (real, generated) pixel pairs (rows: real, columns: generated), and the bin edges.

    ``real`` and ``generated`` are images (or stacks of paired images) of one shape; values outside
    ``value_range`` are clipped into the end bins, so the counts always sum to the number of pixels.
    """
    real, generated = as_image_batch(_stack(real), "The real images"), as_image_batch(_stack(generated))
    require_same_image_shape(real, generated, "Joint histogram")
    if real.shape[0] != generated.shape[0]:
        raise InputError("The joint histogram needs one real image per generated image.")
    low, high = float(value_range[0]), float(value_range[1])
    if not high > low:
        raise InputError(f"The value range needs low < high; got {value_range}.")
    edges = np.linspace(low, high, int(bins) + 1)
    counts, _, _ = np.histogram2d(
        np.clip(real.ravel(), low, high), np.clip(generated.ravel(), low, high), bins=[edges, edges]
    )
    return counts, edges


def mutual_information(counts: np.ndarray) -> float:
    """Mutual information in bits of the joint distribution given by a 2-D count table."""
    joint = np.asarray(counts, np.float64)
    total = joint.sum()
    if total <= 0:
        raise InputError("The joint histogram is empty; there is no pixel to compare.")
    joint = joint / total
    rows, columns = joint.sum(axis=1, keepdims=True), joint.sum(axis=0, keepdims=True)
    nonzero = joint > 0
    return float(np.sum(joint[nonzero] * np.log2(joint[nonzero] / (rows @ columns)[nonzero])))


def save_joint_histogram_png(
    counts: np.ndarray, edges: np.ndarray, path: str | os.PathLike, title: str = ""
) -> Path:
    """The histogram as a PNG (log colour scale, identity line), written atomically."""
    if Path(path).suffix.lower() != ".png":
        raise InputError(f"'{Path(path).name}' is not a .png file name; pictures are written as PNG.")
    figure = Figure(figsize=(4.2, 3.6))
    axes = figure.subplots()
    shown = np.where(counts > 0, counts, np.nan)  # empty bins white, not the lowest colour
    extent = (edges[0], edges[-1], edges[0], edges[-1])
    vmax = max(float(np.nanmax(shown)) if np.isfinite(shown).any() else 1.0, 1.0)
    image = axes.imshow(
        shown.T, origin="lower", extent=extent, cmap="viridis", norm=LogNorm(vmin=1, vmax=max(vmax, 1.0 + 1e-9)),
        interpolation="nearest", aspect="equal",
    )
    axes.plot([edges[0], edges[-1]], [edges[0], edges[-1]], color="white", linewidth=0.6, linestyle="--")
    axes.set_xlabel("nearest real image intensity")
    axes.set_ylabel("generated image intensity")
    if title:
        axes.set_title(title, fontsize=9)
    figure.colorbar(image, ax=axes, label="pixel pairs")
    figure.tight_layout()
    with atomic_output(path) as temp:
        figure.savefig(temp, format="png", dpi=100)
    return Path(path)


def _stack(images) -> np.ndarray:
    array = np.asarray(images.detach().cpu() if hasattr(images, "detach") else images, dtype=np.float32)
    return array[None] if array.ndim == 2 else array
