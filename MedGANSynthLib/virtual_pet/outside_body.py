"""What the virtual PET holds outside the patient's body: ``zero`` (default) or ``keep`` (the networks' raw output).

A PET scanner's attenuation-corrected FDG image is ~0 SUV in the air and on the table; the networks, which see
only the CT, paint both (up to 3.3 SUV on the table and in the air of ../shared/data/ct-dicom-thorax). ``zero`` sets
every output volume to 0 outside the CT's body mask (:mod:`MedGANSynthLib.preprocessing.body_mask`: tissue above
-500 HU, the table and other thin things removed, lungs and bowel gas filled, specks dropped), slice by slice, in
place; ``keep`` leaves the outputs exactly as the networks made them. The CLI (``--outside-body``), the library
(``run_virtual_pet(outside_body=...)``) and the Slicer Logic (``predictVirtualPET(outsideBody=...)``) and panel read
the choices and the default from here.
"""

from __future__ import annotations

import numpy as np

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.preprocessing.body_mask import axial_body_masks
from MedGANSynthLib.volume import Volume

OUTSIDE_BODY_CHOICES = ("zero", "keep")
DEFAULT_OUTSIDE_BODY = "zero"
OUTSIDE_BODY_HELP = ("what the virtual PET holds outside the body: 'zero' (default) sets it to 0 SUV outside the "
                     "CT's body (tissue above -500 HU without the table, lungs filled), as a PET scanner shows air "
                     "and the table; 'keep' leaves the networks' raw output there")


def check_outside_body(choice: str) -> str:
    if choice not in OUTSIDE_BODY_CHOICES:
        raise InputError(f"--outside-body must be one of {', '.join(OUTSIDE_BODY_CHOICES)} (got '{choice}').")
    return choice


def zero_outside_body(ct: Volume, outputs: list[Volume]) -> float:
    """In place: every voxel of ``outputs`` (on the CT's grid) outside the CT's body becomes 0; returns the highest
    value of the first output that was set to 0 (0.0 when none), so a summary can say what the networks drew
    there."""
    axis = ct.axis_along(2)
    views = []
    for volume in outputs:
        if volume.array.shape != ct.array.shape:
            raise InputError(f"An output of shape {volume.array.shape} is not on the CT's grid {ct.array.shape}.")
        views.append(np.moveaxis(volume.array, axis, 0))
    removed = 0.0
    for index, body in axial_body_masks(ct):
        outside = ~body
        if not outside.any():
            continue
        removed = max(removed, float(views[0][index][outside].max()))
        for view in views:
            view[index][outside] = 0.0
    return removed
