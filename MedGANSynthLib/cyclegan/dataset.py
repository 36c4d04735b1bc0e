"""Two unpaired folders of images (domains A and B) as CycleGAN training items ``{"a": (C, H, W), "b": (C, H, W)}``.

A folder may hold PNG images or one-slice volumes (MIPs; one image each), 3-D volumes (NIfTI/NRRD/MHA) and DICOM
series sub-folders (one image per axial slice that shows the body), in any mix. Each domain has one intensity window
(CT default [-1000, 1000] HU, PET default SUV [0, 20], both onto tanh's [-1, 1]); PNG grey values get [0, dtype max]
onto the same range (training/datasets.py). Every image is resized to ``image_size`` x ``image_size`` (antialiased
bilinear). With ``context_slices`` c > 0 an item is the slice with c neighbours on each side as channels (2.5-D;
beyond a volume's ends, and for 2-D images, the edge slice repeats, as the virtual PET's slices do).

Slices kept from 3-D volumes: those where at least ``min_foreground_fraction`` of the pixels exceed the domain's
foreground level (CT: -500 HU, as the virtual PET's body rule; SUV: 0.3; other units: 5 % into the window).

Pairing: item i takes image i mod N_A of A and a B image drawn from (seed, epoch, i) alone, as the reference code
draws a random B per A. The engine calls :meth:`set_epoch`, so the draws change between epochs, repeat exactly after
a resume and do not depend on DDP sharding or loader workers. There are max(N_A, N_B) items per epoch.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.io.volume_io import VOLUME_SUFFIXES, read_volume, volume_suffix
from MedGANSynthLib.preprocessing.windows import IntensityWindow
from MedGANSynthLib.training.datasets import (
    PNG_SUFFIXES,
    read_plane,
    resize_image,
    single_plane,
    window_to_dict,
)
from MedGANSynthLib.validation import require_ct, require_finite, require_pet, require_suv
from MedGANSynthLib.volume import Volume

DOMAIN_KINDS = ("ct", "pet")
DEFAULT_WINDOWS = {
    "ct": IntensityWindow("CycleGAN CT", -1000.0, 1000.0, -1.0, 1.0, "HU"),
    "pet": IntensityWindow("CycleGAN PET SUV", 0.0, 20.0, -1.0, 1.0, "SUV"),
}
FOREGROUND_LEVEL = {"HU": -500.0, "SUV": 0.3}
MIN_FOREGROUND_FRACTION = 0.02


@dataclass
class DomainImages:
    """One domain's images in the network range, (N, C, H, W) float32, and where each came from."""

    name: str
    kind: str
    images: torch.Tensor
    window: IntensityWindow
    sources: list[str]
    pixel_mm: float | None = None
    """Median in-plane pixel size (mm) of the resized 3-D volume slices; None for 2-D images (PNG, MIPs)."""

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "count": int(self.images.shape[0]), "pixel_mm": self.pixel_mm,
                "image_shape": list(self.images.shape[1:]), "normalisation": window_to_dict(self.window),
                "files": len({source.split("#")[0] for source in self.sources})}


def domain_window(kind: str, low_high: list[float] | tuple[float, float] | None = None) -> IntensityWindow:
    """The domain's default window, or the user's [low, high] under the same units, onto [-1, 1]."""
    if kind not in DOMAIN_KINDS:
        raise InputError(f"Unknown domain kind '{kind}'; use one of {', '.join(DOMAIN_KINDS)}.")
    window = DEFAULT_WINDOWS[kind]
    if low_high is None:
        return window
    return replace(window, name=f"{window.name} (user window)", low=float(low_high[0]), high=float(low_high[1]))


def load_domain(folder: str | os.PathLike, kind: str, name: str, image_size: int, context_slices: int = 0,
                window: IntensityWindow | None = None, min_foreground_fraction: float = MIN_FOREGROUND_FRACTION,
                option: str = "--data-a") -> DomainImages:
    """Read every image of ``folder`` (see the module text); one clear line, naming ``option``, for anything
    unusable."""
    root = Path(folder)
    if not root.is_dir():
        raise InputError(f"The {name} folder '{root}' does not exist; check {option}.")
    if context_slices < 0:
        raise InputError(f"--context-slices must be 0 or more (got {context_slices}).")
    if not 16 <= image_size <= 1024:
        raise InputError(f"--image-size must be between 16 and 1024 pixels (got {image_size}).")
    window = window or domain_window(kind)
    entries = sorted(p for p in root.iterdir() if not p.name.startswith(".") and (
        p.is_dir() or volume_suffix(p) in PNG_SUFFIXES + VOLUME_SUFFIXES + (".dcm",)))
    samples: list[torch.Tensor] = []
    sources: list[str] = []
    pixel_sizes: list[float] = []
    png_windows = set()
    kinds = {volume_suffix(path) in PNG_SUFFIXES for path in entries}
    if len(kinds) > 1:
        raise InputError(f"'{root}' mixes PNG images with volumes; keep one kind per {option} folder "
                         f"(PNG grey values and {window.units or 'scaled'} values differ).")
    for path in entries:
        if volume_suffix(path) in PNG_SUFFIXES:
            plane, used = read_plane(path, window)
            png_windows.add((used.low, used.high))
            samples.append(_stack_context(resize_image(torch.from_numpy(plane)[None], (image_size,) * 2), context_slices))
            sources.append(str(path))
            continue
        volume = read_volume(path)
        require_finite(volume, f"'{path.name}'")
        _require_kind(volume, kind, window, path)
        if 1 in volume.array.shape:
            plane = np.asarray(window.forward(single_plane(volume, path.name)), dtype=np.float32)
            samples.append(_stack_context(resize_image(torch.from_numpy(plane)[None], (image_size,) * 2), context_slices))
            sources.append(str(path))
            continue
        for index, sample in _volume_samples(volume, window, image_size, context_slices, min_foreground_fraction):
            samples.append(sample)
            sources.append(f"{path}#slice{index}")
            pixel_sizes.append(resized_pixel_mm(volume, image_size))
    if len(png_windows) > 1:
        raise InputError(f"The PNG files in '{root}' mix 8-bit and 16-bit images; convert them to one depth.")
    if not samples:
        raise InputError(f"'{root}' holds no usable {kind.upper()} images (PNG, NIfTI, NRRD, MHA or DICOM folders "
                         f"showing body); check {option}.")
    if png_windows:
        low, high = png_windows.pop()
        window = IntensityWindow(f"PNG grey values 0-{high:g}", low, high, window.out_low, window.out_high)
    pixel_mm = float(np.median(pixel_sizes)) if pixel_sizes else None
    return DomainImages(name, kind, torch.stack(samples).contiguous(), window, sources, pixel_mm)


