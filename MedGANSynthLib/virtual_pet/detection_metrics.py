"""Evaluation of a virtual PET against the real one (Ben-Cohen et al., section 3.2).

Detection rule of the paper: a true tumour is detected when the virtual PET has SUVmax > 2.5 on it; here, when a
connected component of ``predicted_suv > threshold`` (26-connected; its SUVmax therefore exceeds the threshold)
overlaps the true lesion by at least one voxel. A false positive is such a component overlapping no true lesion.
TPR = TP / (number of true lesions); the paper reports 92.3 % with 0.25 false positives per scan.

Image similarity (SSIM, PSNR, MAE) is computed in SUV inside a body mask, over the paper's SUV range [0, 20].
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy import ndimage

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.evaluation.image_similarity import psnr, ssim
from MedGANSynthLib.virtual_pet.lesions import CONNECTIVITY_26, PAPER_THRESHOLD_SUV
from MedGANSynthLib.volume import Volume

SUV_DATA_RANGE = 20.0


class MarginFalsePositives(NamedTuple):
    """The 26-connected components of ``predicted > threshold`` and the ids of the margin rule's false positives
    among them: what :func:`margin_detection` counts, kept so the regions can be looked at one by one."""

    components: np.ndarray
    ids: np.ndarray


def _array(image: Volume | np.ndarray) -> np.ndarray:
    return image.array if isinstance(image, Volume) else np.asarray(image)


def lesion_detection(
    true_lesion_labels: Volume | np.ndarray,
    predicted_suv: Volume | np.ndarray,
    threshold: float = PAPER_THRESHOLD_SUV,
) -> dict:
    """TP, FN, FP and TPR of the predicted SUV's hot components against labelled true lesions (ids > 0)."""
    truth, predicted = _array(true_lesion_labels), _array(predicted_suv)
    if truth.shape != predicted.shape:
        raise InputError(f"Lesion labels {truth.shape} and predicted PET {predicted.shape} are on different grids.")
    components, _ = ndimage.label(predicted > threshold, structure=CONNECTIVITY_26)
    true_ids = np.unique(truth[truth > 0])
    both = (truth > 0) & (components > 0)
    pairs = np.unique(np.stack([truth[both], components[both]]), axis=1) if both.any() else np.zeros((2, 0), int)
    detected = np.unique(pairs[0])
    matched_components = np.unique(pairs[1])
    all_components = np.unique(components[components > 0])
    tp = int(detected.size)
    fn = int(true_ids.size - tp)
    fp = int(np.setdiff1d(all_components, matched_components).size)
    tpr = tp / true_ids.size if true_ids.size else float("nan")
    return {"tp": tp, "fn": fn, "fp": fp, "tpr": tpr, "n_true": int(true_ids.size)}


def body_mask_from_ct(ct: Volume | np.ndarray, hu_threshold: float = -500.0) -> np.ndarray:
    """Voxels denser than ``hu_threshold`` (air is about -1000 HU): a simple body mask for the metrics."""
    return _array(ct) > hu_threshold


def image_metrics(
    predicted_suv: Volume | np.ndarray,
    true_suv: Volume | np.ndarray,
    body_mask: np.ndarray | None = None,
    data_range: float = SUV_DATA_RANGE,
) -> dict:
    """SSIM, PSNR (dB) and MAE (SUV) of the prediction inside ``body_mask`` (all voxels when None).

    Both images are clipped to [0, data_range] first, as the paper clips PET to SUV [0, 20]. SSIM is the mean of
    skimage's local SSIM map over the mask voxels; PSNR uses data_range^2 / MSE over the mask (both the shared
    :mod:`MedGANSynthLib.evaluation.image_similarity` metrics the GAN report uses).
    """
    predicted = np.clip(_array(predicted_suv).astype(np.float64), 0.0, data_range)
    truth = np.clip(_array(true_suv).astype(np.float64), 0.0, data_range)
    if predicted.shape != truth.shape:
        raise InputError(f"Predicted {predicted.shape} and true PET {truth.shape} are on different grids.")
    mask = np.ones(truth.shape, dtype=bool) if body_mask is None else np.asarray(body_mask, dtype=bool)
    if mask.shape != truth.shape or not mask.any():
        raise InputError("The body mask must be on the PET grid and contain at least one voxel.")
    error = predicted[mask] - truth[mask]
    return {"ssim": ssim(predicted, truth, data_range, mask), "psnr_db": psnr(predicted, truth, data_range, mask),
            "mae_suv": float(np.mean(np.abs(error)))}


