"""Philips PET private scale factors, for PET series stored in counts (Units CNTS).

Private creator "Philips PET Private Group", group 7053 (VR DS in GDCM's private dictionary, which pydicom ships):

* (7053,xx00) SUV Scale Factor: SUVbw = (stored * RescaleSlope + RescaleIntercept) * factor.
* (7053,xx09) Activity Concentration Scale Factor: Bq/ml = (stored * RescaleSlope + RescaleIntercept) * factor.

The QIBA vendor-neutral SUV pseudo-code uses the SUV factor when present, else the activity-concentration factor
followed by the ordinary Bq/ml conversion.
"""

from __future__ import annotations

from pydicom.dataset import Dataset

PHILIPS_PET_CREATOR = "Philips PET Private Group"
SUV_SCALE_FACTOR = 0x00
ACTIVITY_CONCENTRATION_SCALE_FACTOR = 0x09


def philips_factor(header: Dataset, element_offset: int) -> float | None:
    """A positive Philips PET factor from group 7053, or None when absent, empty or not a positive number."""
    try:
        block = header.private_block(0x7053, PHILIPS_PET_CREATOR)
    except KeyError:  # no such private creator in this file
        return None
    if element_offset not in block:
        return None
    value = block[element_offset].value
    if isinstance(value, bytes):  # read as UN (implicit VR without the private dictionary)
        value = value.decode("ascii", "ignore").strip("\0 ")
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def philips_factors(headers: list[Dataset], element_offset: int) -> list[float] | None:
    """The factor of every slice, or None unless every slice carries one."""
    factors = [philips_factor(header, element_offset) for header in headers]
    return None if any(factor is None for factor in factors) else factors
