"""Write generated images as a picture (grid or strip PNG) and an NRRD stack in physical units (SUV or HU).

The stack is a volume whose slices are the images (k = sample or walk step), so Slicer can page through it and
the MRML bridge can turn it into a sequence. Brain-PET models make three adjacent slices per image; the stack
keeps the centre one and the picture shows it too.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from MedGANSynthLib.gan.sampling import to_physical
from MedGANSynthLib.io import write_volume
from MedGANSynthLib.pictures import save_grid_png, save_strip_png
from MedGANSynthLib.volume import Volume
from MedGANSynthLib.weights.model_card import ModelCard

DEFAULT_PIXEL_MM = 1.0
"""Pixel size of GAN samples whose model card does not state one (the images are then shown in pixel units)."""


def sample_volume(image: np.ndarray, card: ModelCard) -> Volume:
    """One 2-D sample in physical units as a one-slice volume: RadioGAN images are coronal MIPs, the others axial
    slices (the orientation the Slicer bridge shows them in)."""
    pixel = float(card.training_data.get("pixel_spacing_mm", DEFAULT_PIXEL_MM))
    if card.architecture == "radiogan":
        # rows run head to feet, columns toward patient left: the coronal MIP as physicians read it
        direction = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])
    else:
        # rows run anterior to posterior, columns toward patient left: an axial slice seen from the feet
        direction = np.eye(3)
    return Volume(np.asarray(image, np.float32)[None], spacing=(pixel, pixel, pixel), direction=direction,
                  modality="PT" if card.units == "SUV" else "CT" if card.units == "HU" else "", units=card.units)


def display_settings(card: ModelCard) -> dict:
    """How physicians look at each kind: MIPs black-on-white SUV 0-10, brain PET grey SUV 0-12, CT lung window."""
    if card.architecture == "radiogan":
        return {"cmap": "gray_r", "window": (0.0, 10.0)}
    if card.normalisation.get("kind") == "hu":
        return {"cmap": "gray", "window": (-1000.0, 400.0)}
    return {"cmap": "gray", "window": (0.0, 12.0)}


def centre_channel(images: np.ndarray) -> np.ndarray:
    """(N, C, H, W) -> (N, H, W): the middle channel (the centre slice of the brain triplets)."""
    return images[:, images.shape[1] // 2]


def write_generated(images: np.ndarray, card: ModelCard, folder: str | Path, stem: str, titles: list[str],
                    strip: bool = False, pixel_spacing_mm: float | None = None) -> dict[str, str]:
    """PNG + NRRD of generator output ``images`` (N, C, H, W, in the network's output range)."""
    physical = centre_channel(to_physical(images, card))
    units = {"suv": "SUV", "hu": "HU"}.get(card.normalisation.get("kind"), "")
    spacing = float(pixel_spacing_mm or card.training_data.get("pixel_spacing_mm", 1.0))
    # Rows run from the head down in the pictures; store them superior-first with an LPS direction that says so.
    direction = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])
    stack = Volume(physical.astype(np.float32), spacing=(spacing, spacing, spacing), direction=direction,
                   modality="PT" if units == "SUV" else "CT" if units == "HU" else "", units=units,
                   metadata={"generated_by": card.architecture, "titles": titles,
                             "note": "Synthetic image from a GAN trained on MedGANSynth phantoms; not a patient."})
    folder = Path(folder)
    nrrd = write_volume(stack, folder / f"{stem}.nrrd")
    settings = display_settings(card)
    if strip:
        png = save_strip_png(list(physical), folder / f"{stem}.png", titles=titles, **settings)
    else:
        png = save_grid_png(list(physical), folder / f"{stem}.png", ncols=min(8, len(physical)), titles=titles,
                            **settings)
    return {"png": str(png), "nrrd": str(nrrd)}
