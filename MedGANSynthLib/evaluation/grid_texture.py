"""Grid texture: the periodic artefact of up-sampling layers, as excess spectral power at periods of 2 and 4 pixels.

A generator that doubles its resolution per layer leaves a pattern that repeats every 2 pixels (every 4 after two
layers) when the layers disagree about odd and even output pixels. Transposed convolutions whose kernel is not a
multiple of their stride add a checkerboard to the image itself; nearest-neighbour x2 up-sampling copies each pixel
into a 2 x 2 block, so the image changes only across block edges. Both are periodic in the pixel grid, which a
real image is not, so they show as narrow peaks in a power spectrum at the frequencies (cycles per pixel) made of
0, 1/4, 1/2 and 3/4 -- (1/2, 1/2), (1/2, 0), (0, 1/4) and so on -- where a real image's spectrum is smooth.

The score of one image is the excess power at those frequencies: for each of them the power at its bin divided by
the median power in a ring 3-5 bins around it (its neighbourhood; the median ignores a neighbouring peak), averaged
over the nine frequencies (one of each pair +f, -f: the spectrum of a real image is symmetric). A smooth spectrum
scores about 1 / ln 2 = 1.44 (a periodogram bin is exponentially distributed about the local mean; the ring's median
is ln 2 of that mean). The score is taken for three signals, and the image's score is the largest:

- the image, after removing its mean: additive or multiplicative patterns such as a checkerboard;
- the magnitude of the differences between horizontally (and, separately, vertically) neighbouring pixels: block
  edges. A block copy has no peak in the image's own spectrum (it has a zero at 1/2: each 2 x 2 block averages the
  alternating pattern away), but its differences vanish inside blocks and not across them, every 2 pixels.

Each signal is multiplied by a Hann window first, so the image's edges do not leak power over the spectrum; a
pattern on an exact frequency bin then stays within one bin of it, and the ring starts beyond that. Dividing by
local power makes the score independent of the image's contrast and offset. A set of images scores the mean of its
images; a generator is compared with held-out real images of the same kind (the floor): their ratio is ~1 for a
generator without grid texture.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.evaluation.image_batches import as_image_batch, require_same_image_shape

PERIODS = (2, 4)
RING_BINS = (3, 5)  # inner and outer Chebyshev radius of the neighbourhood, in frequency bins
MIN_SIDE = 4 * RING_BINS[1] + 4  # the ring of the 1/4 frequencies must stay clear of the zero frequency


@dataclass(frozen=True)
class GridTexture:
    generated: np.ndarray  # score of each generated image
    heldout: np.ndarray  # score of each held-out real image (the floor)

    def summary(self) -> dict:
        generated, floor = float(np.mean(self.generated)), float(np.mean(self.heldout))
        return {"generated": generated, "floor_heldout": floor, "ratio": generated / floor,
                "generated_median": float(np.median(self.generated)),
                "floor_heldout_median": float(np.median(self.heldout))}


def artefact_frequencies(periods: tuple[int, ...] = PERIODS) -> list[tuple[float, float]]:
    """The frequencies (cycles per pixel, rows then columns) at which patterns of these periods have power."""
    steps = sorted({(k / period) % 1.0 for period in periods for k in range(period)})
    chosen: list[tuple[float, float]] = []
    for fy in steps:
        for fx in steps:
            mirrored = ((-fy) % 1.0, (-fx) % 1.0)
            if (fy, fx) != (0.0, 0.0) and mirrored not in chosen:
                chosen.append((fy, fx))
    return chosen


def grid_texture_scores(images) -> np.ndarray:
    """The grid-texture score of each image of ``images`` (N x [C x] H x W); channels are averaged."""
    return signal_scores(images).max(axis=0)


def signal_scores(images) -> np.ndarray:
    """3 x N: the score of each image's own spectrum, and of its horizontal and vertical difference magnitudes."""
    batch = as_image_batch(images, "The images for the grid-texture score").astype(np.float64)
    height, width = batch.shape[2:]
    if min(height, width) < MIN_SIDE:
        raise InputError(f"The grid-texture score needs images of at least {MIN_SIDE} x {MIN_SIDE} pixels; got "
                         f"{height} x {width}.")
    window = np.outer(_periodic_hann(height), _periodic_hann(width))
    peaks, rings = _peak_and_ring_indices(height, width)
    # Differences with the previous pixel; the one that wraps around lands in row or column 0, where the window is 0.
    signals = (batch, np.abs(batch - np.roll(batch, 1, axis=3)), np.abs(batch - np.roll(batch, 1, axis=2)))
    scores = []
    for signal in signals:
        centred = signal - signal.mean(axis=(2, 3), keepdims=True)
        power = (np.abs(np.fft.fft2(centred * window)) ** 2).reshape(*batch.shape[:2], -1)
        ratio = power[:, :, peaks] / np.maximum(np.median(power[:, :, rings], axis=3), np.finfo(float).tiny)
        scores.append(ratio.mean(axis=(1, 2)))  # over the frequencies, then the channels
    return np.array(scores)


def grid_texture(generated, heldout) -> GridTexture:
    """Scores of generated images beside those of held-out real images of the same size."""
    generated = as_image_batch(generated, "The generated images")
    heldout = as_image_batch(heldout, "The held-out images")
    require_same_image_shape(heldout, generated, "Grid texture")
    return GridTexture(grid_texture_scores(generated), grid_texture_scores(heldout))


def _periodic_hann(length: int) -> np.ndarray:
    """The periodic Hann window sin^2(pi n / N) (scipy's ``hann(N, sym=False)``; scipy.signal takes a second to
    import, the whole score a tenth of that)."""
    return np.sin(np.pi * np.arange(length) / length) ** 2


def _peak_and_ring_indices(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Flat indices into an H x W spectrum: the bin of each artefact frequency, and (one row per frequency) the
    bins of its ring, wrapped around the spectrum's edges."""
    inner, outer = RING_BINS
    offsets = [(dy, dx) for dy in range(-outer, outer + 1) for dx in range(-outer, outer + 1)
               if max(abs(dy), abs(dx)) >= inner]
    peaks, rings = [], []
    for fy, fx in artefact_frequencies():
        row, column = round(fy * height) % height, round(fx * width) % width
        peaks.append(row * width + column)
        rings.append([((row + dy) % height) * width + (column + dx) % width for dy, dx in offsets])
    return np.array(peaks), np.array(rings)
