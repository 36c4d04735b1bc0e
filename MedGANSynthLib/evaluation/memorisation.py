"""Memorisation audit: do generated images sit closer to the training images than new real images do?

RadioGAN (Amyar et al.) warns that a GAN can memorise its training set and judges it by latent walks; this audit puts
a number on it. For every generated image we find its nearest TRAINING image (Euclidean distance of the pixels,
and of the classifier features when given); we do the same for HELD-OUT real images, which the GAN never saw and
which are, by construction, "new images of the same kind". Then

    ratio = median(generated -> nearest train) / median(held-out -> nearest train)

A generator that produces new images of the real distribution gives a ratio near 1; a ratio well below 1 means the
generated images hug the training set (memorisation). The target is ratio >= 0.9 (``target_ratio``).

Near-copies are flagged individually: a generated image whose pixel distance to its nearest training image is 0,
or below the ``percentile``-th (default 1st) percentile of the held-out -> train pixel distances. The percentile
uses numpy's "lower" method, so the threshold is an observed held-out distance and a held-out image never counts
as below itself. A perfect generator is still expected to have about ``percentile`` % of its images flagged by
chance once the held-out set holds over 100 images; many more flags are the warning sign. Flags use pixel distances
only: feature distances of a classifier are invariant to things that matter (small shifts, noise), so two
different images can share features.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.distance import cdist

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.evaluation.image_batches import as_image_batch, flattened, require_same_image_shape

_BLOCK = 512
TARGET_RATIO = 0.9


@dataclass
class MemorisationAudit:
    generated_to_train: np.ndarray  # pixel L2 distance of each generated image to its nearest training image
    heldout_to_train: np.ndarray  # the same for each held-out real image
    nearest_train_index: np.ndarray  # index of that nearest training image, per generated image
    ratio: float  # median(generated_to_train) / median(heldout_to_train), pixels
    threshold: float  # near-copy threshold (pixel distance)
    flagged: np.ndarray  # indices of generated images flagged as near-copies
    feature_ratio: float | None = None  # the same ratio in the classifier's feature space, when features were given
    target_ratio: float = TARGET_RATIO

    @property
    def passed(self) -> bool:
        return self.ratio >= self.target_ratio

    def summary(self) -> dict:
        """JSON-able numbers for a report."""
        return {
            "ratio_pixel": self.ratio,
            "ratio_feature": self.feature_ratio,
            "target_ratio": self.target_ratio,
            "passed": self.passed,
            "median_generated_to_train": float(np.median(self.generated_to_train)),
            "median_heldout_to_train": float(np.median(self.heldout_to_train)),
            "near_copy_threshold": self.threshold,
            "flagged_indices": [int(i) for i in self.flagged],
            "flagged_fraction": float(len(self.flagged) / len(self.generated_to_train)),
            "nearest_train_index": [int(i) for i in self.nearest_train_index],
        }


def nearest_neighbours(queries: np.ndarray, references: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Euclidean distance from each row of ``queries`` to its nearest row of ``references``, and that row's index."""
    queries, references = np.asarray(queries, np.float64), np.asarray(references, np.float64)
    distances = np.empty(len(queries))
    indices = np.empty(len(queries), dtype=np.int64)
    for start in range(0, len(queries), _BLOCK):
        block = cdist(queries[start:start + _BLOCK], references)
        indices[start:start + _BLOCK] = block.argmin(axis=1)
        distances[start:start + _BLOCK] = block[np.arange(len(block)), indices[start:start + _BLOCK]]
    return distances, indices


def nearest_image_neighbours(queries, references) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-space :func:`nearest_neighbours` of two image stacks (N x [C x] H x W)."""
    queries, references = as_image_batch(queries, "The query images"), as_image_batch(references, "The real images")
    require_same_image_shape(queries, references, "Nearest-neighbour search")
    return nearest_neighbours(flattened(queries), flattened(references))


def median_ratio(generated_distances: np.ndarray, heldout_distances: np.ndarray) -> float:
    """median(generated) / median(held-out); infinite when the held-out median is 0 (held-out copies of train)."""
    denominator = float(np.median(heldout_distances))
    numerator = float(np.median(generated_distances))
    if denominator == 0.0:
        return 1.0 if numerator == 0.0 else float("inf")
    return numerator / denominator


def memorisation_audit(
    generated,
    train,
    heldout,
    generated_features: np.ndarray | None = None,
    train_features: np.ndarray | None = None,
    heldout_features: np.ndarray | None = None,
    percentile: float = 1.0,
    target_ratio: float = TARGET_RATIO,
) -> MemorisationAudit:
    """Audit ``generated`` images against the ``train`` images, with ``heldout`` real images as the reference."""
    generated_to_train, nearest = nearest_image_neighbours(generated, train)
    heldout_to_train, _ = nearest_image_neighbours(heldout, train)
    threshold = float(np.percentile(heldout_to_train, percentile, method="lower"))
    flagged = np.flatnonzero((generated_to_train < threshold) | (generated_to_train == 0.0))
    feature_ratio = None
    given = [f is not None for f in (generated_features, train_features, heldout_features)]
    if any(given):
        if not all(given):
            raise InputError("Give features for all three sets (generated, train, held-out) or for none.")
        feature_ratio = median_ratio(
            nearest_neighbours(generated_features, train_features)[0],
            nearest_neighbours(heldout_features, train_features)[0],
        )
    return MemorisationAudit(
        generated_to_train=generated_to_train,
        heldout_to_train=heldout_to_train,
        nearest_train_index=nearest,
        ratio=median_ratio(generated_to_train, heldout_to_train),
        threshold=threshold,
        flagged=flagged,
        feature_ratio=feature_ratio,
        target_ratio=target_ratio,
    )
