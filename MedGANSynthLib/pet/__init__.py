"""PET quantification: SUV from DICOM headers or user-given parameters."""

from MedGANSynthLib.pet.suv import (
    SuvOverrides,
    SuvParameters,
    bqml_to_suv,
    load_pet_as_suv,
    suv_from_dicom_headers,
    suv_parameters_from_headers,
    suv_to_bqml,
    suv_warnings,
)

__all__ = [
    "SuvOverrides",
    "SuvParameters",
    "bqml_to_suv",
    "load_pet_as_suv",
    "suv_from_dicom_headers",
    "suv_parameters_from_headers",
    "suv_to_bqml",
    "suv_warnings",
]
