"""Intensity windows of the source papers: clip to [low, high] and map linearly onto [out_low, out_high].

Inside the window the map is affine, so :meth:`IntensityWindow.inverse` undoes it exactly (up to float rounding).
Clipping is not invertible: every value below ``low`` (above ``high``) comes back as ``low`` (``high``).

Windows used by the project:

* ``RADIOGAN_SUV_WINDOW``: SUV [0, 30] -> [0, 1] (RadioGAN, Amyar et al.).
* ``VIRTUAL_PET_SUV_WINDOW``: SUV clipped to [0, 20], kept in SUV (virtual PET, Ben-Cohen et al.).
* ``VIRTUAL_PET_CT_WINDOW``: CT [-160, 240] HU -> [0, 1] (Ben-Cohen et al., "a standard windowing used by radiologists").
* ``CT_GAN_WINDOW``: CT [-1000, 1000] HU -> [0, 2] (the simple CT GAN paper). The paper only says "intensity
  scaling to the range [0, 2]"; we choose [-1000, 1000] HU because it spans air (-1000) to dense cortical bone
  (~1000) in unenhanced lung CT, so lung parenchyma, soft tissue and bone all keep contrast.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.volume import Volume


@dataclass(frozen=True)
class IntensityWindow:
    name: str
    low: float
    high: float
    out_low: float = 0.0
    out_high: float = 1.0
    units: str = ""
    """Units of the unscaled values ("SUV", "HU")."""

    def __post_init__(self) -> None:
        values = (self.low, self.high, self.out_low, self.out_high)
        if not all(np.isfinite(v) for v in values) or self.high <= self.low or self.out_high <= self.out_low:
            raise InputError(
                f"Window '{self.name}' needs finite bounds with low < high; got [{self.low}, {self.high}] -> "
                f"[{self.out_low}, {self.out_high}]."
            )

    @property
    def scale(self) -> float:
        return (self.out_high - self.out_low) / (self.high - self.low)

    def forward(self, values):
        """Clip to [low, high], then map affinely onto [out_low, out_high]. numpy arrays or torch tensors."""
        clipped = _clip(values, self.low, self.high)
        return (clipped - self.low) * self.scale + self.out_low

    def inverse(self, scaled, clip: bool = True):
        """Map scaled values back to the original units; exact for values inside the output range.

        With ``clip`` (default) values a network produced outside [out_low, out_high] are first clipped, so the
        result stays within [low, high], the only range the forward map can represent.
        """
        if clip:
            scaled = _clip(scaled, self.out_low, self.out_high)
        return (scaled - self.out_low) / self.scale + self.low

    def apply(self, volume: Volume) -> Volume:
        """The windowed volume as float32 on the same grid; the window is recorded in the metadata."""
        out = volume.with_array(np.asarray(self.forward(volume.array.astype(np.float32)), dtype=np.float32))
        out.metadata["intensity_window"] = {
            "name": self.name, "low": self.low, "high": self.high,
            "out_low": self.out_low, "out_high": self.out_high, "units": self.units,
        }
        out.units = "scaled" if (self.out_low, self.out_high) != (self.low, self.high) else volume.units
        return out


def _clip(values, low: float, high: float):
    if isinstance(values, torch.Tensor):
        return torch.clamp(values, low, high)
    return np.clip(np.asarray(values), low, high)


RADIOGAN_SUV_WINDOW = IntensityWindow("RadioGAN SUV", 0.0, 30.0, 0.0, 1.0, "SUV")
VIRTUAL_PET_SUV_WINDOW = IntensityWindow("virtual PET SUV", 0.0, 20.0, 0.0, 20.0, "SUV")
VIRTUAL_PET_CT_WINDOW = IntensityWindow("virtual PET CT", -160.0, 240.0, 0.0, 1.0, "HU")
CT_GAN_WINDOW = IntensityWindow("CT GAN", -1000.0, 1000.0, 0.0, 2.0, "HU")
