"""PET noise from count statistics (``--pet-noise counts``, version 2 only; the default noise model is unchanged).

Each PET voxel's variance follows the noise-equivalent counts it would collect on a clinical scanner:

    counts per voxel = SUV x dose/kg x decay(uptake) x voxel volume x minutes per bed / (1 - bed overlap)
                       x in-FOV sensitivity x patient transmission exp(-mu Dw)
                       x NEC / trues x TOF gain Dw / (c dt / 2),   NEC / trues = 1 / (1 + SF / (1 - SF) + R / T)

so the SUV's variance is ``SUV / (counts per voxel per SUV)`` (Poisson: variance = mean in counts). Dw is the
slice's water-equivalent diameter (AAPM Report 220) measured on the phantom's own body, so heavier patients and
the pelvis are noisier than the neck, as in clinical scans. Every number's source is in REFERENCE.md §4; the
ones without a source are marked † there and here. The noise field is correlated over about a voxel, as after
reconstruction, and keeps unit SD (the same field the default model uses), so doubling the minutes per bed
divides the noise by sqrt(2) exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from MedGANSynthLib.errors import InputError

PET_NOISE_MODELS = ("scaled", "counts")
F18_HALF_LIFE_MIN = 109.77  # F-18 half-life (standard nuclear data)
WATER_MU_511_PER_MM = 0.0096  # linear attenuation of water at 511 keV, 0.096 /cm (standard value ◦)
SPEED_OF_LIGHT_MM_PER_PS = 0.2998
NOISE_CORRELATION_VOXELS = 0.6  # Gaussian sigma of the noise's correlation, as in the default model


@dataclass(frozen=True)
class CountStatistics:
    """Acquisition and scanner of the counts model; defaults: a Biograph mCT Flow run at EANM-like settings."""

    minutes_per_bed: float = 2.0  # EANM 2015 examples use 2-3 min per bed position (◦)
    dose_mbq_per_kg: float | None = None  # None: the case's recorded dose / weight (3-4 MBq/kg)
    sensitivity_cps_per_kbq: float = 9.6  # NEMA NU 2-2012, mCT Flow (EJNMMI Phys 2015;2:26)
    axial_fov_mm: float = 221.0  # mCT Flow (JNM Discovery MI comparison table)
    scatter_fraction: float = 0.335  # NEMA NU 2-2012, mCT Flow (EJNMMI Phys 2015;2:26)
    timing_resolution_ps: float = 555.0  # mCT Flow (JNM Discovery MI comparison table)
    bed_overlap: float = 0.3  # fraction of the axial FOV shared by neighbouring beds †
    randoms_per_true: float = 1.0  # randoms-to-trues ratio R/T at clinical count rates †
    nema_line_source_mm: float = 700.0  # NEMA sensitivity is per activity in a 70 cm line source

    def __post_init__(self) -> None:
        if not self.minutes_per_bed > 0:
            raise InputError(f"--pet-minutes-per-bed must be positive; got {self.minutes_per_bed}.")
        if self.dose_mbq_per_kg is not None and not self.dose_mbq_per_kg > 0:
            raise InputError(f"The injected dose per kg must be positive; got {self.dose_mbq_per_kg}.")
        if not 0 <= self.bed_overlap < 1 or not 0 <= self.scatter_fraction < 1:
            raise InputError("Bed overlap and scatter fraction must lie in [0, 1).")


def check_pet_noise(model: str) -> None:
    if model not in PET_NOISE_MODELS:
        raise InputError(f"Unknown PET noise model '{model}'; choose one of: {', '.join(PET_NOISE_MODELS)}.")


def water_equivalent_diameter_mm(body_hu: np.ndarray, body: np.ndarray, pixel_area_mm2: float) -> np.ndarray:
    """Dw per axial slice (AAPM Report 220): 2 sqrt(sum((HU/1000 + 1) x pixel area) / pi) over the body."""
    relative = np.where(body, np.clip(body_hu.astype(np.float32) / 1000.0 + 1.0, 0.0, None), 0.0)
    area = relative.sum(axis=(1, 2)) * pixel_area_mm2
    return 2.0 * np.sqrt(area / np.pi)


def counts_per_suv(water_diameter_mm: np.ndarray, voxel_ml: float, dose_mbq_per_kg: float, uptake_minutes: float,
                   settings: CountStatistics) -> np.ndarray:
    """Noise-equivalent counts one PET voxel collects per unit SUV, per slice of diameter Dw."""
    kbq_per_ml_per_suv = dose_mbq_per_kg * 0.5 ** (uptake_minutes / F18_HALF_LIFE_MIN)  # 1 MBq/kg = 1 kBq/mL
    seconds = 60.0 * settings.minutes_per_bed / (1.0 - settings.bed_overlap)
    in_fov_sensitivity = settings.sensitivity_cps_per_kbq * settings.nema_line_source_mm / settings.axial_fov_mm
    diameter = np.maximum(water_diameter_mm, 1.0)
    transmission = np.exp(-WATER_MU_511_PER_MM * diameter)
    tof_kernel_mm = SPEED_OF_LIGHT_MM_PER_PS * settings.timing_resolution_ps / 2.0
    tof_gain = np.maximum(diameter / tof_kernel_mm, 1.0)
    trues = kbq_per_ml_per_suv * voxel_ml * seconds * in_fov_sensitivity * transmission
    scatter_per_true = settings.scatter_fraction / (1.0 - settings.scatter_fraction)
    noise_equivalent = 1.0 / (1.0 + scatter_per_true + settings.randoms_per_true)  # NEC = T^2 / (T + S + R)
    return trues * noise_equivalent * tof_gain


def correlated_unit_noise(shape, rng: np.random.Generator) -> np.ndarray:
    """White noise smoothed over ~1 voxel (reconstructed PET noise is correlated) and rescaled to unit SD."""
    white = rng.standard_normal(shape, dtype=np.float32)
    smooth = ndimage.gaussian_filter(white, NOISE_CORRELATION_VOXELS, truncate=3.0)
    impulse = np.zeros(25)
    impulse[12] = 1.0
    gain = float(np.sqrt(np.sum(ndimage.gaussian_filter1d(impulse, NOISE_CORRELATION_VOXELS, truncate=3.0) ** 2)))
    return smooth / np.float32(gain**3)


def add_count_noise(mean_suv: np.ndarray, counts_per_suv_by_slice: np.ndarray,
                    rng: np.random.Generator) -> np.ndarray:
    """SUV + sqrt(SUV / counts per SUV) x correlated unit noise, clipped at 0 (Poisson's variance = mean)."""
    scale = (1.0 / np.sqrt(counts_per_suv_by_slice)).astype(np.float32)[:, None, None]
    noise = correlated_unit_noise(mean_suv.shape, rng)
    noisy = mean_suv + scale * np.sqrt(np.maximum(mean_suv, 0.0)) * noise
    return np.maximum(noisy, 0.0).astype(np.float32)
