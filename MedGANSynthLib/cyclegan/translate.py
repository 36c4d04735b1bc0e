"""Whole volumes through a CycleGAN generator, slice by slice along the patient's superior axis.

Each axial slice (with its 2.5-D neighbours, edge slices repeating) is windowed into the source domain, resampled to
the pixel size the model was trained at and centred in its N x N image (:class:`Placement`), translated, and either kept at the model's size (:func:`translate_slices`, for comparisons
at the resolution the network sees) or resized back and mapped to the target domain's units
(:func:`translate_volume`: a Volume on the input's grid, e.g. a virtual PET in SUV).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from MedGANSynthLib.cyclegan.dataset import in_plane_extent_mm
from MedGANSynthLib.cyclegan.weights import CycleGANModel
from MedGANSynthLib.errors import InputError
from MedGANSynthLib.training.datasets import resize_image
from MedGANSynthLib.volume import Volume

DIRECTIONS = {"ab": ("a", "b"), "ba": ("b", "a")}


@dataclass(frozen=True)
class Placement:
    """How a volume's slices sit in the model's N x N images: resampled to ``scaled`` pixels (the model's pixel
    size, so anatomy keeps the physical size the generators learnt), then centred (padded with the window's lowest
    value: air, SUV 0) or centre-cropped. Without a pixel size in the card (2-D training images) slices are
    stretched to N x N as training stretched them."""

    native: tuple[int, int]
    scaled: tuple[int, int]
    size: int

    def ranges(self, axis: int) -> tuple[slice, slice]:
        """(part of the scaled slice, part of the N x N image) that overlap along ``axis``."""
        length = self.scaled[axis]
        offset = (self.size - length) // 2
        start, stop = max(0, -offset), min(length, self.size - offset)
        return slice(start, stop), slice(start + offset, stop + offset)


def placement(model: CycleGANModel, volume: Volume, domain: str) -> Placement:
    axis = volume.axis_along(2)
    native = tuple(int(n) for a, n in enumerate(volume.array.shape) if a != axis)
    pixel, size = model.pixel_mm(domain), model.image_size
    scaled = (size, size) if pixel is None else tuple(max(1, round(e / pixel)) for e in in_plane_extent_mm(volume))
    return Placement(native, scaled, size)


def _to_canvas(images: torch.Tensor, where: Placement, fill: float) -> torch.Tensor:
    (rows_in, rows_out), (cols_in, cols_out) = where.ranges(0), where.ranges(1)
    canvas = images.new_full((*images.shape[:-2], where.size, where.size), fill)
    canvas[..., rows_out, cols_out] = images[..., rows_in, cols_in]
    return canvas


def _from_canvas(canvas: torch.Tensor, where: Placement, fill: float) -> torch.Tensor:
    (rows_in, rows_out), (cols_in, cols_out) = where.ranges(0), where.ranges(1)
    images = canvas.new_full((*canvas.shape[:-2], *where.scaled), fill)
    images[..., rows_in, cols_in] = canvas[..., rows_out, cols_out]
    return images


def model_slices(model: CycleGANModel, volume: Volume, domain: str) -> torch.Tensor:
    """(S, 2c+1, N, N): every axial slice of ``volume`` in ``domain``'s network range, placed as the model needs."""
    slices = np.moveaxis(volume.array.astype(np.float32), volume.axis_along(2), 0)
    window, where = model.window(domain), placement(model, volume, domain)
    scaled = resize_image(torch.from_numpy(np.asarray(window.forward(slices), dtype=np.float32)), where.scaled)
    scaled = _to_canvas(scaled, where, window.out_low)
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
    outputs = translate_slices(model, volume, direction)  # refuses an unknown direction first
    source, target = DIRECTIONS[direction]
    centre = outputs.shape[1] // 2
    axis = volume.axis_along(2)
    window, where = model.window(target), placement(model, volume, source)
    scaled = _from_canvas(outputs[:, centre:centre + 1], where, window.out_low)
    resized = F.interpolate(scaled, size=where.native, mode="bilinear", align_corners=False)[:, 0]
    values = np.asarray(window.inverse(resized.numpy()), dtype=np.float32)
    units = window.units
    modality = {"HU": "CT", "SUV": "PT"}.get(units, "")
    result = volume.with_array(np.ascontiguousarray(np.moveaxis(values, 0, axis)), modality=modality, units=units)
    result.metadata.update({"cyclegan_direction": model.card.config["directions"][f"g_{direction}"]})
    return result


def ct_to_suv(model: CycleGANModel, ct: Volume) -> Volume:
    """The virtual PET (SUV) of a CT on the CT's grid, for a CycleGAN whose A is CT in HU and B PET in SUV."""
    units = (model.window("a").units, model.window("b").units)
    if units != ("HU", "SUV"):
        domains = model.card.config["domains"]
        raise InputError(f"This CycleGAN translates {domains['a']['name']} ({units[0] or 'grey values'}) to "
                         f"{domains['b']['name']} ({units[1] or 'grey values'}); a virtual PET needs one from CT in "
                         "HU (domain A) to PET in SUV (domain B).")
    return translate_volume(model, ct, "ab")
