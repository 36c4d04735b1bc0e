"""The tissue table every phantom uses: label id, CT HU (mean and texture SD) and FDG SUV.

Values come from /work/shared/PHANTOM_REFERENCE.md (section numbers in the comments); a dagger (†) marks a
typical textbook value the reference lists as not re-checked. HU are unenhanced 120 kV CT; SUV is SUVbw at
~60 min after injection. ``hu_texture_sd`` is the within-organ texture (spatially correlated, a few mm), not
the scanner noise, which the CT generator adds separately (15-40 HU low dose, §3).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Tissue:
    label: int
    name: str
    hu_mean: float
    hu_texture_sd: float
    suv_mean: float


# fmt: off
TISSUES: tuple[Tissue, ...] = (
    Tissue(0, "air", -1000.0, 0.0, 0.0),                   # §3 air -1000 HU
    Tissue(1, "subcutaneous_fat", -95.0, 8.0, 0.3),        # §3 fat -50..-100 HU; §1 subcutaneous SUV 0.2-0.4 †
    Tissue(2, "visceral_fat", -85.0, 10.0, 0.45),          # §3 fat; §1 visceral 0.3-0.6 (visceral > subcutaneous ✓ Obesity 2015)
    Tissue(3, "muscle", 45.0, 8.0, 0.8),                   # §3 muscle 40-50 HU †; §1 SUV 0.6-1.0 †
    Tissue(4, "lung", -870.0, 25.0, 0.6),                  # §3 lung -850..-910 HU; §1 SUV 0.5-0.6, dependent base 0.80±0.23 (EJNM 1996)
    Tissue(5, "blood", 50.0, 4.0, 1.55),                   # §3 blood 45-65 HU; §1 blood pool 1.55±0.38 (Boktor JNM 2013)
    Tissue(6, "myocardium", 45.0, 5.0, 1.1),               # §1 suppressed 0.70-0.75x blood pool; per subject, see wholebody
    Tissue(7, "liver", 58.0, 6.0, 2.2),                    # §3 liver 58±9 HU (post-mortem CT 2019); §1 SUV 2.2±0.4 (Boktor)
    Tissue(8, "spleen", 46.0, 6.0, 1.9),                   # §3 spleen 35-55 HU, liver-spleen 1-18; §1 SUV 1.5-2.2 below liver †
    Tissue(9, "kidney", 30.0, 6.0, 3.5),                   # §3 kidney 20-40 HU; §1 renal medulla SUVmax 5.5±1.3 (JNM 2015), mean below max
    Tissue(10, "urine", 8.0, 2.0, 13.8),                   # §3 urine 0-15 HU †; §1 bladder urine 13.8±10.3 (JNM 2015)
    Tissue(11, "cortical_bone", 1200.0, 80.0, 0.7),        # §3 cortical 1000-1900 HU †; §1 SUV 0.5-1 †
    Tissue(12, "cancellous_bone", 226.0, 30.0, 1.4),       # §3 L1 226±44 HU (<30 y, Jang Radiology 2019); §1 marrow 1.41-1.46 (CAMONA)
    Tissue(13, "grey_matter", 40.0, 3.0, 10.0),            # §3 GM 37-45 HU; §1 GM SUV 8-12 at 60 min †
    Tissue(14, "white_matter", 25.0, 3.0, 3.6),            # §3 WM 20-30 HU; §1 WM 2.5-4, GM:WM 2.5-3 †
    Tissue(15, "cerebellum", 40.0, 3.0, 8.0),              # §1 cerebellum 8.0±2.2 (Wang MIB 2007)
    Tissue(16, "csf", 8.0, 2.0, 0.3),                      # water-like fluid (§3 water 0 HU); no FDG uptake beyond blood background †
    Tissue(17, "airway", -1000.0, 0.0, 0.0),               # §3 air
    Tissue(18, "oesophagus", 40.0, 5.0, 1.6),              # soft tissue; normal oesophagus below SCC T1 range 2-4.4 (§2) †
    Tissue(19, "stomach", 30.0, 6.0, 1.8),                 # §1 stomach 1.5-3 †
    Tissue(20, "bowel", 28.0, 8.0, 1.6),                   # §1 bowel 1-3 † (focal >5 not modelled)
    Tissue(21, "disc", 80.0, 8.0, 0.7),                    # intervertebral disc, fibrocartilage †
    Tissue(22, "tonsil", 45.0, 5.0, 3.3),                  # §1 tonsils 3.1-3.5 (Wang 2007)
    Tissue(23, "parotid", 10.0, 8.0, 2.0),                 # §1 parotid 1.5-2.5 †; fatty gland, HU below muscle †
    Tissue(24, "rib", 450.0, 60.0, 0.9),                   # thin cortex + marrow seen at 2 mm: between §3 cancellous and cortical †
    Tissue(25, "yellow_marrow", -60.0, 15.0, 0.6),         # fatty long-bone marrow: fat-like HU (§3), low uptake †
    Tissue(26, "eye", 10.0, 3.0, 0.5),                     # vitreous, water-like †
    # Labels 27+ appear only in generator version 2, whose HU and SUV come from values_v2.py (REFERENCE.md);
    # the numbers here only keep the v1 lookup tables total.
    Tissue(27, "renal_medulla", 30.0, 6.0, 3.5),
    Tissue(28, "pancreas", 40.0, 6.0, 1.5),
    Tissue(29, "bowel_content", 15.0, 8.0, 0.3),
    Tissue(30, "bowel_gas", -1000.0, 0.0, 0.0),
    Tissue(31, "colon", 35.0, 6.0, 1.6),
    Tissue(32, "colon_content", -60.0, 60.0, 0.3),
    Tissue(33, "prostate", 35.0, 5.0, 1.5),
    Tissue(34, "uterus", 45.0, 5.0, 2.0),
    Tissue(35, "thyroid", 100.0, 8.0, 1.2),
    Tissue(36, "gallbladder", 10.0, 3.0, 0.4),
    # Label 37 appears only in generator version 5 (values from values_v5.py / endometrium_v5.py).
    Tissue(37, "endometrium", 45.0, 5.0, 1.7),
    # Label 38 appears only in generator version 5 (values from breast_v5.py): breast fibroglandular tissue.
    Tissue(38, "breast_gland", 20.0, 7.0, 0.84),
    # Labels 40-47: the skeletal muscle groups that generator version 5 names (muscle_groups_v5.py); muscle's HU,
    # SUV the group's mean of Goncalves 2017 Table 1 (values_v5.py draws each subject's).
    Tissue(40, "muscle_paraspinal", 45.0, 8.0, 0.67),
    Tissue(41, "muscle_psoas", 45.0, 8.0, 0.56),
    Tissue(42, "muscle_gluteus_maximus", 45.0, 8.0, 0.59),
    Tissue(43, "muscle_thigh", 45.0, 8.0, 0.493),
    Tissue(44, "muscle_rectus_abdominis", 45.0, 8.0, 0.46),
    Tissue(45, "muscle_oblique", 45.0, 8.0, 0.57),
    Tissue(46, "muscle_pectoralis", 45.0, 8.0, 0.51),
    Tissue(47, "muscle_intercostal", 45.0, 8.0, 0.68),
    # Labels 48-49 appear only in generator version 9, men (genitalia_v9.py draws each subject's values):
    # testis SUV 2.44 (406 testes, Kitajima 2007), soft-tissue HU †; the corpora at muscle's values †.
    Tissue(48, "testis", 38.0, 5.0, 2.44),
    Tissue(49, "penis", 45.0, 8.0, 0.8),
)
# fmt: on

TISSUE_BY_NAME: dict[str, Tissue] = {t.name: t for t in TISSUES}
LABEL = {t.name: t.label for t in TISSUES}
"""Label id of each tissue by name, e.g. ``LABEL["liver"] == 7``."""

MUSCLE_GROUPS: tuple[str, ...] = tuple(t.name for t in TISSUES if t.name.startswith("muscle_"))
"""The named skeletal muscle groups (version 5); every other skeletal muscle keeps the label ``muscle``."""
MUSCLE_LABELS: tuple[int, ...] = (LABEL["muscle"], *(LABEL[name] for name in MUSCLE_GROUPS))
"""Every label that is skeletal muscle: what treats muscle as one tissue (body composition, organ names, regions)
uses these, so that version 5's groups count as muscle."""


