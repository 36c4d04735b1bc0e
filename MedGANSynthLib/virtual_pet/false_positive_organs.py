"""Where a virtual PET's false positives lie: each margin-rule false region named by the organ it sits in.

For cases that carry an organ label map (``organs.*`` in the case folder, as ``medgansynth phantoms --kind
wholebody`` writes, label ids of ``phantoms.tissues.LABEL``), every false positive of the margin rule
(:func:`.detection_metrics.margin_false_positives`) gets:

* ``organ``: the label holding most of the region's voxels. The majority, not the peak voxel, names the organ
  because a hot region painted over a muscle or a bowel loop spills a voxel or two into its neighbours through the
  4 mm grid and the blending, and its hottest voxel may sit on that edge; the majority is what a reader would call it.
* ``peak_organ``: the label at the region's hottest voxel, kept beside it (where the two differ, the region straddles
  an organ boundary);
* ``volume_ml`` and ``suv_peak`` (the region's SUVmax in the virtual PET).

Counts per organ are sorted from the most false regions down (ties by name), per scan and over the scans that have
an organ map.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
from scipy import ndimage

from MedGANSynthLib.io.volume_io import read_volume
from MedGANSynthLib.phantoms.tissues import LABEL, MUSCLE_LABELS, is_muscle
from MedGANSynthLib.preprocessing.resample import resample_to_reference
from MedGANSynthLib.volume import Volume

ORGAN_NAMES = {label: "muscle" if label in MUSCLE_LABELS else name for name, label in LABEL.items()}
"""Organ name of each phantom label id; an id outside the table is reported as ``label_<id>``. Version 5's named
muscle groups are all "muscle", as one organ."""


def load_organ_labels(path: Path, ct: Volume) -> np.ndarray:
    """The organ label map as integers on the CT's grid (nearest-neighbour when it has another grid)."""
    organs = read_volume(path)
    if not organs.same_grid(ct):
        organs = resample_to_reference(organs.with_array(organs.array, units="label"), ct, "nearest")
    return np.rint(organs.array).astype(np.int32, copy=False)


def organ_name(label: int) -> str:
    return ORGAN_NAMES.get(int(label), f"label_{int(label)}")


def false_positive_regions(components: np.ndarray, false_ids: np.ndarray, predicted_suv: np.ndarray,
                           organs: np.ndarray, voxel_ml: float) -> list[dict[str, Any]]:
    """One entry per false region (ids ``false_ids`` in ``components``): organ, peak organ, volume, SUVmax."""
    regions = []
    boxes = ndimage.find_objects(components)
    for region_id in np.asarray(false_ids, dtype=int):
        box = boxes[region_id - 1]
        inside = components[box] == region_id
        labels, suv = organs[box][inside], predicted_suv[box][inside]
        labels = np.where(is_muscle(labels), LABEL["muscle"], labels)  # the muscle groups vote as one organ
        counts = np.bincount(labels - labels.min())
        majority = int(np.argmax(counts)) + int(labels.min())  # ties: the lowest label id
        regions.append({"organ": organ_name(majority), "peak_organ": organ_name(labels[np.argmax(suv)]),
                        "volume_ml": float(inside.sum() * voxel_ml), "suv_peak": float(suv.max())})
    return regions


def count_by_organ(regions: list[dict[str, Any]]) -> dict[str, int]:
    """False regions per organ, most first (ties by name)."""
    counts = Counter(region["organ"] for region in regions)
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def overall_by_organ(per_scan_regions: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Over the scans with an organ map: count, false positives per scan and total volume of each organ's regions."""
    scans = len(per_scan_regions)
    pooled = [region for regions in per_scan_regions for region in regions]
    volume = Counter()
    for region in pooled:
        volume[region["organ"]] += region["volume_ml"]
    return [{"organ": organ, "count": count, "per_scan": count / scans if scans else None,
             "volume_ml": volume[organ]} for organ, count in count_by_organ(pooled).items()]
