"""Fréchet distance between two feature sets, each summarised as a Gaussian (mean, covariance).

    FD = |mu_a - mu_b|^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2))

(Heusel et al. 2017, who named it FID when the features are ImageNet Inception-v3 pool features.)

Numerics: ``scipy.linalg.sqrtm`` of the product of two covariance matrices can come back with non-finite entries
(singular product, which is the rule when there are fewer samples than feature dimensions) or with tiny imaginary
parts from round-off. When the result is not finite, ``eps`` times the identity is added to both covariances and
the root is taken again; an imaginary part is dropped when it is small (at most ``imaginary_tolerance`` on the
diagonal relative to the largest covariance entry) and an error is raised otherwise, because then the inputs are
broken rather than rounded. Tiny negative results from round-off are clipped to 0.

Why these numbers are NOT comparable to published FIDs: the features here come from the project's own small
classifier trained on the real training images (:mod:`MedGANSynthLib.evaluation.classifier`), not from
ImageNet Inception-v3. The scale of the distance depends entirely on the feature network (its dimension, the
magnitude of its activations, what it learnt to separate), so an FD of 5 here and an FID of 5 in a paper measure
different things; even two trainings of our classifier with different seeds give different scales. FD is also
biased upwards for small sample sizes. Judge a value only against the reference "floor" computed in the same
feature space with similar sample sizes: held-out real images against the training images.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.linalg

from MedGANSynthLib.errors import InputError


def feature_statistics(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean vector and (unbiased, N-1) covariance matrix of features N x D."""
    values = np.asarray(features, dtype=np.float64)
    if values.ndim == 1:
        values = values[:, None]
    if values.ndim != 2 or len(values) < 2:
        raise InputError(f"A Fréchet distance needs at least two feature vectors per set; got shape {values.shape}.")
    if not np.isfinite(values).all():
        raise InputError("The features hold NaN or infinite values; the feature network or its input is broken.")
    return values.mean(axis=0), np.atleast_2d(np.cov(values, rowvar=False))


def frechet_distance_from_statistics(
    mean_a: np.ndarray,
    cov_a: np.ndarray,
    mean_b: np.ndarray,
    cov_b: np.ndarray,
    eps: float = 1e-6,
    imaginary_tolerance: float = 1e-3,
) -> float:
    """Fréchet distance between the Gaussians N(mean_a, cov_a) and N(mean_b, cov_b)."""
    mean_a, mean_b = np.atleast_1d(mean_a).astype(np.float64), np.atleast_1d(mean_b).astype(np.float64)
    cov_a, cov_b = np.atleast_2d(cov_a).astype(np.float64), np.atleast_2d(cov_b).astype(np.float64)
    if mean_a.shape != mean_b.shape or cov_a.shape != cov_b.shape or cov_a.shape != (len(mean_a),) * 2:
        raise InputError("The two feature sets have different dimensions; compute both with the same network.")
    with warnings.catch_warnings():  # singular products are expected and handled below
        warnings.simplefilter("ignore", scipy.linalg.LinAlgWarning)
        root = scipy.linalg.sqrtm(cov_a @ cov_b)
        if not np.isfinite(root).all():
            offset = eps * np.eye(len(mean_a))
            root = scipy.linalg.sqrtm((cov_a + offset) @ (cov_b + offset))
    if np.iscomplexobj(root):
        scale = max(float(np.abs(cov_a).max()), float(np.abs(cov_b).max()), 1e-12)
        if np.abs(np.diagonal(root).imag).max() > imaginary_tolerance * scale:
            raise InputError("The covariance square root has a large imaginary part; the features are degenerate.")
        root = root.real
    difference = mean_a - mean_b
    distance = difference @ difference + np.trace(cov_a) + np.trace(cov_b) - 2.0 * np.trace(root)
    return float(max(distance, 0.0))


def frechet_distance(features_a: np.ndarray, features_b: np.ndarray, eps: float = 1e-6) -> float:
    """Fréchet distance between two feature sets (N_a x D and N_b x D)."""
    return frechet_distance_from_statistics(*feature_statistics(features_a), *feature_statistics(features_b), eps=eps)
