"""Lesions a translated PET invents or erases (Wolterink et al.'s RadioGraphics primer warns that GANs trained on unpaired data are the most prone
to both). Rules, with the virtual PET's lesion threshold (SUV 2.5, Ben-Cohen et al.) and smallest finding (0.5 ml):

* invented: a 26-connected region of predicted SUV > 2.5 of at least 0.5 ml that overlaps no voxel where the true
  PET exceeds 2.5 SUV (hot where the truth has nothing hot);
* erased: a true lesion (a labelled lesion id; without labels, a true region > 2.5 SUV of at least 0.5 ml) on which
  the prediction never exceeds 2.5 SUV.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import ndimage

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.virtual_pet.lesions import (
    CONNECTIVITY_26,
    MIN_LESION_VOLUME_ML,
    PAPER_THRESHOLD_SUV,
    find_lesion_candidates,
    voxel_volume_ml,
)
from MedGANSynthLib.volume import Volume


def hallucination_counts(predicted_suv: Volume, true_suv: Volume, lesion_labels: Volume | None = None,
                         threshold: float = PAPER_THRESHOLD_SUV,
                         min_volume_ml: float = MIN_LESION_VOLUME_ML) -> dict[str, Any]:
    """{"invented", "invented_ml", "erased", "true_lesions"} of one scan (all volumes on one grid)."""
    for other, what in ((true_suv, "true PET"), (lesion_labels, "lesion labels")):
        if other is not None and other.array.shape != predicted_suv.array.shape:
            raise InputError(f"The predicted PET {predicted_suv.array.shape} and the {what} {other.array.shape} are "
                             "on different grids; resample them onto one grid first.")
    true_hot = true_suv.array > threshold
    candidates, found = find_lesion_candidates(predicted_suv, threshold, min_volume_ml)
    regions = candidates.array
    touched = np.unique(regions[true_hot & (regions > 0)])
    invented = [c for c in found if c["id"] not in set(touched.tolist())]
    if lesion_labels is not None:
        truth = lesion_labels.array.astype(np.int64)
    else:
        truth, count = ndimage.label(true_hot, structure=CONNECTIVITY_26)
        sizes = np.bincount(truth.reshape(-1), minlength=count + 1) * voxel_volume_ml(true_suv)
        small = np.flatnonzero(sizes < min_volume_ml)
        truth[np.isin(truth, small[small > 0])] = 0
    true_ids = np.unique(truth[truth > 0])
    seen = np.unique(truth[(truth > 0) & (predicted_suv.array > threshold)])
    return {"invented": len(invented), "invented_ml": float(sum(c["volume_ml"] for c in invented)),
            "erased": int(true_ids.size - seen.size), "true_lesions": int(true_ids.size)}
