"""The patient's body in a CT, one axial slice at a time: where a PET scanner can see uptake.

Rule, per axial slice, in millimetres (so it holds at any pixel size):

1. tissue: denser than ``BODY_HU_ABOVE`` (-500 HU; air is -1000, aerated lung -900..-500, fat -100);
2. thin things removed: an in-plane opening with a square ``THIN_MM`` wide drops whatever is thinner than that --
   the CT table's carbon-fibre shells (3-5 mm in ../shared/data/ct-dicom-thorax, 6 mm on the phantoms), blankets,
   clothing and cables -- while the trunk, head, arms and legs, centimetres thick, keep their outline (a square,
   not a disk: 1-D minimum and maximum passes, 3.3 ms of CPU per 512² slice against 20 ms for an 11-pixel disk; a
   table shell is no thicker seen along a diagonal);
3. holes filled: the lungs, airways and bowel gas that the skin encloses are inside the body;
4. specks dropped: pieces of the slice smaller than ``MIN_AREA_MM2`` (thick table rails, buttons, electrodes).

Arms raised beside the head or lying along the body are pieces of tens of cm² of their own, so they stay.
Everything works on one 2-D slice of booleans (a few MB at 512²), never on a whole-volume copy.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from scipy import ndimage

from MedGANSynthLib.volume import Volume

BODY_HU_ABOVE = -500.0
"""Tissue is denser than -500 HU; the body is that, holes (lungs, bowel gas) filled slice by slice."""
THIN_MM = 10.0
"""In-plane structures thinner than this are not body: the table's shells measured 3-5 mm on the thorax CT of
../shared/data (two shells of 3 and 4 rows at 0.98 mm under the spine), the phantoms' couch is 6 mm; the thinnest
parts of a body that matter for PET (forearms, the neck, an arm's soft tissue) are several centimetres."""
MIN_AREA_MM2 = 300.0
"""Pieces of a slice smaller than 3 cm² are specks (a wrist is ~15 cm², a hand's cross-section more)."""
CROSS = ndimage.generate_binary_structure(2, 1)
"""4-connected background (as scipy's binary_fill_holes), so a hole touching the air by a corner is a hole."""


def body_mask_slice(hu: np.ndarray, pixel_mm: tuple[float, float], thin_mm: float = THIN_MM,
                    min_area_mm2: float = MIN_AREA_MM2) -> np.ndarray:
    """Boolean body mask of one axial CT slice (HU); ``pixel_mm``: the (row, column) pixel size.

    ``thin_mm=0`` skips the opening and ``min_area_mm2=0`` keeps every piece: then the mask is the -500 HU
    threshold with its holes filled."""
    tissue = np.asarray(hu) > BODY_HU_ABOVE
    if thin_mm > 0:
        tissue = _open_square(tissue, thin_mm, pixel_mm)
    body = _fill_holes(tissue)
    if min_area_mm2 > 0:
        body = _drop_small_pieces(body, min_area_mm2 / (pixel_mm[0] * pixel_mm[1]))
    return body


def axial_body_masks(ct: Volume, thin_mm: float = THIN_MM,
                     min_area_mm2: float = MIN_AREA_MM2) -> Iterator[tuple[int, np.ndarray]]:
    """(index, mask) per axial slice of ``ct``, along ``ct.axis_along(2)`` (the patient's long axis); the mask
    has the slice's shape in ``np.moveaxis(ct.array, axis, 0)[index]``."""
    axis = ct.axis_along(2)
    slices = np.moveaxis(ct.array, axis, 0)  # a view
    pixel_mm = tuple(ct.spacing[2 - other] for other in (0, 1, 2) if other != axis)
    for index in range(slices.shape[0]):
        yield index, body_mask_slice(slices[index], pixel_mm, thin_mm, min_area_mm2)


def _open_square(mask: np.ndarray, width_mm: float, pixel_mm: tuple[float, float]) -> np.ndarray:
    """Opening with a square of odd pixel counts about ``width_mm`` wide (at least 3): what is thinner goes. The
    image border repeats ("nearest"), so a body cut by the field of view is not eaten from the cut."""
    size = [2 * max(1, int(np.floor(width_mm / 2.0 / pixel))) + 1 for pixel in pixel_mm]
    eroded = ndimage.minimum_filter(mask.view(np.uint8), size=size, mode="nearest")
    return ndimage.maximum_filter(eroded, size=size, mode="nearest").view(bool)


def _fill_holes(mask: np.ndarray) -> np.ndarray:
    """``mask`` plus the background not connected to the slice's border: scipy's binary_fill_holes, by one
    labelling pass instead of its repeated dilations (tens of passes on a 512² slice)."""
    background, count = ndimage.label(~mask, structure=CROSS)
    if count == 0:
        return mask
    outside = np.zeros(count + 1, dtype=bool)
    for edge in (background[0], background[-1], background[:, 0], background[:, -1]):
        outside[edge] = True
    outside[0] = False  # label 0 is the mask itself
    return ~outside[background]


def _drop_small_pieces(mask: np.ndarray, min_pixels: float) -> np.ndarray:
    pieces, count = ndimage.label(mask, structure=np.ones((3, 3), bool))
    if count == 0:
        return mask
    keep = np.bincount(pieces.ravel(), minlength=count + 1) >= min_pixels
    keep[0] = False
    return keep[pieces]
