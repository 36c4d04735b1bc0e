"""Whole volumes through a CycleGAN generator, slice by slice along the patient's superior axis.

Each axial slice (with its 2.5-D neighbours, edge slices repeating) is windowed into the source domain, resized to
the model's image size, translated, and either kept at the model's size (:func:`translate_slices`, for comparisons
at the resolution the network sees) or resized back and mapped to the target domain's units
(:func:`translate_volume`: a Volume on the input's grid, e.g. a virtual PET in SUV).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from MedGANSynthLib.cyclegan.weights import CycleGANModel
from MedGANSynthLib.errors import InputError
from MedGANSynthLib.training.datasets import _resize
from MedGANSynthLib.volume import Volume

DIRECTIONS = {"ab": ("a", "b"), "ba": ("b", "a")}


def model_slices(model: CycleGANModel, volume: Volume, domain: str) -> torch.Tensor:
    """(S, 2c+1, N, N): every axial slice of ``volume`` in ``domain``'s network range at the model's size."""
    slices = np.moveaxis(volume.array.astype(np.float32), volume.axis_along(2), 0)
    scaled = _resize(torch.from_numpy(np.asarray(model.window(domain).forward(slices), dtype=np.float32)),
                     (model.image_size,) * 2)
    context, last = model.context_slices, slices.shape[0] - 1
    index = np.clip(np.arange(slices.shape[0])[:, None] + np.arange(-context, context + 1)[None], 0, last)
    return scaled[torch.from_numpy(index)]


@torch.no_grad()
def run_generator(generator: torch.nn.Module, images: torch.Tensor, batch: int = 16) -> torch.Tensor:
    device = next(generator.parameters()).device
    return torch.cat([generator(images[start:start + batch].to(device)).float().cpu()
                      for start in range(0, len(images), batch)]) if len(images) else images


def _generator(model: CycleGANModel, direction: str) -> torch.nn.Module:
    if direction not in DIRECTIONS:
        raise InputError(f"Unknown direction '{direction}'; use 'ab' (A -> B) or 'ba' (B -> A).")
    return model.g_ab if direction == "ab" else model.g_ba


def translate_slices(model: CycleGANModel, volume: Volume, direction: str = "ab") -> torch.Tensor:
    """(S, 2c+1, N, N) network outputs in the target domain's range, at the model's size."""
    source, _ = DIRECTIONS.get(direction, (None, None))
    generator = _generator(model, direction)
    return run_generator(generator, model_slices(model, volume, source))


def translate_volume(model: CycleGANModel, volume: Volume, direction: str = "ab") -> Volume:
    """The translated volume on ``volume``'s grid, in the target domain's units (centre channel of each slice)."""
    _, target = DIRECTIONS.get(direction, (None, None))
    outputs = translate_slices(model, volume, direction)
    centre = outputs.shape[1] // 2
    axis = volume.axis_along(2)
    native = tuple(np.moveaxis(volume.array, axis, 0).shape[1:])
    resized = F.interpolate(outputs[:, centre:centre + 1], size=native, mode="bilinear", align_corners=False)[:, 0]
    window = model.window(target)
    values = np.asarray(window.inverse(resized.numpy()), dtype=np.float32)
    units = window.units
    modality = {"HU": "CT", "SUV": "PT"}.get(units, "")
    result = volume.with_array(np.ascontiguousarray(np.moveaxis(values, 0, axis)), modality=modality, units=units)
    result.metadata.update({"cyclegan_direction": model.card.config["directions"][f"g_{direction}"]})
    return result
