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
"""Malignant lesions show SUV > 2.5 (Ben-Cohen et al., sections 2.4-2.5): the one default of the blend's hot mask,
the lesion candidates and the detection rule, read by the CLI, the Slicer Logic and panel."""
MIN_LESION_VOLUME_ML = 0.5
"""The one default smallest candidate, shared by the CLI, the Python API, the Slicer Logic and panel and the demo:
a 1 cm sphere (0.52 ml), the smallest phantom lesion. Smaller specks (single voxels) are noise, not findings."""
CONNECTIVITY_26 = np.ones((3, 3, 3), dtype=bool)
FIELDS = ("id", "centroid_mm", "suv_max", "suv_mean", "volume_ml")


def voxel_volume_ml(volume: Volume) -> float:
    return float(np.prod(volume.spacing)) / 1000.0


def find_lesion_candidates(
    suv_volume: Volume, threshold: float = PAPER_THRESHOLD_SUV, min_volume_ml: float = MIN_LESION_VOLUME_ML
) -> tuple[Volume, list[dict]]:
    """Label regions with SUV > ``threshold`` of at least ``min_volume_ml``; ids 1..n in scan order.

    ``min_volume_ml`` defaults to :data:`MIN_LESION_VOLUME_ML` like every caller (0 keeps every region: the raw rule).

    Returns a label Volume on the same grid (0 = background) and one dict per candidate with ``id``,
    ``centroid_mm`` (LPS x, y, z), ``suv_max``, ``suv_mean`` and ``volume_ml``.
    """
    if not isinstance(suv_volume, Volume):
        raise InputError("Lesion candidates need a PET volume in SUV with its geometry.")
    values = suv_volume.array
    if values.dtype.kind == "f" and not np.all(np.isfinite(values)):
        raise InputError("The SUV volume has NaN or infinite voxels; fix or mask them before finding lesions.")
    hot_mask = values > threshold
    labels, count = ndimage.label(hot_mask, structure=CONNECTIVITY_26)
    # Every statistic is taken over the hot voxels alone (flat indices), never over whole-volume temporaries:
    # a 600 x 512 x 512 virtual PET has 157 M voxels but rarely more than a few hundred thousand above 2.5 SUV.
    hot = np.flatnonzero(hot_mask)
    del hot_mask
    flat_labels = labels.reshape(-1)  # a view: relabelling below writes into ``labels``
    region = flat_labels[hot]
    voxel_ml = voxel_volume_ml(suv_volume)
    keep = np.bincount(region, minlength=count + 1) * voxel_ml >= min_volume_ml
    keep[0] = False
    # Renumber the kept regions 1..n in their scan order; dropped regions become background.
    lookup = np.zeros(count + 1, dtype=labels.dtype)
    lookup[keep] = np.arange(1, int(keep.sum()) + 1, dtype=labels.dtype)
    region = lookup[region]
    flat_labels[hot] = region
    kept = region > 0
    candidates = _region_statistics(suv_volume, hot[kept], region[kept], int(keep.sum()), voxel_ml)
    label_volume = suv_volume.with_array(labels, modality="SEG", units="label")
    label_volume.metadata.update({"threshold_suv": threshold, "min_volume_ml": min_volume_ml})
    return label_volume, candidates


def _region_statistics(suv_volume: Volume, voxels: np.ndarray, region: np.ndarray, count: int,
                       voxel_ml: float) -> list[dict]:
    """One dict per region 1..count from the flat indices ``voxels`` of its voxels and their region ids."""
    if count == 0:
        return []
    values = suv_volume.array.reshape(-1)[voxels].astype(np.float64)
    ids = np.arange(1, count + 1)
    sizes = np.bincount(region, minlength=count + 1)[1:]
    sums = np.bincount(region, weights=values, minlength=count + 1)[1:]
    maxima = ndimage.maximum(values, region, ids)
    k, j, i = (np.bincount(region, weights=axis, minlength=count + 1)[1:] / sizes
               for axis in np.unravel_index(voxels, suv_volume.array.shape))
    return [
        {
            "id": int(lesion_id),
            "centroid_mm": [float(c) for c in suv_volume.physical_point((i[n], j[n], k[n]))],
            "suv_max": float(maxima[n]),
            "suv_mean": float(sums[n] / sizes[n]),
            "volume_ml": float(sizes[n]) * voxel_ml,
        }
        for n, lesion_id in enumerate(ids)
    ]


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