def in_plane_extent_mm(volume: Volume) -> tuple[float, float]:
    """Field of view (mm) of an axial slice along its rows and columns (the axes other than the superior one)."""
    axis = volume.axis_along(2)
    kept = [a for a in (0, 1, 2) if a != axis]
    return tuple(float(volume.array.shape[a] * volume.spacing[2 - a]) for a in kept)


def resized_pixel_mm(volume: Volume, image_size: int) -> float:
    """Mean pixel size (mm) of the volume's slices once resized to image_size x image_size."""
    return float(np.mean(in_plane_extent_mm(volume))) / image_size


def _require_kind(volume: Volume, kind: str, window: IntensityWindow, path: Path) -> None:
    what = f"'{path.name}'"
    if kind == "ct":
        require_ct(volume, what)
    elif window.units == "SUV":
        require_suv(volume, what)
    else:
        require_pet(volume, what)


def _volume_samples(volume: Volume, window: IntensityWindow, image_size: int, context: int,
                    min_fraction: float) -> list[tuple[int, torch.Tensor]]:
    """(slice index, (2c+1, size, size)) for every axial slice showing foreground."""
    slices = np.moveaxis(volume.array.astype(np.float32), volume.axis_along(2), 0)
    level = FOREGROUND_LEVEL.get(window.units, window.low + 0.05 * (window.high - window.low))
    kept = np.flatnonzero((slices > level).mean(axis=(1, 2)) >= min_fraction)
    if kept.size == 0:
        return []
    scaled = resize_image(torch.from_numpy(np.asarray(window.forward(slices), dtype=np.float32)), (image_size,) * 2)
    last = slices.shape[0] - 1
    return [(int(i), scaled[np.clip(np.arange(i - context, i + context + 1), 0, last)].contiguous()) for i in kept]


def _stack_context(plane: torch.Tensor, context: int) -> torch.Tensor:
    """(1, H, W) -> (2c+1, H, W): a lone 2-D image is its own neighbour."""
    return plane.expand(2 * context + 1, *plane.shape[1:]).contiguous()


class UnpairedDataset(Dataset):
    """Items ``{"a", "b"}`` from two domains; see the module text for the pairing rule."""

    def __init__(self, domain_a: DomainImages, domain_b: DomainImages, seed: int = 0) -> None:
        if domain_a.images.shape[1:] != domain_b.images.shape[1:]:
            raise InputError(f"Domains A and B give images of different shapes {tuple(domain_a.images.shape[1:])} "
                             f"and {tuple(domain_b.images.shape[1:])}.")
        self.domain_a, self.domain_b, self.seed, self.epoch = domain_a, domain_b, seed, 0

    def __len__(self) -> int:
        return max(len(self.domain_a.images), len(self.domain_b.images))

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def b_index(self, item: int) -> int:
        return int(np.random.default_rng([self.seed, self.epoch, item]).integers(len(self.domain_b.images)))

    def __getitem__(self, item: int) -> dict[str, torch.Tensor]:
        return {"a": self.domain_a.images[item % len(self.domain_a.images)],
                "b": self.domain_b.images[self.b_index(item)]}

    @property
    def channels(self) -> int:
        return int(self.domain_a.images.shape[1])

    def sample_batch(self, count: int = 4) -> dict[str, torch.Tensor]:
        """Fixed images spread over each domain, for the checkpoint pictures."""
        picks = {key: [round(n * (len(d.images) - 1) / max(1, count - 1)) for n in range(min(count, len(d.images)))]
                 for key, d in (("a", self.domain_a), ("b", self.domain_b))}
        return {"a": self.domain_a.images[picks["a"]], "b": self.domain_b.images[picks["b"]]}

    def describe(self) -> dict[str, Any]:
        return {"a": self.domain_a.describe(), "b": self.domain_b.describe(), "items_per_epoch": len(self)}
