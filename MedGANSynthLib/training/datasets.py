"""Torch data sets for the GANs: MIP images with free-form class labels, brain-PET slice triplets, CT slices.

Every data set reads its files once (volumes through :func:`MedGANSynthLib.io.read_volume`), applies one intensity
window (:class:`~MedGANSynthLib.preprocessing.windows.IntensityWindow`, exposed as ``.window`` so the model card
can carry it and sampling can map images back to SUV / HU), resizes to the model's size and keeps the result in
memory as float32 tensors: the data sets of the papers are small (hundreds to a few thousand 2-D images).
Items are dicts ``{"image": (C, H, W) tensor, "label": int64 tensor}`` ("label" only for conditional data).
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any

import numpy as np
import SimpleITK as sitk
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.io.volume_io import VOLUME_SUFFIXES, read_volume, volume_suffix
from MedGANSynthLib.preprocessing.windows import CT_GAN_WINDOW, RADIOGAN_SUV_WINDOW, IntensityWindow
from MedGANSynthLib.validation import require_ct, require_finite, require_pet, require_suv
from MedGANSynthLib.volume import Volume

PNG_SUFFIXES = (".png",)
IMAGE_SUFFIXES = PNG_SUFFIXES + VOLUME_SUFFIXES
DEFAULT_LABELS_NAME = "labels.csv"
_FILE_COLUMNS = ("file", "filename", "path", "image")
_LABEL_COLUMNS = ("label", "class", "stage", "diagnosis")

# Brain FDG: grey matter SUV 8-12 at 60 min (PHANTOM_REFERENCE.md §1); 15 keeps headroom above cortex. The brain
# DCGAN paper (Islam & Zhang) states no intensity normalisation; this window is the project's choice.
BRAIN_PET_SUV_WINDOW = IntensityWindow("brain PET SUV", 0.0, 15.0, -1.0, 1.0, "SUV")


def window_for_output(window: IntensityWindow, output_range: tuple[float, float]) -> IntensityWindow:
    """The same clip range mapped onto a generator's output range (tanh: [-1, 1]; the CT GAN: [0, 2])."""
    low, high = output_range
    return IntensityWindow(window.name, window.low, window.high, float(low), float(high), window.units)


def window_to_dict(window: IntensityWindow) -> dict[str, Any]:
    """The normalisation as plain values, for the model card."""
    return {"name": window.name, "low": window.low, "high": window.high, "out_low": window.out_low,
            "out_high": window.out_high, "units": window.units}


