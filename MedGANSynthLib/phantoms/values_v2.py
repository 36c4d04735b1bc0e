"""Per-subject CT numbers and FDG SUVs of every version-2 tissue, drawn from published ranges.

Each entry of :data:`TISSUE_VALUES` gives the unenhanced HU (120 kV), the portal-venous enhancement ΔHU, the
within-organ texture SD and the SUVmean range at ~60 min, with the source key of MedGANSynthLib/phantoms/
REFERENCE.md. A range is drawn uniformly per subject unless a mean ± SD is published (then a clipped normal).
``†`` marks a value REFERENCE.md lists as not sourced (a typical textbook value, to be replaced when a source
is found); the checks in Testing/Python/test_phantoms_v2.py test the sourced ones against their ranges.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from MedGANSynthLib.phantoms.tissues import LABEL, MUSCLE_GROUPS


@dataclass(frozen=True)
class TissueValues:
    hu: tuple[float, float]  # unenhanced HU range (low, high) or (mean, sd) when ``hu_normal``
    pv_delta: tuple[float, float]  # portal-venous enhancement range, HU
    texture_sd: float
    suv: tuple[float, float]  # SUVmean range (low, high) or (mean, sd) when ``suv_normal``
    source: str
    hu_normal: bool = False
    suv_normal: bool = False


# fmt: off
TISSUE_VALUES: dict[str, TissueValues] = {
    "air":              TissueValues((-1000, -1000), (0, 0), 0, (0, 0), "CT-air"),
    "airway":           TissueValues((-1000, -1000), (0, 0), 0, (0, 0), "CT-air"),
    "bowel_gas":        TissueValues((-1000, -1000), (0, 0), 0, (0, 0), "CT-air"),
    "subcutaneous_fat": TissueValues((-100, -85), (0, 0), 8, (0.2, 0.4), "CT-fat; SUV-fat †"),
    "visceral_fat":     TissueValues((-95, -80), (0, 0), 9, (0.3, 0.6), "CT-fat; SUV-fat (visceral > subcutaneous)"),
    "muscle":           TissueValues((40, 50), (5, 15), 7, (0.6, 1.0), "CT-muscle †; SUV-muscle †; PV †"),
    "lung":             TissueValues((-900, -850), (0, 0), 22, (0.5, 0.6), "CT-lung; SUV-lung"),
    "blood":            TissueValues((45, 60), (90, 150), 4, (1.55, 0.38), "CT-blood; PV-aorta; SUV-blood",
                                     suv_normal=True),
    "myocardium":       TissueValues((40, 50), (40, 70), 5, (0, 0), "CT-muscle †; PV †; SUV-myocardium (state)"),
    "liver":            TissueValues((58.3, 8.9), (56.2, 13.7), 6, (2.2, 0.4), "CT-liver; PV-liver; SUV-liver",
                                     hu_normal=True, suv_normal=True),
    "spleen":           TissueValues((0, 0), (55, 80), 6, (0.75, 0.95), "CT-spleen (liver - 1..18); PV †; "
                                                                       "SUV-spleen (x liver) †"),
    "kidney":           TissueValues((20, 40), (120, 170), 6, (2.5, 3.5), "CT-kidney; PV †; SUV-kidney †"),
    "renal_medulla":    TissueValues((20, 40), (60, 100), 6, (2.8, 3.9), "CT-kidney; PV †; SUV-kidney †"),
    "urine":            TissueValues((0, 15), (0, 0), 2, (13.8, 10.3), "CT-urine †; SUV-urine", suv_normal=True),
    "cortical_bone":    TissueValues((1000, 1400), (0, 0), 70, (0.5, 1.0), "CT-cortical †; SUV-bone †"),
    "cancellous_bone":  TissueValues((0, 0), (0, 0), 30, (1.43, 0.27), "CT-cancellous (age); SUV-marrow",
                                     suv_normal=True),
    "yellow_marrow":    TissueValues((-80, -40), (0, 0), 15, (0.4, 0.8), "CT-fat †; SUV †"),
    "grey_matter":      TissueValues((37, 45), (0, 0), 3, (8.0, 12.0), "CT-brain; SUV-grey"),
    "white_matter":     TissueValues((20, 30), (0, 0), 3, (0, 0), "CT-brain; SUV-white (GM/2.5-3)"),
    "cerebellum":       TissueValues((37, 45), (0, 0), 3, (8.0, 2.2), "CT-brain; SUV-cerebellum", suv_normal=True),
    "csf":              TissueValues((0, 15), (0, 0), 2, (0.2, 0.4), "CT-water †; SUV †"),
    "oesophagus":       TissueValues((35, 45), (10, 30), 5, (1.2, 2.0), "CT †; SUV †"),
    "stomach":          TissueValues((35, 45), (20, 40), 6, (1.5, 3.0), "CT †; SUV-stomach †"),
    "bowel":            TissueValues((35, 45), (20, 40), 6, (1.0, 2.0), "CT †; SUV-bowel †"),
    "colon":            TissueValues((35, 45), (20, 40), 6, (1.2, 2.5), "CT †; SUV-bowel †"),
    "bowel_content":    TissueValues((5, 20), (0, 0), 6, (0.2, 0.4), "CT-water †; SUV †"),
    "colon_content":    TissueValues((-20, 30), (0, 0), 35, (0.2, 0.5), "CT †; SUV †"),
    "disc":             TissueValues((70, 100), (0, 0), 8, (0.5, 0.9), "CT †; SUV †"),
    "tonsil":           TissueValues((40, 50), (20, 40), 5, (3.45, 1.4), "CT †; SUV-tonsil", suv_normal=True),
    "parotid":          TissueValues((0, 20), (10, 30), 8, (1.5, 2.5), "CT †; SUV-parotid †"),
    "eye":              TissueValues((5, 15), (0, 0), 3, (0.3, 0.6), "CT-water †; SUV †"),
    "pancreas":         TissueValues((35, 50), (50, 80), 6, (1.2, 1.8), "CT †; PV †; SUV †"),
    "prostate":         TissueValues((30, 45), (20, 40), 5, (1.5, 2.5), "CT †; SUV †"),
    "uterus":           TissueValues((40, 50), (40, 70), 5, (1.5, 3.0), "CT †; SUV †"),
    "thyroid":          TissueValues((80, 120), (40, 80), 8, (1.0, 1.6), "CT † (iodine-rich gland); SUV †"),
    "gallbladder":      TissueValues((0, 20), (0, 0), 3, (0.2, 0.5), "CT-water †; SUV †"),
    "rib":              TissueValues((300, 500), (0, 0), 60, (0.9, 1.2), "v1 only"),
}
# fmt: on

SUV_CLIP = {"liver": (1.5, 3.0), "blood": (1.2, 2.0), "urine": (4.0, 40.0), "cancellous_bone": (1.0, 2.0),
            "cerebellum": (6.0, 10.0), "tonsil": (2.0, 5.0)}
HU_CLIP = {"liver": (49.0, 67.0)}
CANCELLOUS_HU_AT_25Y, CANCELLOUS_HU_PER_YEAR, CANCELLOUS_HU_FLOOR = 226.0, -2.5, 89.0  # Jang, Radiology 2019
LIVER_SPLEEN_GAP = (1.0, 18.0)  # unenhanced liver minus spleen, Park Radiology 2011
SPLEEN_HU = (35.0, 55.0)  # unenhanced spleen (radclass; Buzug 2008)
METASTASIS_HU_DROP = (10.0, 30.0)  # unenhanced, vs liver (Bressler 1987 †)
METASTASIS_PV_SHARE = (0.2, 0.5)  # share of the liver's enhancement a hypovascular metastasis takes up †
CT_NOISE_SD = {"none": (15.0, 40.0), "portal-venous": (18.0, 38.0)}  # low-dose PET/CT; diagnostic FBP/hybrid IR
CONTRAST_PHASES = ("none", "portal-venous")


@dataclass
class SubjectValues:
    hu: dict[str, float]
    suv: dict[str, float]
    myocardium_state: str
    hu_unenhanced: dict[str, float]


def sample_values(rng: np.random.Generator, age_years: float, contrast: str) -> SubjectValues:
    """One subject's HU (phase-dependent) and SUV per tissue."""
    hu: dict[str, float] = {}
    suv: dict[str, float] = {}
    for name, values in TISSUE_VALUES.items():
        hu[name] = _draw(rng, values.hu, values.hu_normal, HU_CLIP.get(name))
        suv[name] = _draw(rng, values.suv, values.suv_normal, SUV_CLIP.get(name))
    hu["spleen"] = float(np.clip(hu["liver"] - rng.uniform(*LIVER_SPLEEN_GAP), *SPLEEN_HU))
    hu["cancellous_bone"] = max(CANCELLOUS_HU_FLOOR, CANCELLOUS_HU_AT_25Y + CANCELLOUS_HU_PER_YEAR *
                                max(age_years - 25.0, 0.0) + rng.normal(0, 20))
    suv["spleen"] = suv["liver"] * rng.uniform(*TISSUE_VALUES["spleen"].suv)
    suv["white_matter"] = suv["grey_matter"] / rng.uniform(2.5, 3.0)
    # Myocardium: no LV uptake in ~55 % after an overnight fast (suppressed, 0.70-0.75 x blood pool); else
    # partly or fully hot (SUVmax > 10 unsuppressed †) - J Nucl Cardiol 2019 (PMC6928445).
    state = str(rng.choice(["suppressed", "partial", "hot"], p=[0.55, 0.2, 0.25]))
    suv["myocardium"] = {"suppressed": suv["blood"] * rng.uniform(0.70, 0.75), "partial": rng.uniform(2.5, 5.0),
                         "hot": rng.uniform(6.0, 12.0)}[state]
    plain = dict(hu)
    if contrast == "portal-venous":
        for name, values in TISSUE_VALUES.items():
            if name == "liver":
                delta = float(np.clip(rng.normal(*values.pv_delta), 30.0, 90.0))
            else:
                delta = float(rng.uniform(*values.pv_delta)) if values.pv_delta[1] > 0 else 0.0
            hu[name] += delta
    return SubjectValues({k: round(float(v), 2) for k, v in hu.items()},
                         {k: round(float(v), 4) for k, v in suv.items()}, state,
                         {k: round(float(v), 2) for k, v in plain.items()})


def _draw(rng, pair, normal, clip) -> float:
    value = rng.normal(*pair) if normal else rng.uniform(*pair)
    return float(np.clip(value, *clip)) if clip else float(value)


def lookup(values: dict[str, float], size: int = 256) -> np.ndarray:
    """Array ``table[label]`` (float32) from a {tissue name: value} dict; unknown labels stay 0."""
    table = np.zeros(size, dtype=np.float32)
    for name, value in values.items():
        table[LABEL[name]] = value
    return table


def texture_lookup(size: int = 256) -> np.ndarray:
    """Texture SD per label; version 5's muscle groups take muscle's (labels absent from versions 2-4)."""
    texture = {name: v.texture_sd for name, v in TISSUE_VALUES.items()}
    return lookup(texture | {group: texture["muscle"] for group in MUSCLE_GROUPS}, size)