def is_muscle(labels: np.ndarray) -> np.ndarray:
    """Boolean mask of the skeletal muscle voxels of a label map, the named groups included."""
    return np.isin(labels, MUSCLE_LABELS)


CT_NOISE_SD_RANGE = (15.0, 40.0)  # §3 low-dose CT noise SD at 30-80 mAs †
LIVER_COV_RANGE = (0.10, 0.15)  # §4 liver CoV 9-11 % measured, 10-15 % typical †
LIVER_LESION_HU_DROP = (10.0, 30.0)  # §3 metastasis hypodense by 10-30 HU vs liver † (Bressler Radiology 1987)
SOFT_TISSUE_LESION_HU = 40.0  # nodes / nodules: soft tissue like muscle (§3)


def hu_table(size: int = 256) -> np.ndarray:
    """Lookup array ``hu[label]`` (float32) for mapping a label map to HU."""
    table = np.full(size, -1000.0, dtype=np.float32)
    for tissue in TISSUES:
        table[tissue.label] = tissue.hu_mean
    return table


def texture_sd_table(size: int = 256) -> np.ndarray:
    table = np.zeros(size, dtype=np.float32)
    for tissue in TISSUES:
        table[tissue.label] = tissue.hu_texture_sd
    return table


def suv_table(overrides: dict[str, float] | None = None, size: int = 256) -> np.ndarray:
    """Lookup array ``suv[label]``; ``overrides`` replaces values by tissue name (per-subject values)."""
    table = np.zeros(size, dtype=np.float32)
    for tissue in TISSUES:
        table[tissue.label] = tissue.suv_mean
    for name, value in (overrides or {}).items():
        table[LABEL[name]] = value
    return table
