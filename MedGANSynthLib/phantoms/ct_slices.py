"""Axial chest CT slices in HU for the small CT GAN (the simple CT GAN paper: LIDC lung CT downsampled 512 → 40x40 / 64x64).

Each slice is a new subject and a new level between the lung apex and the lung bases. It is drawn at about
320 px on a 360 mm field (≈1.1 mm pixels, like a 512 LIDC image) and then area-downsampled, so partial-volume
mixing at the small size is physical. HU values follow PHANTOM_REFERENCE §3 (lung -850..-910, fat -50..-100,
muscle 40-50 †, blood 45-65, cancellous bone 226, cortical 1000-1900 †) and the noise SD 15-40 HU at full
resolution (§3 †). Torso 32-36 x 20-25 cm (§6 †).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.jobs.progress import CancelToken, ProgressCallback, report
from MedGANSynthLib.volume import Volume

HU = {"air": -1000.0, "fat": -95.0, "muscle": 45.0, "lung": -870.0, "blood": 50.0, "cancellous": 226.0,
      "cortical": 1200.0, "liver": 58.0, "table": 250.0}
SLICE_GAP_MM = 10.0  # nominal: the slices are independent samples, not a contiguous volume


@dataclass
class ChestSliceSet:
    ct: Volume
    """HU stack ``[count, size, size]`` with true pixel spacing."""
    manifest: dict


def make_chest_ct_slices(
    seed: int,
    count: int,
    size: int = 64,
    field_of_view_mm: float = 360.0,
    render_px: int = 320,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> ChestSliceSet:
    """``count`` independent axial chest slices of ``size`` x ``size`` px (same seed → same slices)."""
    if count < 1:
        raise InputError(f"Number of CT slices must be at least 1; got {count}.")
    if size < 8:
        raise InputError(f"CT slice size must be at least 8 px; got {size}.")
    factor = max(1, int(round(render_px / size)))
    fine = size * factor
    pixel = field_of_view_mm / fine
    coords = (np.arange(fine) - (fine - 1) / 2.0) * pixel
    y, x = np.meshgrid(coords, coords, indexing="ij")
    slices, records = [], []
    for n, slice_seed in enumerate(np.random.SeedSequence(int(seed)).spawn(count)):
        rng = np.random.default_rng(slice_seed)
        image, record = _render_slice(x, y, pixel, rng)
        slices.append(image.reshape(size, factor, size, factor).mean(axis=(1, 3)))
        records.append(record)
        report(progress, cancel, "ct slices", n + 1, count)
    spacing = field_of_view_mm / size
    origin = (-(size - 1) * spacing / 2.0, -(size - 1) * spacing / 2.0, 0.0)
    volume = Volume(np.stack(slices).astype(np.float32), spacing=(spacing, spacing, SLICE_GAP_MM), origin=origin,
                    modality="CT", units="HU", metadata={"independent_slices": True})
    manifest = {"generator": "ct-slices-1", "kind": "ctslices", "seed": int(seed), "count": count, "size": size,
                "field_of_view_mm": field_of_view_mm, "render_px": fine, "pixel_mm": spacing, "slices": records}
    return ChestSliceSet(volume, manifest)


def _superellipse(x, y, cx, cy, ax, ay, n=2.0):
    return np.abs((x - cx) / ax) ** n + np.abs((y - cy) / ay) ** n <= 1.0


def _render_slice(x, y, pixel, rng: np.random.Generator) -> tuple[np.ndarray, dict]:
    level = float(rng.uniform(0.05, 1.0))  # 0 = lung apex, 1 = lung bases (liver dome)
    half_lat = float(rng.uniform(150, 180)) * (0.8 + 0.2 * min(1.0, level * 2))
    half_ap = float(rng.uniform(95, 125)) * (0.85 + 0.15 * min(1.0, level * 2))
    fat = float(rng.uniform(5, 30))
    centre_y = float(rng.uniform(-15, 5))
    image = np.full(x.shape, HU["air"], dtype=np.float32)
    body = _superellipse(x, y, 0, centre_y, half_lat, half_ap, 2.5)
    image[body] = HU["fat"]
    image[_superellipse(x, y, 0, centre_y, half_lat - fat, half_ap - fat, 2.5)] = HU["muscle"]
    wall = fat + 14
    spine_y = centre_y + half_ap - fat - 45
    # Lungs grow from the apex to the bases; the mediastinum separates them.
    grow = 0.45 + 0.55 * np.sqrt(min(1.0, level / 0.6))
    for side in (-1, 1):
        lung = _superellipse(x, y, side * 0.48 * (half_lat - wall), centre_y + 5,
                             0.47 * (half_lat - wall) * grow, (half_ap - wall - 8) * grow, 2.4)
        image[lung & (np.abs(x) > 18)] = HU["lung"]
    lung_mask = image == HU["lung"]
    _vessels(image, x, y, lung_mask, centre_y, rng)
    if level > 0.85:  # right hemidiaphragm and liver dome
        dome = _superellipse(x, y, -0.45 * half_lat, centre_y, 0.5 * half_lat * (level - 0.8) * 4, half_ap * 0.75)
        image[dome & body] = HU["liver"]
    if level > 0.4:  # heart, anterior left
        r = 45 + 20 * min(1.0, (level - 0.4) * 3)
        image[_superellipse(x, y, 22, centre_y - 22, r * 1.15, r * 0.85)] = HU["blood"]
    else:  # trachea above the carina, oesophagus behind it
        image[_superellipse(x, y, 0, centre_y - 10, 24, 30) & (image == HU["lung"])] = HU["fat"]
        image[_superellipse(x, y, 0, centre_y - 12, 9, 9)] = HU["air"]
    if level < 0.6:  # ascending aorta
        image[_superellipse(x, y, 5, centre_y - 30, 14, 14)] = HU["blood"]
    image[_superellipse(x, y, 20, spine_y - 30, 12, 12)] = HU["blood"]  # descending aorta
    image[_superellipse(x, y, 6, spine_y - 22, 6, 6)] = HU["muscle"]  # oesophagus
    _spine_and_ribs(image, x, y, spine_y, centre_y, half_lat, half_ap, fat, level, rng)
    table_y = centre_y + half_ap + 20
    image[(y > table_y) & (y < table_y + 5) & (np.abs(x) < 170)] = HU["table"]
    noise_sd = float(rng.uniform(15, 40))
    texture = ndimage.gaussian_filter(rng.standard_normal(x.shape).astype(np.float32), 1.2 / pixel)
    texture /= max(float(texture.std()), 1e-6)
    image += np.where(lung_mask, 25.0, 6.0) * texture * (image > -990)
    image += noise_sd * rng.standard_normal(x.shape).astype(np.float32)
    record = {"level": round(level, 3), "half_lateral_mm": round(half_lat, 1), "half_ap_mm": round(half_ap, 1),
              "subcutaneous_fat_mm": round(fat, 1), "noise_sd_hu": round(noise_sd, 1)}
    return np.clip(image, -1024, 3071), record


def _vessels(image, x, y, lung_mask, centre_y, rng) -> None:
    """Pulmonary vessels: bright dots and short segments, thicker near the hila (†: 1-10 mm)."""
    points = np.argwhere(lung_mask)
    if points.size == 0:
        return
    step = float(x[0, 1] - x[0, 0])
    for _ in range(int(rng.integers(25, 50))):
        row, col = points[int(rng.integers(len(points)))]
        px, py = x[row, col], y[row, col]
        hilum_distance = np.hypot(abs(px) - 45, py - centre_y)
        radius = max(0.8, 4.0 * np.exp(-hilum_distance / 40.0) + rng.uniform(0, 1.0))
        angle = rng.uniform(0, np.pi)
        length = radius * rng.uniform(1.0, 3.0)
        reach = int(np.ceil(length / step)) + 1  # evaluate on a small window around the vessel only
        window = (slice(max(row - reach, 0), row + reach + 1), slice(max(col - reach, 0), col + reach + 1))
        dx, dy = x[window] - px, y[window] - py
        along = dx * np.cos(angle) + dy * np.sin(angle)
        across = -dx * np.sin(angle) + dy * np.cos(angle)
        vessel = ((along / length) ** 2 + (across / radius) ** 2 <= 1.0) & lung_mask[window]
        image[window][vessel] = HU["blood"]


def _spine_and_ribs(image, x, y, spine_y, centre_y, half_lat, half_ap, fat, level, rng) -> None:
    image[_superellipse(x, y, 0, spine_y, 17, 15)] = HU["cortical"]
    image[_superellipse(x, y, 0, spine_y, 14, 12)] = HU["cancellous"]
    image[_superellipse(x, y, 0, spine_y + 28, 12, 11)] = HU["cortical"]
    image[_superellipse(x, y, 0, spine_y + 28, 8, 7)] = 10.0  # canal
    image[_superellipse(x, y, 0, spine_y + 48, 4, 12)] = HU["cortical"]
    outer = _superellipse(x, y, 0, centre_y, half_lat - fat - 4, half_ap - fat - 4, 2.5)
    inner = _superellipse(x, y, 0, centre_y, half_lat - fat - 12, half_ap - fat - 12, 2.5)
    angle = np.arctan2(y - centre_y, x)
    phase = rng.uniform(0, 2 * np.pi)
    ribs = outer & ~inner & (np.sin(7 * angle + phase + 6 * level) > 0.55) & ~((np.abs(x) < 25) & (y < centre_y))
    image[ribs] = HU["cortical"] * 0.5
    if 0.15 < level < 0.85:
        image[_superellipse(x, y, 0, centre_y - half_ap + fat + 10, 15, 6)] = HU["cancellous"]  # sternum
