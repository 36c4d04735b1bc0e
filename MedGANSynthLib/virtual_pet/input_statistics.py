"""Out-of-distribution guard: is this CT like the ones the virtual-PET model was trained on?

A few robust statistics describe a CT (inside the body: HU quantiles, the fraction of voxels per HU band, the body's
width, the image noise). ``training_statistics`` summarises them over the training CTs (mean, SD, min, max per
statistic) for the model card (``training_data.statistics``; Testing/Training/virtual_pet_training_statistics.py); ``distribution_warnings`` measures a new CT the same way and returns one plain
sentence when some statistic lies far outside the training range: a patient CT for a phantom-trained model, a
non-CT rescaled to look like HU, a contrast phase the model never saw (enhanced organs 100-300 HU).

Distance per statistic: how far the value lies outside the training [min, max], in units of the larger of the
training SD and a floor (``TOLERANCE``: the spread that means nothing clinically, e.g. 15 HU, 3 % of the body); a
warning when any distance exceeds ``WARNING_DISTANCE``. The floors keep a handful of very similar training phantoms
from flagging every fresh phantom.

Cost: at most ``SAMPLE_SLICES`` slices, every second pixel of large slices; well under a second for a 600-slice CT.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import numpy as np
from scipy import ndimage

from MedGANSynthLib.preprocessing.body_mask import body_mask_slice
from MedGANSynthLib.volume import Volume
from MedGANSynthLib.weights.model_card import ModelCard

HU_BANDS = {"air_lung": (-np.inf, -500.0), "fat": (-500.0, -30.0), "soft_tissue": (-30.0, 100.0),
            "bone": (200.0, np.inf)}
"""Bands of body voxels (cancellous bone is ~230 HU, in the last band)."""
CONTRAST_BAND_HU = (100.0, 200.0)
"""Contrast-enhanced liver, spleen, kidneys and vessels. Counted on a 3 x 3 in-plane mean: without contrast this band
holds only noise tails and bone rims (1.4-2.4 % of the body of 8 training phantoms, 4.5 % unsmoothed at 30 HU noise);
the phantoms' liver, blood, spleen and kidneys raised by 60-150 HU put 5.9-8.6 % of the body there."""
QUANTILES = (5, 25, 50, 75, 95)
SAMPLE_SLICES = 48
TOLERANCE = {"hu": 15.0, "fraction": 0.03, "contrast_fraction": 0.005, "body_width_mm": 40.0, "noise_hu": 5.0}
WARNING_DISTANCE = 4.0
STATISTICS_VERSION = 1


