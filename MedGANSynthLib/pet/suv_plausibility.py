"""Plausibility warnings for SUV conversion: values that are possible but far outside clinical practice.

Impossible values (zero or negative weight, dose or half-life, an injection after the scan) are refused where the
parameters are built; what is merely unusual is converted and reported here, one sentence per finding, because a
wrong tag (a dose in the wrong unit, a weight in pounds, a re-stamped series time) gives an SUV that looks normal
enough to be believed. A real header with 4.27 GBq of FDG gives a brain SUVmax of 0.68, for example.

Bands (those of issue 24): F-18 doses of 37-1,000 MBq cover adult and paediatric practice; 20-240 min uptake covers
early and delayed static imaging around the standard 60 min; 2-300 kg spans infants to the load limit of clinical
PET tables; an SUVmax above 100 is beyond physiological uptake.
"""

from __future__ import annotations

import numpy as np

F18_DOSE_MBQ = (37.0, 1000.0)
UPTAKE_MIN = (20.0, 240.0)
WEIGHT_KG = (2.0, 300.0)
MAX_PLAUSIBLE_SUV = 100.0
# Activity concentrations of a real PET reach thousands of Bq/ml; a BQML image peaking below this holds SUV values.
MIN_PLAUSIBLE_PEAK_BQML = 100.0
# A GML (SUV) image peaking above this holds activity concentrations; it is refused, not warned about.
MAX_PLAUSIBLE_PEAK_GML = 1000.0


def parameter_warnings(weight_kg: float, dose_mbq: float, uptake_s: float, is_f18: bool) -> list[str]:
    """Warnings on weight, F-18 dose and uptake time (the decay reference minus the injection)."""
    warnings = []
    if is_f18 and not F18_DOSE_MBQ[0] <= dose_mbq <= F18_DOSE_MBQ[1]:
        warnings.append(
            f"injected F-18 dose {dose_mbq:.4g} MBq is outside {F18_DOSE_MBQ[0]:g}-{F18_DOSE_MBQ[1]:,g} MBq "
            "(RadionuclideTotalDose in another unit?); check it or pass --dose-mbq"
        )
    uptake_min = uptake_s / 60.0
    if not UPTAKE_MIN[0] <= uptake_min <= UPTAKE_MIN[1]:
        warnings.append(
            f"uptake time {uptake_min:.1f} min is outside {UPTAKE_MIN[0]:g}-{UPTAKE_MIN[1]:g} min (a dynamic scan, "
            "or a wrong injection or series time?); check --injection-time and --scan-time"
        )
    if not WEIGHT_KG[0] <= weight_kg <= WEIGHT_KG[1]:
        warnings.append(
            f"patient weight {weight_kg:g} kg is outside {WEIGHT_KG[0]:g}-{WEIGHT_KG[1]:g} kg (pounds, or an "
            "animal?); check it or pass --weight-kg"
        )
    return warnings


def suv_value_warnings(suv: np.ndarray) -> list[str]:
    peak = float(np.nanmax(suv)) if suv.size else 0.0
    if peak > MAX_PLAUSIBLE_SUV:
        return [f"SUVmax {peak:.4g} is above {MAX_PLAUSIBLE_SUV:g}; check the dose, weight and Units"]
    return []


def bqml_value_warnings(activity: np.ndarray) -> list[str]:
    """A Bq/ml image whose peak looks like an SUV (a GML series labelled BQML)."""
    peak = float(np.nanmax(activity)) if activity.size else 0.0
    if 0 < peak < MIN_PLAUSIBLE_PEAK_BQML:
        return [
            f"the PET peaks at {peak:.4g} Bq/ml, which looks like SUV rather than activity concentration "
            "(Units BQML but the values are SUV?)"
        ]
    return []
