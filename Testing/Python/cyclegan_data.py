"""Tiny real files for the CycleGAN tests: CT volumes in HU and PET volumes in SUV, written as NRRD."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from MedGANSynthLib.io.volume_io import write_volume
from MedGANSynthLib.volume import Volume


def body_disc(size: int, radius: float, shift: float = 0.0) -> np.ndarray:
    rows, cols = np.mgrid[:size, :size]
    centre = (size - 1) / 2
    return ((rows - centre - shift) ** 2 + (cols - centre) ** 2) < radius**2


def write_unpaired_folders(root: Path, slices: int = 6, size: int = 40) -> tuple[Path, Path]:
    """Folder A: two CT volumes (body 40 HU with a lung of -800 HU in air of -1000 HU); folder B: two PET volumes
    (body SUV 1 with a hot spot of SUV 8). A and B have different shapes and bodies: they are not pairs."""
    folder_a, folder_b = root / "ct", root / "pet"
    folder_a.mkdir(parents=True)
    folder_b.mkdir(parents=True)
    for index in range(2):
        hu = np.full((slices, size, size), -1000.0, np.float32)
        hu[:, body_disc(size, 14 + index)] = 40.0
        hu[:, body_disc(size, 5, shift=-4)] = -800.0
        write_volume(Volume(hu.astype(np.int16), spacing=(4.0, 4.0, 5.0), modality="CT", units="HU"),
                     folder_a / f"ct{index}.nrrd")
        suv = np.zeros((slices - 1, size, size), np.float32)
        suv[:, body_disc(size, 12 + index)] = 1.0
        suv[:, body_disc(size, 3, shift=5)] = 8.0
        write_volume(Volume(suv, spacing=(4.0, 4.0, 5.0), modality="PT", units="SUV"), folder_b / f"pet{index}.nrrd")
    return folder_a, folder_b
