"""A translated PET scored against held-out paired phantoms: the virtual-PET metrics (SSIM, PSNR, MAE in SUV inside
the body; lesion TPR and false positives, virtual_pet/detection_metrics.py) plus the hallucination counts of
virtual_pet/hallucination.py, per scan and overall. ``predict`` maps a CT Volume to a PET Volume in SUV on its grid, so
the unpaired CycleGAN and the paired pix2pix are scored by the same code, side by side.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from MedGANSynthLib.jobs.progress import CancelToken, ProgressCallback, report
from MedGANSynthLib.virtual_pet.cases import PairedCase, load_case
from MedGANSynthLib.virtual_pet.detection_metrics import body_mask_from_ct, image_metrics, lesion_detection
from MedGANSynthLib.virtual_pet.hallucination import hallucination_counts
from MedGANSynthLib.volume import Volume

Predictor = Callable[[Volume], Volume]


def score_translation(case_id: str, ct: Volume, true_suv: Volume, predicted: Volume,
                      lesions: Volume | None) -> dict[str, Any]:
    row: dict[str, Any] = {"case": case_id, **image_metrics(predicted, true_suv, body_mask_from_ct(ct))}
    if lesions is not None:
        detection = lesion_detection(lesions, predicted)
        row.update(tp=detection["tp"], fn=detection["fn"], fp=detection["fp"], n_true=detection["n_true"])
    row.update(hallucination_counts(predicted, true_suv, lesions))
    return row


def evaluate_translation(predictors: dict[str, Predictor], cases: Sequence[PairedCase],
                         progress: ProgressCallback | None = None,
                         cancel: CancelToken | None = None) -> dict[str, Any]:
    """{"per_scan": {model: [rows]}, "overall": {model: summary}} for every named predictor on every case."""
    per_scan: dict[str, list[dict[str, Any]]] = {name: [] for name in predictors}
    for number, case in enumerate(cases):
        loaded = load_case(case)
        for name, predict in predictors.items():
            per_scan[name].append(score_translation(loaded.case_id, loaded.ct, loaded.suv, predict(loaded.ct),
                                                    loaded.lesions))
        report(progress, cancel, "evaluate", number + 1, len(cases), loaded.case_id)
    return {"scans": len(cases), "per_scan": per_scan,
            "overall": {name: overall(rows) for name, rows in per_scan.items()}}


def overall(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Means of the image metrics and per-scan counts; TPR pooled over all true lesions."""
    summary: dict[str, Any] = {key: float(np.mean([row[key] for row in rows]))
                               for key in ("ssim", "psnr_db", "mae_suv")}
    for key in ("invented", "erased", "fp"):
        if all(key in row for row in rows):
            summary[f"{key}_per_scan"] = float(np.mean([row[key] for row in rows]))
    true_lesions = sum(row["true_lesions"] for row in rows)
    summary["erased_fraction"] = (sum(row["erased"] for row in rows) / true_lesions) if true_lesions else float("nan")
    if all("tp" in row for row in rows):
        n_true = sum(row["n_true"] for row in rows)
        summary["tpr"] = sum(row["tp"] for row in rows) / n_true if n_true else float("nan")
    return summary
