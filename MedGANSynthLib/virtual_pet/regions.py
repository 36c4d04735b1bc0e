"""Score a virtual PET inside one region only, as the paper did: Ben-Cohen et al. (section 3) constrained
their scans to the liver and counted liver tumours, so their TPR and false positives per scan are liver figures.

Where a case's region mask comes from (first found wins), for ``region="liver"``:

* a mask file in the case's folder named after the region (``liver.nii.gz``, ``liver.nrrd``, ...; any non-zero voxel
  is inside), or in its ``segmentations/`` sub-folder, where TotalSegmentator writes one mask per organ;
* for a CSV manifest, a column ``liver_mask`` holding the mask's path;
* ``organs.*``, the organ label map that ``medgansynth phantoms --kind wholebody`` writes, with the phantom's label
  ids (``phantoms.tissues.LABEL``; liver is 7; "muscle" takes every muscle label, ``tissues.MUSCLE_LABELS``).

Restricting a case (:func:`restrict_to_region`): a true lesion belongs to the region when most of its voxels lie in
it (a liver metastasis bulging past the capsule stays a liver tumour, a node touching the liver does not); predicted
and true SUV are zero outside the region, so a candidate is the in-region part of a hot component; the image
metrics use the region's voxels (SSIM still sees the neighbours of edge voxels).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.io.volume_io import VOLUME_SUFFIXES, read_volume, volume_suffix
from MedGANSynthLib.phantoms.tissues import LABEL, is_muscle
from MedGANSynthLib.preprocessing.resample import resample_to_reference
from MedGANSynthLib.virtual_pet.cases import PairedCase
from MedGANSynthLib.volume import Volume

MASK_FOLDERS = ("", "segmentations")
ORGAN_MAP_NAME = "organs"
LESION_MAJORITY = 0.5
"""Share of a lesion's voxels that must lie in the region for it to count as the region's lesion."""


@dataclass
class RegionCase:
    """A case's images seen through a region: lesions of the region, SUV zero outside it, the region's voxels."""

    lesions: Volume | None
    true_suv: Volume
    predictions: dict[str, Volume]
    mask: np.ndarray


def region_mask_source(case: PairedCase, region: str) -> tuple[Path, int | None]:
    """(file, label id) of the case's mask for ``region``; label id None means 'any non-zero voxel'."""
    if region in case.region_masks:
        return case.region_masks[region], None
    if case.folder is not None:
        for sub in MASK_FOLDERS:
            found = _volume_named(case.folder / sub, region)
            if found is not None:
                return found, None
        organs = _volume_named(case.folder, ORGAN_MAP_NAME)
        if organs is not None and region in LABEL:
            return organs, LABEL[region]
    raise InputError(f"Case {case.case_id} has no {region} mask: put {region}.nii.gz (non-zero = {region}) in its folder or its "
                     f"segmentations/ folder, give a '{region}_mask' column in the CSV manifest, or drop --region.")


def organ_map_path(case: PairedCase) -> Path | None:
    """The case folder's organ label map (``organs.*``, a whole-body phantom's), None when it has none."""
    return _volume_named(case.folder, ORGAN_MAP_NAME) if case.folder is not None else None


def load_region_mask(source: tuple[Path, int | None], ct: Volume, case_id: str) -> np.ndarray:
    """The region as a boolean array on the CT's grid (nearest-neighbour when the mask has another grid)."""
    path, label = source
    mask = read_volume(path)
    if not mask.same_grid(ct):
        mask = resample_to_reference(mask.with_array(mask.array, units="label"), ct, "nearest")
    if label is None:
        inside = mask.array != 0
    elif label == LABEL["muscle"]:  # every muscle label, version 5's named groups included
        inside = is_muscle(np.rint(mask.array))
    else:
        inside = mask.array == label
    if not inside.any():
        raise InputError(f"Case {case_id}: the region mask '{path.name}' is empty on the CT's grid; check that it "
                         "belongs to this CT or drop the case.")
    return inside


def restrict_to_region(mask: np.ndarray, lesions: Volume | None, true_suv: Volume,
                       predictions: dict[str, Volume]) -> RegionCase:
    """Keep the region's lesions and zero the SUV outside the region (see the module text)."""
    def inside(volume: Volume) -> Volume:
        return volume.with_array(np.where(mask, volume.array, 0).astype(volume.array.dtype, copy=False))

    kept = None
    if lesions is not None:
        labels = lesions.array
        total = np.bincount(labels.ravel(), minlength=1)
        in_region = np.bincount(labels[mask], minlength=total.size)
        region_ids = np.flatnonzero(in_region > LESION_MAJORITY * total)
        region_ids = region_ids[region_ids > 0]
        kept = lesions.with_array(np.where(np.isin(labels, region_ids), labels, 0).astype(labels.dtype, copy=False))
    return RegionCase(kept, inside(true_suv), {name: inside(volume) for name, volume in predictions.items()}, mask)


def _volume_named(folder: Path, stem: str) -> Path | None:
    if not folder.is_dir():
        return None
    for path in sorted(folder.iterdir()):
        suffix = volume_suffix(path)
        if path.is_file() and suffix in VOLUME_SUFFIXES and path.name.lower() == f"{stem}{suffix}":
            return path
    return None
