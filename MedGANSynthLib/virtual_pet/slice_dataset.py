"""Axial training slices for the virtual-PET networks, cached in memory (Ben-Cohen et al.).

Each item is ``{"ct": (2c+1, H, W), "suv": (1, H, W)}`` float32: the CT slice with ``c`` neighbours on each side
as channels (2.5-D; beyond the volume the edge slice repeats, exactly as :mod:`.inference` does), windowed
[-160, 240] HU -> [0, 1], and the PET on the CT grid in SUV clipped to the paper's [0, 20] (Ben-Cohen et al., 2.1).
The task maps SUV to its network's output range; the loss weight needs SUV itself.

Slices are taken along the array axis nearest the patient's superior axis (as inference does). Only slices that
contain body are kept: at least ``min_body_fraction`` of the pixels denser than -500 HU (air is -1000 HU).

In-plane size: with ``slice_size=N`` every case is resampled in-plane (bilinear, antialiased when shrinking) to
N x N, so all slices batch together; the model card records the median pixel size this gives, and inference
resamples a CT to it. Without it slices keep their native size (then all cases must share one in-plane size).

Sampling rule (why: the data set is small and lesions cover a tiny fraction of slices, so a uniformly sampled
epoch would show the networks almost no disease): every body slice appears once per epoch and a slice that
contains a labelled lesion appears ``lesion_repeats`` times (default 3). Cases without lesion labels get no
over-sampling: thresholding the true SUV at 2.5 would mostly pick physiological uptake (brain, heart, bladder)
rather than disease. The repetition is in the index list, so the engine's seeded shuffle (and DDP sharding, and exact resume) work unchanged.

Crops (``crop_size=N``, not in the paper): each item is an N x N window of its slice, so the networks can learn at
a fine pixel size (e.g. 256-pixel slices) for the cost of N-pixel ones; both networks are fully convolutional and
run on whole slices afterwards. A lesion slice's window always holds one of its labelled lesion pixels (chosen at
random), so the over-sampled disease stays in view; other windows lie anywhere in the slice. The window of an item
is drawn from (``crop_seed``, epoch, item) alone: the engine calls :meth:`set_epoch`, so windows change between
epochs and repeat exactly after a resume, in DDP and in loader workers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.jobs.progress import CancelToken, ProgressCallback, report
from MedGANSynthLib.virtual_pet.cases import LoadedCase, PairedCase, load_case
from MedGANSynthLib.virtual_pet.inference import CT_WINDOW_HU, SUV_RANGE, window_ct

BODY_HU = -500.0
"""Denser than this is body (air is about -1000 HU, lung about -850 to -700 HU averaged with vessels)."""


@dataclass
class SliceDatasetConfig:
    context_slices: int = 1
    """Neighbouring CT slices on each side fed as channels (in_channels = 2 * context_slices + 1)."""
    slice_size: int | None = 128
    """Resample every slice in-plane to this many pixels per side; None keeps the native size."""
    lesion_repeats: int = 3
    """How many times a slice holding a labelled lesion appears per epoch (1 = no over-sampling)."""
    crop_size: int | None = None
    """Train on random crop_size x crop_size windows of the slices (see the module text); None = whole slices."""
    crop_seed: int = 0
    """Seed of the windows (train-virtual-pet passes the run's --seed)."""
    min_body_fraction: float = 0.02
    ct_window_hu: tuple[float, float] = CT_WINDOW_HU
    suv_range: tuple[float, float] = SUV_RANGE

    @property
    def in_channels(self) -> int:
        return 2 * self.context_slices + 1

    def validate(self) -> None:
        if self.context_slices < 0:
            raise InputError(f"--context-slices must be 0 or more (got {self.context_slices}).")
        if self.slice_size is not None and not 16 <= self.slice_size <= 1024:
            raise InputError(f"--slice-size must be between 16 and 1024 pixels (got {self.slice_size}).")
        if self.lesion_repeats < 1:
            raise InputError(f"lesion_repeats must be at least 1 (got {self.lesion_repeats}).")
        if self.crop_size is not None and not 16 <= self.crop_size <= (self.slice_size or self.crop_size):
            raise InputError(f"--crop-size must be 16 pixels or more and at most --slice-size (got {self.crop_size}).")


@dataclass
class _CaseSlices:
    case_id: str
    ct: np.ndarray          # (S, H, W) windowed CT in [0, 1], every slice of the case (neighbours need them)
    suv: np.ndarray         # (S, H, W) SUV clipped to the SUV range
    body: np.ndarray        # (S,) bool: the slice holds body
    lesion: np.ndarray      # (S,) bool: the slice holds a labelled lesion
    pixel_mm: tuple[float, float]
    lesion_pixels: dict[int, np.ndarray]  # slice -> (N, 2) row/column of its lesion pixels (only when cropping)


class VirtualPETSliceDataset(Dataset):
    """Training slices of paired cases, held in memory as float32 (see the module text for the rules)."""

    def __init__(self, cases: Sequence[LoadedCase | PairedCase], config: SliceDatasetConfig | None = None,
                 progress: ProgressCallback | None = None, cancel: CancelToken | None = None) -> None:
        self.config = config or SliceDatasetConfig()
        self.config.validate()
        if not cases:
            raise InputError("No training cases were given; pass a folder of CT/PET cases or a CSV manifest.")
        self.cases: list[_CaseSlices] = []
        for number, case in enumerate(cases):
            loaded = load_case(case) if isinstance(case, PairedCase) else case
            self.cases.append(self._slices_of(loaded))
            report(progress, cancel, "load_cases", number + 1, len(cases), loaded.case_id)
        sizes = {case.ct.shape[1:] for case in self.cases}
        if len(sizes) > 1:
            raise InputError(f"The cases have different in-plane sizes {sorted(sizes)}; pass --slice-size N so all "
                             "slices are resampled to N x N.")
        self.index: list[tuple[int, int]] = []
        for case_number, case in enumerate(self.cases):
            for slice_number in np.flatnonzero(case.body):
                repeats = self.config.lesion_repeats if case.lesion[slice_number] else 1
                self.index.extend([(case_number, int(slice_number))] * repeats)
        if not self.index:
            raise InputError("None of the cases has a slice with body in it (CT above -500 HU); are they CTs?")
        if self.config.crop_size is not None and self.config.crop_size > min(self.cases[0].ct.shape[1:]):
            raise InputError(f"--crop-size {self.config.crop_size} is larger than the slices; pass a smaller one.")
        self.epoch = 0

    # ---- building ------------------------------------------------------------------------------------------
    def _slices_of(self, case: LoadedCase) -> _CaseSlices:
        cfg = self.config
        axis = case.ct.axis_along(2)
        hu = np.moveaxis(case.ct.array, axis, 0)
        suv = np.moveaxis(case.suv.array, axis, 0)
        kept = [a for a in (0, 1, 2) if a != axis]
        pixel_mm = tuple(float(case.ct.spacing[2 - a]) for a in kept)
        body = (hu > BODY_HU).mean(axis=(1, 2)) >= cfg.min_body_fraction
        labels = None if case.lesions is None else np.moveaxis(case.lesions.array, axis, 0)
        lesion = np.zeros(hu.shape[0], dtype=bool) if labels is None else labels.reshape(hu.shape[0], -1).max(axis=1) > 0
        ct = window_ct(hu, cfg.ct_window_hu)
        suv = np.clip(suv.astype(np.float32), *cfg.suv_range)
        lesion_pixels = {}
        if cfg.crop_size is not None and lesion.any():
            masks = (labels[lesion] > 0).astype(np.float32)
            if cfg.slice_size is not None:  # lesion pixels on the resampled grid: any overlap with a label counts
                masks = _resize_stack(masks, cfg.slice_size)
            lesion_pixels = {int(s): np.argwhere(mask > 0) for s, mask in zip(np.flatnonzero(lesion), masks, strict=True)}
        if cfg.slice_size is not None:
            native = ct.shape[1:]
            ct, suv = _resize_stack(ct, cfg.slice_size), _resize_stack(suv, cfg.slice_size)
            pixel_mm = tuple(p * n / cfg.slice_size for p, n in zip(pixel_mm, native, strict=True))
        return _CaseSlices(case.case_id, ct, suv, body, lesion, pixel_mm, lesion_pixels)

    # ---- Dataset -------------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, item: int) -> dict[str, torch.Tensor]:
        case_number, slice_number = self.index[item]
        pair = self.slice_pair(case_number, slice_number)
        if self.config.crop_size is None:
            return pair
        top, left = self.crop_origin(item)
        size = self.config.crop_size
        return {key: value[:, top : top + size, left : left + size] for key, value in pair.items()}

    def set_epoch(self, epoch: int) -> None:
        """Called by the engine before each epoch: crop windows depend on it."""
        self.epoch = epoch

    def crop_origin(self, item: int) -> tuple[int, int]:
        """Top-left pixel of item's window this epoch: around a random lesion pixel of a lesion slice, else anywhere."""
        case_number, slice_number = self.index[item]
        case, size = self.cases[case_number], self.config.crop_size
        height, width = case.ct.shape[1:]
        rng = np.random.default_rng([self.config.crop_seed, self.epoch, item])
        lesion_pixels = case.lesion_pixels.get(slice_number)
        if lesion_pixels is None or len(lesion_pixels) == 0:
            return int(rng.integers(0, height - size + 1)), int(rng.integers(0, width - size + 1))
        row, column = lesion_pixels[rng.integers(len(lesion_pixels))]
        return (int(rng.integers(max(0, row - size + 1), min(height - size, row) + 1)),
                int(rng.integers(max(0, column - size + 1), min(width - size, column) + 1)))

    def slice_pair(self, case_number: int, slice_number: int) -> dict[str, torch.Tensor]:
        case = self.cases[case_number]
        context = self.config.context_slices
        neighbours = np.clip(np.arange(slice_number - context, slice_number + context + 1), 0, case.ct.shape[0] - 1)
        return {"ct": torch.from_numpy(np.ascontiguousarray(case.ct[neighbours])),
                "suv": torch.from_numpy(np.ascontiguousarray(case.suv[slice_number : slice_number + 1]))}

    # ---- description ---------------------------------------------------------------------------------------
    @property
    def pixel_mm(self) -> float:
        """Median in-plane pixel size (mm) of the training slices: inference resamples CTs to it."""
        return float(np.median([p for case in self.cases for p in case.pixel_mm]))

    def lesion_slices(self) -> list[tuple[int, int]]:
        return [(c, int(s)) for c, case in enumerate(self.cases) for s in np.flatnonzero(case.lesion & case.body)]

    def describe(self) -> dict:
        body = sum(int(case.body.sum()) for case in self.cases)
        lesion = len(self.lesion_slices())
        return {"cases": len(self.cases), "case_ids": [case.case_id for case in self.cases],
                "body_slices": body, "lesion_slices": lesion, "items_per_epoch": len(self.index),
                "lesion_repeats": self.config.lesion_repeats, "slice_size": self.config.slice_size,
                "crop_size": self.config.crop_size,
                "context_slices": self.config.context_slices, "pixel_mm": round(self.pixel_mm, 4),
                "memory_mb": round(sum(c.ct.nbytes + c.suv.nbytes for c in self.cases) / 1e6, 1)}


def _resize_stack(stack: np.ndarray, size: int) -> np.ndarray:
    """(S, H, W) -> (S, size, size) bilinear; antialiased when shrinking so thin hot lesions are not skipped."""
    tensor = torch.from_numpy(np.ascontiguousarray(stack, dtype=np.float32))[:, None]
    shrinking = size < max(stack.shape[1:])
    out = F.interpolate(tensor, size=(size, size), mode="bilinear", align_corners=False, antialias=shrinking)
    return out[:, 0].numpy()
