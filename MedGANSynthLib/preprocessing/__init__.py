"""Preprocessing before the networks: resampling to a common grid and intensity windows from the papers."""

from MedGANSynthLib.preprocessing.resample import resample_isotropic, resample_to_reference
from MedGANSynthLib.preprocessing.windows import (
    CT_GAN_WINDOW,
    RADIOGAN_SUV_WINDOW,
    VIRTUAL_PET_CT_WINDOW,
    VIRTUAL_PET_SUV_WINDOW,
    IntensityWindow,
)

__all__ = [
    "CT_GAN_WINDOW",
    "RADIOGAN_SUV_WINDOW",
    "VIRTUAL_PET_CT_WINDOW",
    "VIRTUAL_PET_SUV_WINDOW",
    "IntensityWindow",
    "resample_isotropic",
    "resample_to_reference",
]
