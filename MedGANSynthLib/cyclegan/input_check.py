"""The cycle error as an input check of the virtual PET: is this CT like the CycleGAN's training CTs?

The band: at the end of training (cyclegan/training_run.py) every training CT slice of domain A goes through the
round trip CT -> PET -> CT (cyclegan/cycle_error.py); the 95th percentile of the per-slice mean absolute error (HU, body
pixels) is written into the model card as ``metrics.cycle_error_band``. The check: the same per-slice errors of a
new CT; a warning when its MEDIAN slice lies above the band, i.e. when most of its slices come back worse than 95 %
of the training slices did. Both sides use the slices training uses (cyclegan/dataset.py): those where at least
2 % of the native slice is denser than -500 HU.

What it can and cannot tell depends on the model: measure it (Testing/Python/test_cyclegan_input_check.py trains a
tiny one and records which inputs it flags; Testing/Training/cycle_error_scores.py a larger one).
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from MedGANSynthLib.cyclegan.cycle_error import BODY_HU, require_ct_domain, round_trip_hu, slice_errors
from MedGANSynthLib.cyclegan.dataset import FOREGROUND_LEVEL, MIN_FOREGROUND_FRACTION
from MedGANSynthLib.cyclegan.translate import model_slices
from MedGANSynthLib.cyclegan.weights import CycleGANModel, load_cyclegan
from MedGANSynthLib.errors import InputError
from MedGANSynthLib.preprocessing.windows import IntensityWindow
from MedGANSynthLib.validation import require_finite
from MedGANSynthLib.volume import Volume
from MedGANSynthLib.weights.catalogue import load_catalogue
from MedGANSynthLib.weights.model_card import ModelCard
from MedGANSynthLib.weights.safetensors_io import weight_paths

BAND_KEY = "cycle_error_band"
BAND_PERCENTILE = 95.0
AUTO = "auto"
"""``input_check=AUTO``: the bundled CycleGAN of the catalogue (task ``cyclegan``) when one is installed, else none."""
OFF = ("none", "off", "")


def training_band(g_ab: torch.nn.Module, g_ba: torch.nn.Module, window: IntensityWindow, images: torch.Tensor,
                  description: str) -> dict[str, Any]:
    """The card's ``metrics.cycle_error_band`` from the training images of domain A ((N, 2c+1, S, S), network range:
    the slices training kept)."""
    errors = slice_errors(*round_trip_hu(g_ab, g_ba, window, images), BODY_HU)
    if errors.size == 0:
        raise InputError("No training CT slice shows body (> -500 HU); there is no cycle-error band to record.")
    return {"band_hu": float(np.percentile(errors, BAND_PERCENTILE)), "percentile": BAND_PERCENTILE,
            "median_hu": float(np.median(errors)), "max_hu": float(errors.max()), "slices": int(errors.size),
            "statistic": "per-slice mean absolute error (HU) of CT -> PET -> CT over body pixels (> -500 HU), "
                         f"slices with >= {MIN_FOREGROUND_FRACTION:.0%} body", "data": description}


def card_band(card: ModelCard) -> dict[str, Any] | None:
    band = card.metrics.get(BAND_KEY)
    return band if isinstance(band, dict) and "band_hu" in band else None


def record_training_band(model_path: str | os.PathLike, ct_folder: str | os.PathLike) -> Path:
    """Measure the band of a trained CycleGAN on its training CT folder (domain A, read as training read it) and
    write it into the card; the weights and their checksum are unchanged. For cards written before the band was."""
    from MedGANSynthLib.cyclegan.dataset import load_domain

    model = load_cyclegan(model_path)
    require_ct_domain(model)
    domain = load_domain(ct_folder, "ct", model.card.config["domains"]["a"]["name"], model.image_size,
                         model.context_slices, model.window("a"), option="the training CT folder")
    band = training_band(model.g_ab, model.g_ba, model.window("a"), domain.images,
                         f"{len(domain.images)} slices of {ct_folder}")
    _, card_path = weight_paths(model_path)
    card = ModelCard.load(card_path)
    return dataclasses.replace(card, metrics={**card.metrics, BAND_KEY: band}).save(card_path)


def default_input_check(models_folder: str | os.PathLike | None = None) -> str | None:
    """The id of the first CycleGAN in the catalogue, or None when none is installed."""
    return next((entry.id for entry in load_catalogue(models_folder) if entry.task == "cyclegan"), None)


def load_input_check(choice: str | os.PathLike | CycleGANModel | None,
                     models_folder: str | os.PathLike | None = None) -> CycleGANModel | None:
    """The CycleGAN of ``choice`` (catalogue id, path, model, AUTO or None / "none"), refused with one line when it
    is not a CT -> PET CycleGAN with a band in its card; None when the check is off."""
    if isinstance(choice, CycleGANModel):
        model, name = choice, "(in memory)"
    else:
        if choice is None or str(choice).lower() in OFF:
            return None
        name = default_input_check(models_folder) if str(choice) == AUTO else str(choice)
        if name is None:
            return None
        model = load_cyclegan(name, models_folder=models_folder)
    require_ct_domain(model)
    if card_band(model.card) is None:
        raise InputError(f"The input-check CycleGAN '{name}' has no cycle-error band of its training CTs in its "
                         f"model card (metrics.{BAND_KEY}); add it with MedGANSynthLib.cyclegan.input_check."
                         f"record_training_band('{name}', TRAINING_CT_FOLDER) or retrain it with train-cyclegan, "
                         "which records it; or leave out --input-check.")
    return model


def cycle_error_warnings(ct: Volume, model: CycleGANModel | None) -> tuple[list[str], dict[str, Any]]:
    """(warnings, details): one sentence when most slices of ``ct`` come back from the round trip worse than the
    model's training band; ([], {}) without a model."""
    if model is None:
        return [], {}
    require_finite(ct, "The CT")
    band = card_band(model.card)
    native = np.moveaxis(ct.array, ct.axis_along(2), 0)
    kept = (native > FOREGROUND_LEVEL["HU"]).mean(axis=(1, 2)) >= MIN_FOREGROUND_FRACTION  # as training kept
    inputs = model_slices(model, ct, "a")[torch.from_numpy(np.flatnonzero(kept))]
    errors = slice_errors(*round_trip_hu(model.g_ab, model.g_ba, model.window("a"), inputs), BODY_HU)
    median = float(np.median(errors)) if errors.size else float("nan")
    details = {"model": model.card.config["directions"]["g_ab"], "median_slice_error_hu": round(median, 1),
               "band_hu": round(float(band["band_hu"]), 1), "band_percentile": band.get("percentile"),
               "slices": int(errors.size),
               "fraction_of_slices_above_band": round(float(np.mean(errors > band["band_hu"])), 3)
               if errors.size else None}
    if errors.size == 0:
        return [f"the cycle-error input check found no slice with body (> -500 HU on {MIN_FOREGROUND_FRACTION:.0%} "
                "of the slice); it could not check this CT."], details
    if median <= band["band_hu"]:
        return [], details
    return [f"this CT is unlike the input-check CycleGAN's training CTs: its median slice cycle error "
            f"(CT -> PET -> CT) is {median:.0f} HU, above the {band.get('percentile', BAND_PERCENTILE):g}th "
            f"percentile of the training slices, {band['band_hu']:.0f} HU ({details['fraction_of_slices_above_band']:.0%}"
            " of its slices above). The virtual PET may be unreliable."], details

