"""Improved precision and recall of a generative model (Kynkäänniemi et al., NeurIPS 2019), k = 3 by default.

Each set's manifold is approximated by the union of balls centred on its samples, the radius of each ball being
the distance to the sample's k-th nearest neighbour in its own set. Precision is the fraction of generated samples
inside the real manifold (are the images realistic?); recall is the fraction of real samples inside the generated
manifold (does the generator cover the variety of real images?). A point on a ball's boundary counts as inside.

Distances are Euclidean, computed in blocks so memory stays bounded for thousands of samples.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.distance import cdist

from MedGANSynthLib.errors import InputError

_BLOCK = 1024


@dataclass(frozen=True)
class PrecisionRecall:
    precision: float
    recall: float


def knn_radii(features: np.ndarray, k: int = 3) -> np.ndarray:
    """Distance from each sample to its k-th nearest neighbour in the same set (the sample itself excluded)."""
    points = _as_points(features)
    if not 1 <= k < len(points):
        raise InputError(f"k = {k} nearest neighbours need at least {k + 1} samples; got {len(points)}.")
    radii = np.empty(len(points))
    for start in range(0, len(points), _BLOCK):
        distances = cdist(points[start:start + _BLOCK], points)
        # Index 0 of each sorted row is the sample itself (distance 0), so the k-th neighbour is at index k.
        radii[start:start + _BLOCK] = np.partition(distances, k, axis=1)[:, k]
    return radii


def fraction_inside(queries: np.ndarray, centres: np.ndarray, radii: np.ndarray) -> float:
    """Fraction of ``queries`` that lie in at least one ball (centre, radius)."""
    queries, centres = _as_points(queries), _as_points(centres)
    inside = np.zeros(len(queries), dtype=bool)
    for start in range(0, len(queries), _BLOCK):
        distances = cdist(queries[start:start + _BLOCK], centres)
        inside[start:start + _BLOCK] = (distances <= radii[None, :]).any(axis=1)
    return float(inside.mean())


def precision_recall(real_features: np.ndarray, generated_features: np.ndarray, k: int = 3) -> PrecisionRecall:
    """Improved precision and recall of ``generated_features`` against ``real_features`` (both N x D)."""
    real, generated = _as_points(real_features), _as_points(generated_features)
    if real.shape[1] != generated.shape[1]:
        raise InputError("The real and generated features have different dimensions; use one feature network.")
    precision = fraction_inside(generated, real, knn_radii(real, k))
    recall = fraction_inside(real, generated, knn_radii(generated, k))
    return PrecisionRecall(precision, recall)


def _as_points(features: np.ndarray) -> np.ndarray:
    points = np.asarray(features, dtype=np.float64)
    if points.ndim == 1:
        points = points[:, None]
    if points.ndim != 2 or len(points) == 0:
        raise InputError(f"Precision and recall need a non-empty N x D feature array; got shape {points.shape}.")
    return points
