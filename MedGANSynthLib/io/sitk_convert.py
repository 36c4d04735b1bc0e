"""Lossless conversion between :class:`Volume` and ``SimpleITK.Image`` (both use LPS and [k, j, i] arrays)."""

from __future__ import annotations

import numpy as np
import SimpleITK as sitk

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.volume import Volume


def to_sitk(volume: Volume) -> sitk.Image:
    image = sitk.GetImageFromArray(np.ascontiguousarray(volume.array), isVector=False)
    image.SetSpacing(volume.spacing)
    image.SetOrigin(volume.origin)
    image.SetDirection(tuple(volume.direction.ravel()))
    return image


def from_sitk(image: sitk.Image, modality: str = "", units: str = "") -> Volume:
    if image.GetNumberOfComponentsPerPixel() != 1:
        raise InputError(
            f"The image has {image.GetNumberOfComponentsPerPixel()} values per voxel (colour or vector data); "
            "MedGANSynth needs a scalar PET or CT volume."
        )
    if image.GetDimension() == 2:
        raise InputError("This is a 2-D image; a PET or CT volume with several slices is needed here.")
    if image.GetDimension() != 3:
        raise InputError(
            f"The image has {image.GetDimension()} dimensions; pass one 3-D volume (split 4-D series first)."
        )
    return Volume(
        array=sitk.GetArrayFromImage(image),
        spacing=image.GetSpacing(),
        origin=image.GetOrigin(),
        direction=np.asarray(image.GetDirection()).reshape(3, 3),
        modality=modality,
        units=units,
    )
