"""Specks outside the body of a PET MIP: bright spots a generator paints in the air around the patient.

A real whole-body PET MIP is one body in air that reads 0 SUV. A GAN can add specks around it (RadioGAN with
transposed convolutions did, round 3 of Testing/Training/train_bundled_gans.sh). Per MIP, in SUV:

1. body = the largest connected piece (8-connected) of the pixels above ``BODY_SUV`` after a closing that joins
   pieces a few pixels apart, with its holes filled;
2. around it, a margin of ``MARGIN_PX`` pixels (the outline of a resampled MIP fades over 1-2 pixels);
3. a speck = a connected piece of the above-``BODY_SUV`` pixels beyond that margin whose peak reaches
   ``SPECK_SUV``; it counts whatever its size (one pixel is enough).

The thresholds come from phantom MIPs at RadioGAN's 160 x 96 (``medgansynth dataset mip``, phantom versions 1 and
3): their air is <= 0.02 SUV (<= 0.21 right at the blurred outline), the body's inside is 0.9 SUV at its 25th
percentile and 1.1-1.2 at its median. ``BODY_SUV`` 0.2 separates the two; ``SPECK_SUV`` 1 is the body's typical
soft tissue, five times the brightest air of a real MIP, so a speck is something as bright as tissue where there
is none, and faint haze or noise below 1 SUV is not counted. Held-out real MIPs give the floor (0 for phantoms).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.evaluation.image_batches import as_image_batch

BODY_SUV = 0.2
SPECK_SUV = 1.0
MARGIN_PX = 3
CLOSING_PX = 2
_EIGHT_CONNECTED = np.ones((3, 3), bool)


@dataclass(frozen=True)
class SpecksOutsideBody:
    generated: np.ndarray  # specks in each generated MIP
    heldout: np.ndarray  # specks in each held-out real MIP (the floor)

    def summary(self) -> dict:
        def numbers(counts: np.ndarray) -> dict:
            return {"images_with_specks": float(np.mean(counts > 0)), "specks_per_image": float(np.mean(counts))}

        return {"generated": numbers(self.generated), "floor_heldout": numbers(self.heldout),
                "generated_indices_with_specks": [int(i) for i in np.flatnonzero(self.generated)],
                "settings": {"body_suv": BODY_SUV, "speck_suv": SPECK_SUV, "margin_px": MARGIN_PX,
                             "closing_px": CLOSING_PX}}


def body_region(suv: np.ndarray) -> np.ndarray:
    """The body of one MIP (H x W, SUV) and its margin, as a boolean mask."""
    tissue = suv > BODY_SUV
    # The closing joins pieces of the body a few pixels apart; OR-ing the tissue back keeps what the closing's
    # erosion takes off at the image border (legs cut by the field of view).
    joined = ndimage.binary_closing(tissue, _EIGHT_CONNECTED, iterations=CLOSING_PX) | tissue
    pieces, count = ndimage.label(joined, _EIGHT_CONNECTED)
    if count == 0:
        return np.zeros_like(tissue)
    sizes = np.bincount(pieces.ravel())[1:]
    body = ndimage.binary_fill_holes(pieces == 1 + int(np.argmax(sizes)))
    return ndimage.binary_dilation(body, _EIGHT_CONNECTED, iterations=MARGIN_PX)


def count_specks(suv: np.ndarray) -> int:
    """Specks outside the body (and its margin) of one MIP in SUV (H x W)."""
    suv = np.asarray(suv, dtype=np.float64)
    outside = (suv > BODY_SUV) & ~body_region(suv)
    pieces, count = ndimage.label(outside, _EIGHT_CONNECTED)
    if count == 0:
        return 0
    peaks = ndimage.maximum(suv, pieces, index=np.arange(1, count + 1))
    return int(np.sum(np.asarray(peaks) >= SPECK_SUV))


def specks_per_image(mips_suv) -> np.ndarray:
    """Specks in each MIP of ``mips_suv`` (N x [1 x] H x W, SUV)."""
    batch = as_image_batch(mips_suv, "The MIPs for the speck count")
    if batch.shape[1] != 1:
        raise InputError(f"Specks are counted on one-channel MIPs; got images of {batch.shape[1]} channels.")
    return np.array([count_specks(image[0]) for image in batch], dtype=np.int64)


def specks_outside_body(generated_suv, heldout_suv) -> SpecksOutsideBody:
    """Speck counts of generated MIPs beside those of held-out real MIPs, both in SUV."""
    return SpecksOutsideBody(specks_per_image(generated_suv), specks_per_image(heldout_suv))