def ct_statistics(ct: Volume) -> dict[str, float]:
    """The guard's statistics of one CT in HU (a flat name -> number mapping)."""
    step = max(1, ct.array.shape[0] // SAMPLE_SLICES)
    # Axial slices are array axis 0 for the CTs we read (k is the patient's long axis); a rotated volume only
    # shifts the body width, which the tolerance absorbs.
    stride = 2 if min(ct.array.shape[1:]) > 256 else 1
    sample = np.asarray(ct.array[::step, ::stride, ::stride], dtype=np.float32)
    pixel_mm = float(np.sqrt(ct.spacing[0] * ct.spacing[1])) * stride
    # The product's body mask without its table and speck steps: the cards' statistics (version 1) were measured
    # on the -500 HU threshold with holes filled, the phantoms' couch counted in.
    body = np.stack([body_mask_slice(plane, (ct.spacing[1] * stride, ct.spacing[0] * stride), thin_mm=0,
                                     min_area_mm2=0) for plane in sample])
    values = sample[body]
    if values.size == 0:
        return {"body_fraction_of_image": 0.0}
    stats = {"body_fraction_of_image": float(body.mean())}
    for q, value in zip(QUANTILES, np.percentile(values, QUANTILES), strict=True):
        stats[f"hu_p{q:02d}"] = float(value)
    for name, (low, high) in HU_BANDS.items():
        stats[f"fraction_{name}"] = float(np.mean((values >= low) & (values < high)))
    smoothed = ndimage.uniform_filter(sample, size=(1, 3, 3))[body]
    stats["fraction_contrast_enhanced"] = float(np.mean((smoothed >= CONTRAST_BAND_HU[0])
                                                        & (smoothed < CONTRAST_BAND_HU[1])))
    areas = body.reshape(body.shape[0], -1).sum(axis=1)
    widths = 2.0 * np.sqrt(areas[areas > 0] / np.pi) * pixel_mm
    stats["body_width_mm"] = float(np.median(widths))
    stats["noise_hu"] = _soft_tissue_noise(sample)
    return stats


def _soft_tissue_noise(sample: np.ndarray) -> float:
    """Robust SD (1.4826 MAD) of horizontal neighbour differences / sqrt 2 where both pixels are soft tissue."""
    left, right = sample[..., :-1], sample[..., 1:]
    soft = (left > -30) & (left < 100) & (right > -30) & (right < 100)
    differences = (right - left)[soft]
    if differences.size < 100:
        return 0.0
    return float(1.4826 * np.median(np.abs(differences - np.median(differences))) / np.sqrt(2.0))


def training_statistics(cts: list[Volume], description: str) -> dict[str, Any]:
    """The model card's ``training_data.statistics`` block: per statistic mean, SD, min and max over ``cts``."""
    per_case = [ct_statistics(ct) for ct in cts]
    names = sorted(set().union(*per_case))
    summary = {}
    for name in names:
        values = np.array([case.get(name, 0.0) for case in per_case])
        summary[name] = {"mean": round(float(values.mean()), 4), "sd": round(float(values.std(ddof=1)), 4)
                         if len(values) > 1 else 0.0, "min": round(float(values.min()), 4),
                         "max": round(float(values.max()), 4)}
    return {"version": STATISTICS_VERSION, "cases": len(cts), "description": description,
            "warning_distance": WARNING_DISTANCE, "tolerance": dict(TOLERANCE), "statistics": summary}


def _tolerance_key(name: str) -> str:
    if name == "fraction_contrast_enhanced":
        return "contrast_fraction"
    if name.startswith("hu_"):
        return "hu"
    if name.startswith("fraction_") or name == "body_fraction_of_image":
        return "fraction"
    return name


def distances(stats: dict[str, float], reference: dict[str, Any]) -> dict[str, float]:
    """Per statistic: how far ``stats`` lies outside the training range, in units of max(SD, tolerance)."""
    result = {}
    for name, summary in reference["statistics"].items():
        value = stats.get(name, 0.0)
        outside = max(summary["min"] - value, value - summary["max"], 0.0)
        tolerance = {**TOLERANCE, **reference.get("tolerance", {})}[_tolerance_key(name)]
        result[name] = outside / max(summary["sd"], tolerance)
    return result


def distribution_warnings(ct: Volume, reference: dict[str, Any] | None) -> tuple[list[str], dict[str, Any]]:
    """(warnings, details): one sentence when ``ct`` lies outside the training statistics (none without them)."""
    if not reference or not reference.get("statistics"):
        return [], {}
    stats = ct_statistics(ct)
    far = distances(stats, reference)
    score = max(far.values(), default=0.0)
    details = {"score": round(score, 2), "warning_distance": reference.get("warning_distance", WARNING_DISTANCE),
               "statistics": {name: round(value, 3) for name, value in stats.items()}}
    if score <= details["warning_distance"]:
        return [], details
    worst = sorted(far, key=far.get, reverse=True)[:3]
    listed = ", ".join(f"{name} {stats.get(name, 0.0):.3g} (training {reference['statistics'][name]['min']:.3g}"
                       f"..{reference['statistics'][name]['max']:.3g})" for name in worst if far[name] > 0)
    message = (f"this CT is unlike the model's training CTs: {listed}; distance {score:.1f} > "
               f"{details['warning_distance']:g}. The virtual PET may be unreliable (a patient CT for a "
               "phantom-trained model, a contrast phase, or not a CT in HU).")
    return [message], details


def card_statistics(card: Any) -> dict[str, Any] | None:
    """The training statistics a model card carries (``training_data.statistics``), None for older cards."""
    return card.training_data.get("statistics")


def store_training_statistics(card_path: str | os.PathLike, block: dict[str, Any]) -> Path:
    """Write ``block`` into the card's ``training_data.statistics``; every other field (the tensor file's SHA-256
    included) is kept as it is, and the weights are not touched."""
    card = ModelCard.load(card_path)
    card = dataclasses.replace(card, training_data={**card.training_data, "statistics": block})
    return card.save(card_path)
