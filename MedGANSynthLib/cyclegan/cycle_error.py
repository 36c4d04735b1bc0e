"""The cycle reconstruction error of a CT as an out-of-distribution score (seed 003's use of cycle-consistent GANs to
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
from MedGANSynthLib.validation import require_finite
from MedGANSynthLib.volume import Volume

BODY_HU = -500.0


def cycle_error(model: CycleGANModel, volume: Volume, body_hu: float = BODY_HU) -> dict[str, Any]:
    """{"cycle_mae_hu", "median_slice_mae_hu", "body_pixels", "slices"} of ``volume`` treated as domain A."""
    require_finite(volume, "The image")
    window = model.window("a")
    if window.units != "HU":
        raise InputError(f"The cycle error in HU needs a CycleGAN whose domain A is CT in HU (this one's A is "
                         f"'{model.card.config['domains']['a']['name']}' in {window.units or 'grey values'}).")
    inputs = model_slices(model, volume, "a")
    round_trip = run_generator(model.g_ba, run_generator(model.g_ab, inputs))
    centre = inputs.shape[1] // 2
    original = torch.as_tensor(window.inverse(inputs[:, centre].numpy()))
    returned = torch.as_tensor(window.inverse(round_trip[:, centre].numpy()))
    body = original > body_hu
    if not bool(body.any()):
        raise InputError(f"No pixel of the image is denser than {body_hu:g} HU; there is no body to score.")
    error = (returned - original).abs()
    per_slice = [float(error[s][body[s]].mean()) for s in range(len(error)) if bool(body[s].any())]
    return {"cycle_mae_hu": float(error[body].mean()), "median_slice_mae_hu": float(np.median(per_slice)),
            "body_pixels": int(body.sum()), "slices": int(len(per_slice))}