def margin_detection(
    true_lesion_labels: Volume | np.ndarray,
    predicted_suv: Volume | np.ndarray,
    true_suv: Volume | np.ndarray,
    voxel_ml: float,
    threshold: float = PAPER_THRESHOLD_SUV,
    min_volume_ml: float = 0.5,
) -> dict:
    """Lesions found and false positives counted with voxel margins (the project's target rule, issue 29).

    * A true lesion is found when the prediction exceeds ``threshold`` anywhere in the lesion grown by one voxel
      (so a one-voxel misregistration of the hot spot still counts).
    * A false positive is a 26-connected region of ``predicted > threshold`` of at least ``min_volume_ml`` that stays
      two voxels or more away from every voxel where the true PET exceeds ``threshold`` and one voxel or more from
      every true lesion: hot where the true PET is not.

    ``false_positives`` carries the labelled regions and their false ids (:class:`MarginFalsePositives`), so a
    caller that names the regions (:mod:`.false_positive_organs`) reuses this labelling instead of redoing it.
    """
    truth, predicted, true_pet = _array(true_lesion_labels), _array(predicted_suv), _array(true_suv)
    if not truth.shape == predicted.shape == true_pet.shape:
        raise InputError(f"Lesion labels {truth.shape}, predicted {predicted.shape} and true PET {true_pet.shape} "
                         "are on different grids.")
    true_ids = np.unique(truth[truth > 0])
    found = margin_found_lesions(truth, predicted, threshold)
    false = margin_false_positives(truth, predicted, true_pet, voxel_ml, threshold, min_volume_ml)
    tp = int(found.size)
    return {"tp": tp, "n_true": int(true_ids.size), "fp": int(false.ids.size),
            "tpr": tp / true_ids.size if true_ids.size else None,
            "missed": [int(i) for i in np.setdiff1d(true_ids, found)], "false_positives": false}


def margin_found_lesions(
    true_lesion_labels: Volume | np.ndarray,
    predicted_suv: Volume | np.ndarray,
    threshold: float = PAPER_THRESHOLD_SUV,
) -> np.ndarray:
    """Ids of the true lesions the margin rule finds (see :func:`margin_detection`); alone, for a caller that needs
    no false positives (the true PET scored as its own ceiling)."""
    truth, predicted = _array(true_lesion_labels), _array(predicted_suv)
    if truth.shape != predicted.shape:
        raise InputError(f"Lesion labels {truth.shape} and predicted PET {predicted.shape} are on different grids.")
    # A lesion voxel within one voxel of a hot voxel <=> the lesion grown by one voxel touches the hot region.
    near_hot = ndimage.binary_dilation(predicted > threshold, structure=CONNECTIVITY_26)
    return np.unique(truth[near_hot & (truth > 0)])


def margin_false_positives(
    true_lesion_labels: Volume | np.ndarray,
    predicted_suv: Volume | np.ndarray,
    true_suv: Volume | np.ndarray,
    voxel_ml: float,
    threshold: float = PAPER_THRESHOLD_SUV,
    min_volume_ml: float = 0.5,
) -> MarginFalsePositives:
    """Component labels of ``predicted > threshold`` and the ids of its margin-rule false positives (see
    :func:`margin_detection`)."""
    truth, predicted, true_pet = _array(true_lesion_labels), _array(predicted_suv), _array(true_suv)
    near_lesion = ndimage.binary_dilation(truth > 0, structure=CONNECTIVITY_26)
    allowed = ndimage.binary_dilation(true_pet > threshold, structure=CONNECTIVITY_26, iterations=2) | near_lesion
    components, count = ndimage.label(predicted > threshold, structure=CONNECTIVITY_26)
    sizes = np.bincount(components.ravel(), minlength=count + 1) * voxel_ml
    touching = np.unique(components[allowed & (components > 0)])
    large = np.flatnonzero(sizes >= min_volume_ml)
    return MarginFalsePositives(components, np.setdiff1d(large[large > 0], touching))
