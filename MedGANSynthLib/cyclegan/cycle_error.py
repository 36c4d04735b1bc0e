"""The cycle reconstruction error of a CT as an out-of-distribution score (the RadioGraphics primer's use of cycle-consistent GANs to
flag unsuitable input CTs; its reference 60 uses an ensemble, this is the single-model version).

A CT that resembles the training CTs survives the round trip A -> B -> A (CT -> PET -> CT) nearly unchanged; one
that does not (another body region, a contrast phase, a non-CT image) comes back different. Score = mean absolute
error in HU between the round trip and its input, over the body pixels (input denser than -500 HU), both at the
model's image size and within its CT window (values outside it cannot come back, so the input is compared after the
same clipping). Nothing here refuses a non-CT input: scoring images that are not CTs is the point. A briefly
trained model need not separate anything; read the measured scores (Testing/Training/cycle_error_scores.py).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from MedGANSynthLib.cyclegan.translate import model_slices, run_generator
from MedGANSynthLib.cyclegan.weights import CycleGANModel
from MedGANSynthLib.errors import InputError
from MedGANSynthLib.preprocessing.windows import IntensityWindow
from MedGANSynthLib.validation import require_finite
from MedGANSynthLib.volume import Volume

BODY_HU = -500.0


def require_ct_domain(model: CycleGANModel) -> None:
    """Refuse a CycleGAN whose domain A is not a CT in HU (its cycle error would not be in HU)."""
    window = model.window("a")
    if window.units != "HU":
        raise InputError(f"The cycle error in HU needs a CycleGAN whose domain A is CT in HU (this one's A is "
                         f"'{model.card.config['domains']['a']['name']}' in {window.units or 'grey values'}).")


def round_trip_hu(g_ab: torch.nn.Module, g_ba: torch.nn.Module, window: IntensityWindow,
                 inputs: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """(original, returned): the centre channel of (S, 2c+1, N, N) domain-A images (network range of ``window``)
    and of their round trip A -> B -> A, both in the window's units (HU for a CT, within the window)."""
    returned = run_generator(g_ba, run_generator(g_ab, inputs))
    centre = inputs.shape[1] // 2
    return (np.asarray(window.inverse(inputs[:, centre].float().numpy())),
            np.asarray(window.inverse(returned[:, centre].numpy())))


def slice_errors(original: np.ndarray, returned: np.ndarray, body_hu: float = BODY_HU,
                 min_body_fraction: float = 0.0) -> np.ndarray:
    """Mean absolute HU error over the body pixels of each slice whose body covers more than ``min_body_fraction``
    of the image (and at least one pixel)."""
    body = original > body_hu
    fractions = body.reshape(len(body), -1).mean(axis=1)
    error = np.abs(returned - original)
    return np.array([float(error[s][body[s]].mean()) for s in range(len(body))
                     if body[s].any() and fractions[s] >= min_body_fraction], dtype=np.float64)


def cycle_error(model: CycleGANModel, volume: Volume, body_hu: float = BODY_HU) -> dict[str, Any]:
    """{"cycle_mae_hu", "median_slice_mae_hu", "body_pixels", "slices"} of ``volume`` treated as domain A."""
    require_finite(volume, "The image")
    require_ct_domain(model)
    original, returned = round_trip_hu(model.g_ab, model.g_ba, model.window("a"), model_slices(model, volume, "a"))
    body = original > body_hu
    if not bool(body.any()):
        raise InputError(f"No pixel of the image is denser than {body_hu:g} HU; there is no body to score.")
    per_slice = slice_errors(original, returned, body_hu)
    return {"cycle_mae_hu": float(np.abs(returned - original)[body].mean()),
            "median_slice_mae_hu": float(np.median(per_slice)), "body_pixels": int(body.sum()),
            "slices": int(len(per_slice))}
