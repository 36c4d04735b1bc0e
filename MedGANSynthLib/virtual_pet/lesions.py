"""Lesion candidates in a (virtual) PET: connected regions above an SUV threshold, with their statistics.

Malignant lesions typically show SUV > 2.5 (Ben-Cohen et al.). Regions are 26-connected (voxels that
share a face, edge or corner belong together). Statistics are vectorised over labels with scipy.ndimage:
``suv_max``, ``suv_mean`` (over the region's voxels), ``volume_ml`` = voxel count x voxel volume, and
``centroid_mm`` = the unweighted centre of the region's voxels mapped through the volume geometry to LPS mm.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
from scipy import ndimage

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.io.atomic import atomic_output
from MedGANSynthLib.volume import Volume

PAPER_THRESHOLD_SUV = 2.5
CONNECTIVITY_26 = np.ones((3, 3, 3), dtype=bool)
FIELDS = ("id", "centroid_mm", "suv_max", "suv_mean", "volume_ml")


def voxel_volume_ml(volume: Volume) -> float:
    return float(np.prod(volume.spacing)) / 1000.0


def find_lesion_candidates(
    suv_volume: Volume, threshold: float = PAPER_THRESHOLD_SUV, min_volume_ml: float = 0.0
) -> tuple[Volume, list[dict]]:
    """Label regions with SUV > ``threshold`` of at least ``min_volume_ml``; ids 1..n in scan order.

    Returns a label Volume on the same grid (0 = background) and one dict per candidate with ``id``,
    ``centroid_mm`` (LPS x, y, z), ``suv_max``, ``suv_mean`` and ``volume_ml``.
    """
    if not isinstance(suv_volume, Volume):
        raise InputError("Lesion candidates need a PET volume in SUV with its geometry.")
    values = suv_volume.array
    if values.dtype.kind == "f" and not np.all(np.isfinite(values)):
        raise InputError("The SUV volume has NaN or infinite voxels; fix or mask them before finding lesions.")
    labels, count = ndimage.label(values > threshold, structure=CONNECTIVITY_26)
    ids = np.arange(1, count + 1)
    voxel_ml = voxel_volume_ml(suv_volume)
    voxels = ndimage.sum_labels(np.ones_like(labels, dtype=np.int64), labels, ids) if count else np.zeros(0)
    keep = ids[np.asarray(voxels) * voxel_ml >= min_volume_ml]
    # Relabel the kept regions 1..n (a lookup table, not a loop over voxels).
    lookup = np.zeros(count + 1, dtype=np.int32)
    lookup[keep] = np.arange(1, keep.size + 1)
    labels = lookup[labels]
    new_ids = np.arange(1, keep.size + 1)
    candidates = []
    if keep.size:
        maxima = ndimage.maximum(values, labels, new_ids)
        means = ndimage.mean(values, labels, new_ids)
        centres = ndimage.center_of_mass(np.ones(labels.shape, dtype=np.float32), labels, new_ids)
        counts = ndimage.sum_labels(np.ones(labels.shape, dtype=np.int64), labels, new_ids)
        for index, lesion_id in enumerate(new_ids):
            k, j, i = centres[index]
            candidates.append({
                "id": int(lesion_id),
                "centroid_mm": [float(c) for c in suv_volume.physical_point((i, j, k))],
                "suv_max": float(maxima[index]),
                "suv_mean": float(means[index]),
                "volume_ml": float(counts[index]) * voxel_ml,
            })
    label_volume = suv_volume.with_array(labels, modality="SEG", units="label")
    label_volume.metadata.update({"threshold_suv": threshold, "min_volume_ml": min_volume_ml})
    return label_volume, candidates


def write_lesion_csv(candidates: list[dict], path: str | Path) -> Path:
    """One row per candidate; the centroid as three columns x_mm, y_mm, z_mm (LPS). Written atomically."""
    with atomic_output(path) as temp, open(temp, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "x_mm", "y_mm", "z_mm", "suv_max", "suv_mean", "volume_ml"])
        for lesion in candidates:
            writer.writerow([lesion["id"], *(f"{c:.3f}" for c in lesion["centroid_mm"]),
                             f"{lesion['suv_max']:.4f}", f"{lesion['suv_mean']:.4f}", f"{lesion['volume_ml']:.4f}"])
    return Path(path)


def write_lesion_json(candidates: list[dict], path: str | Path) -> Path:
    """The candidate list as JSON (coordinates in LPS mm), written atomically."""
    with atomic_output(path) as temp:
        Path(temp).write_text(json.dumps({"coordinate_system": "LPS", "lesions": candidates}, indent=2))
    return Path(path)