class InMemoryImageDataset(Dataset):
    """Prepared images (N, C, H, W), optional labels and the class names / window that produced them."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor | None, class_names: list[str],
                 window: IntensityWindow, sources: list[str]) -> None:
        if images.shape[0] == 0:
            raise InputError("No usable training images were found; check the data folder.")
        self.images = images.contiguous()
        self.labels = labels
        self.class_names = class_names
        self.window = window
        self.sources = sources

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        item = {"image": self.images[index]}
        if self.labels is not None:
            item["label"] = self.labels[index]
        return item

    @property
    def num_classes(self) -> int:
        return len(self.class_names) if self.labels is not None else 0

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(int(s) for s in self.images.shape[1:])

    def describe(self) -> dict[str, Any]:
        """Training-data summary for the model card."""
        summary: dict[str, Any] = {"count": len(self), "image_shape": list(self.image_shape),
                                   "normalisation": window_to_dict(self.window),
                                   "class_names": list(self.class_names) if self.labels is not None else []}
        if self.labels is not None:
            counts = torch.bincount(self.labels, minlength=len(self.class_names)).tolist()
            summary["class_counts"] = dict(zip(self.class_names, counts, strict=True))
        return summary


# ---- MIP images ------------------------------------------------------------------------------------------
class ImageFolderDataset(InMemoryImageDataset):
    """2-D images (PNG or one-slice volumes such as the project's MIP NRRDs) in a folder, with optional labels.

    Labels come from a CSV with a file column (file/filename/path/image, relative to the folder) and a class
    column (label/class/stage/diagnosis) holding free-form names; the class list is the sorted set of names, so
    class indices do not depend on row order. Without a CSV (and no ``labels.csv`` in the folder) the data set
    is unconditional and holds every image file of the folder.

    Volumes are windowed with ``window`` (default RadioGAN's SUV [0, 30], Amyar et al.); PNG files carry grey values,
    so their window is [0, dtype max] mapped onto the same output range. A folder mixing both is refused.
    """

    def __init__(self, folder: str | os.PathLike, labels_csv: str | os.PathLike | None = None,
                 image_size: tuple[int, int] | None = None, window: IntensityWindow = RADIOGAN_SUV_WINDOW) -> None:
        root = _require_folder(folder)
        entries = _read_labels(root, labels_csv)
        if entries is None:
            files = sorted(p for p in root.iterdir() if p.is_file() and _is_image_file(p))
            labels_by_file = None
        else:
            files = [path for path, _ in entries]
            labels_by_file = [name for _, name in entries]
        if not files:
            raise InputError(f"'{root}' holds no PNG, NRRD, NIfTI or MHA images; check --data.")
        kinds = {volume_suffix(path) in PNG_SUFFIXES for path in files}
        if len(kinds) > 1:
            raise InputError(f"'{root}' mixes PNG images with volume files; keep one kind per training folder.")
        planes, windows = zip(*(read_plane(path, window) for path in files), strict=True)
        if len({(w.low, w.high) for w in windows}) > 1:
            raise InputError(f"The PNG files in '{root}' mix 8-bit and 16-bit images; convert them to one depth.")
        size = image_size or planes[0].shape
        images = torch.stack([resize_image(torch.from_numpy(plane)[None], size) for plane in planes])
        labels, class_names = _encode_labels(labels_by_file)
        super().__init__(images, labels, class_names, windows[0], [str(p) for p in files])


def read_plane(path: Path, window: IntensityWindow) -> tuple[np.ndarray, IntensityWindow]:
    """One 2-D image as float32, windowed; (plane, the window used)."""
    if volume_suffix(path) in PNG_SUFFIXES:
        try:
            image = sitk.ReadImage(str(path))
        except RuntimeError as error:
            raise InputError(f"'{path.name}' could not be read as a PNG image (truncated or corrupt?).") from error
        if image.GetNumberOfComponentsPerPixel() != 1:
            raise InputError(f"'{path.name}' is a colour PNG; training expects grey-scale images.")
        array = sitk.GetArrayFromImage(image)
        depth = float(np.iinfo(array.dtype).max) if np.issubdtype(array.dtype, np.integer) else 1.0
        png_window = IntensityWindow(f"PNG grey values 0-{depth:g}", 0.0, depth, window.out_low, window.out_high)
        return np.asarray(png_window.forward(array.astype(np.float32)), dtype=np.float32), png_window
    volume = read_volume(path)
    require_finite(volume, f"'{path.name}'")
    _require_window_units(volume, window, path)
    return np.asarray(window.forward(single_plane(volume, path.name)), dtype=np.float32), window


def single_plane(volume: Volume, name: str) -> np.ndarray:
    """The 2-D array of a one-slice volume, oriented with the patient's head up when a row axis runs along S."""
    singleton = [axis for axis, size in enumerate(volume.array.shape) if size == 1]
    if not singleton:
        raise InputError(f"'{name}' is a 3-D volume ({volume.array.shape}); this data set expects 2-D images (MIPs).")
    axis = singleton[0]
    plane = np.squeeze(volume.array, axis=axis).astype(np.float32)
    superior_axis = volume.axis_along(2)
    if superior_axis != axis:
        plane_axis = superior_axis - (1 if superior_axis > axis else 0)
        column = 2 - superior_axis  # array axis a runs along direction column 2 - a
        if plane_axis == 0 and volume.direction[2, column] > 0:  # row index grows towards the head: head up
            plane = plane[::-1]
    return np.ascontiguousarray(plane)


# ---- brain PET ---------------------------------------------------------------------------------------------
class BrainSliceDataset(InMemoryImageDataset):
    """Brain FDG-PET volumes (SUV) -> three adjacent axial slices as the channels of one image (Islam & Zhang).

    The paper's generator makes 128 x 128 x 3 images; we read its three channels as neighbouring axial slices. Every
    axial position whose centre slice reaches ``min_signal_fraction`` of the volume's maximum gives one sample
    (skipping slices above and below the brain). ``stage`` keeps only one stage (the paper trains one GAN per
    stage: NC, MCI, AD); otherwise stages become class labels.
    """

    def __init__(self, folder: str | os.PathLike, labels_csv: str | os.PathLike | None = None,
                 stage: str | None = None, image_size: tuple[int, int] = (128, 128),
                 window: IntensityWindow = BRAIN_PET_SUV_WINDOW, min_signal_fraction: float = 0.1) -> None:
        root = _require_folder(folder)
        entries = _read_labels(root, labels_csv)
        if entries is None:
            if stage is not None:
                raise InputError(f"Selecting stage '{stage}' needs a labels CSV naming each volume's stage.")
            entries = [(p, "") for p in sorted(_volume_paths(root))]
        if stage is not None:
            entries = [(path, name) for path, name in entries if name == stage]
            if not entries:
                raise InputError(f"No volume in the labels CSV has stage '{stage}'; check the stage name.")
        if not entries:
            raise InputError(f"'{root}' holds no PET volumes; check --data.")
        samples, names, sources = [], [], []
        for path, name in entries:
            volume = read_volume(path)
            require_finite(volume, f"'{path.name}'")
            require_pet(volume, f"'{path.name}'")  # a brain-PET GAN must not learn from CT
            slices = np.moveaxis(volume.array.astype(np.float32), volume.axis_along(2), 0)
            if slices.shape[0] < 3:
                raise InputError(f"'{path.name}' has {slices.shape[0]} axial slices; three adjacent ones are needed.")
            peak = float(slices.max())
            windowed = torch.from_numpy(np.asarray(window.forward(slices), dtype=np.float32))
            for centre in range(1, slices.shape[0] - 1):
                if float(slices[centre].max()) >= min_signal_fraction * peak and peak > 0:
                    samples.append(resize_image(windowed[centre - 1: centre + 2], image_size))
                    names.append(name)
                    sources.append(f"{path}#slice{centre}")
        if not samples:
            raise InputError(f"No slice in '{root}' reaches {min_signal_fraction:.0%} of its volume's maximum.")
        conditional = stage is None and any(names)
        labels, class_names = _encode_labels(names if conditional else None)
        super().__init__(torch.stack(samples), labels, class_names, window, sources)


# ---- CT -----------------------------------------------------------------------------------------------------
class CTSliceDataset(InMemoryImageDataset):
    """CT volumes (files, or sub-folders holding a DICOM series) -> axial slices scaled to [0, 2] (the simple CT GAN paper).

    The CT GAN paper downsamples 512 x 512 slices to 40 x 40 and scales intensities to [0, 2]; the HU window is
    :data:`~MedGANSynthLib.preprocessing.windows.CT_GAN_WINDOW` ([-1000, 1000] HU). Slices where less than
    ``min_tissue_fraction`` of the pixels exceed -500 HU (air above/below the patient) are skipped.
    """

    def __init__(self, folder: str | os.PathLike, image_size: tuple[int, int] = (40, 40),
                 window: IntensityWindow = CT_GAN_WINDOW, min_tissue_fraction: float = 0.05) -> None:
        root = _require_folder(folder)
        paths = sorted(_volume_paths(root)) + sorted(p for p in root.iterdir() if p.is_dir())
        if not paths:
            raise InputError(f"'{root}' holds no CT volumes or DICOM series folders; check --data.")
        samples, sources = [], []
        for path in paths:
            volume = read_volume(path)
            require_finite(volume, f"'{path.name}'")
            require_ct(volume, f"'{path.name}'")  # a CT GAN must not learn from a PET series
            slices = np.moveaxis(volume.array.astype(np.float32), volume.axis_along(2), 0)
            windowed = torch.from_numpy(np.asarray(window.forward(slices), dtype=np.float32))
            for index in range(slices.shape[0]):
                if float((slices[index] > -500.0).mean()) >= min_tissue_fraction:
                    samples.append(resize_image(windowed[index: index + 1], image_size))
                    sources.append(f"{path}#slice{index}")
        if not samples:
            raise InputError(f"No CT slice in '{root}' shows tissue (> -500 HU); are these CT images in HU?")
        super().__init__(torch.stack(samples), None, [], window, sources)


# ---- shared helpers --------------------------------------------------------------------------------------------
def _require_window_units(volume: Volume, window: IntensityWindow, path: Path) -> None:
    """An SUV window (RadioGAN's MIPs) takes SUV images only: MIPs in HU or Bq/ml must not pass as SUV."""
    if window.units == "SUV":
        require_suv(volume, f"'{path.name}'")


def _require_folder(folder: str | os.PathLike) -> Path:
    root = Path(folder)
    if not root.is_dir():
        raise InputError(f"The data folder '{root}' does not exist; check --data.")
    return root


def _is_image_file(path: Path) -> bool:
    return not path.name.startswith(".") and volume_suffix(path) in IMAGE_SUFFIXES


def _volume_paths(root: Path) -> list[Path]:
    return [p for p in root.iterdir() if p.is_file() and not p.name.startswith(".")
            and volume_suffix(p) in VOLUME_SUFFIXES + (".dcm",)]


def _read_labels(root: Path, labels_csv: str | os.PathLike | None) -> list[tuple[Path, str]] | None:
    """(file, class name) rows of the labels CSV; None when there is none. Missing files raise InputError."""
    if labels_csv is None:
        default = root / DEFAULT_LABELS_NAME
        if not default.is_file():
            return None
        labels_csv = default
    table = Path(labels_csv)
    if not table.is_file():
        raise InputError(f"The labels file '{table}' does not exist.")
    try:
        with open(table, newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            fields = {name.strip().lower(): name for name in (reader.fieldnames or [])}
            file_column = next((fields[c] for c in _FILE_COLUMNS if c in fields), None)
            label_column = next((fields[c] for c in _LABEL_COLUMNS if c in fields), None)
            if file_column is None or label_column is None:
                raise InputError(f"'{table.name}' needs a header with a 'file' column and a 'label' column.")
            rows = [(row[file_column].strip(), (row[label_column] or "").strip()) for row in reader
                    if (row.get(file_column) or "").strip()]
    except UnicodeDecodeError:
        raise InputError(f"The labels file '{table.name}' is not UTF-8 text; save it as 'CSV UTF-8'.") from None
    if not rows:
        raise InputError(f"'{table.name}' lists no images.")
    entries = [((root / name) if not Path(name).is_absolute() else Path(name), label) for name, label in rows]
    missing = [str(path.name) for path, _ in entries if not path.exists()]
    if missing:
        raise InputError(f"'{table.name}' lists {len(missing)} file(s) missing from '{root}', e.g. '{missing[0]}'.")
    unlabelled = [path.name for path, label in entries if not label]
    if unlabelled:
        raise InputError(f"'{table.name}' gives no class for {len(unlabelled)} file(s), e.g. '{unlabelled[0]}'.")
    return entries


def _encode_labels(names: list[str] | None) -> tuple[torch.Tensor | None, list[str]]:
    if names is None:
        return None, []
    class_names = sorted(set(names))
    index = {name: position for position, name in enumerate(class_names)}
    return torch.tensor([index[name] for name in names], dtype=torch.int64), class_names


def resize_image(image: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """(C, H, W) -> (C, *size), antialiased bilinear (area-like when shrinking, e.g. 512 -> 40 in the simple CT GAN paper)."""
    size = (int(size[0]), int(size[1]))
    if tuple(image.shape[-2:]) == size:
        return image.float()
    return F.interpolate(image[None].float(), size=size, mode="bilinear", align_corners=False,
                         antialias=True)[0]
