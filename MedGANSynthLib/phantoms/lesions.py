"""FDG-avid lesions by disease class, placed in the anatomy of one subject.

Classes (the RadioGAN classes, Amyar et al.): ``normal`` (no lesion), ``head_neck``, ``oesophagus``, ``lung`` and
``lymphoma``. SUVmax is drawn per lesion from the ranges of PHANTOM_REFERENCE §2 and clipped to 2.5-20:
HNSCC primary 10-15 (4-30) †, HNSCC nodes ≥3.2-3.5 (Safdar 2016); oesophageal SCC T2 4.5-6.5, T3 6.6-13,
T4 >13 (BMC Med Imaging 2016/2019); NSCLC adenocarcinoma 5.1±3.4, squamous 9.9±4.6; mediastinal nodes
3.6-4.6±3, station medians 5.4-10.4 (BMC Pulm Med 2015); Hodgkin per-site 8.3-14.6 (Hutchings 2006), DLBCL
median 12.2 (Nucl Med Commun 2016); liver metastasis >3.1, typically 5-10 †.

CT appearance (§3): nodes and nodules are soft tissue (~40 HU), so they stand out in lung and fat; liver
lesions are only 10-30 HU below the liver (Bressler 1987 †).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.phantoms.anatomy import Anatomy
from MedGANSynthLib.phantoms.nodes_in_fat_v7 import FatPockets
from MedGANSynthLib.phantoms.shapes import AxisGrid, ellipsoid
from MedGANSynthLib.phantoms.tissues import LABEL, LIVER_LESION_HU_DROP, SOFT_TISSUE_LESION_HU, TISSUE_BY_NAME

LESION_CLASSES = ("normal", "head_neck", "oesophagus", "lung", "lymphoma")
SUV_MAX_RANGE = (2.5, 20.0)
_PROFILE_DROP = 0.35  # uptake falls by 35 % from centre to rim: a hot core, as in real tumours †


@dataclass
class Lesion:
    id: int
    lesion_class: str
    site: str
    centre_mm: tuple[float, float, float]
    radii_mm: tuple[float, float, float]
    suv_max: float
    hu: float = SOFT_TISSUE_LESION_HU

    @property
    def diameter_mm(self) -> float:
        return 2.0 * float(np.mean(self.radii_mm))

    def to_manifest(self) -> dict:
        return {
            "id": self.id, "class": self.lesion_class, "site": self.site,
            "centre_mm": [round(float(c), 2) for c in self.centre_mm],
            "radii_mm": [round(float(r), 2) for r in self.radii_mm],
            "diameter_mm": round(self.diameter_mm, 2), "suv_max": round(float(self.suv_max), 4),
            "hu": round(float(self.hu), 2),
        }


def check_lesion_class(name: str) -> str:
    if name not in LESION_CLASSES:
        raise InputError(f"Unknown lesion class '{name}'; choose one of: {', '.join(LESION_CLASSES)}.")
    return name


class _Placer:
    """Draws lesion sizes and positions, keeping lesions apart and inside their host tissue."""

    def __init__(self, anatomy: Anatomy, lesion_class: str, rng: np.random.Generator, nodes_in_fat: bool = False,
                 nodes_apart: bool = False):
        self.anatomy, self.lesion_class, self.rng = anatomy, lesion_class, rng
        self.lesions: list[Lesion] = []
        self.nodes_in_fat, self.nodes_apart = nodes_in_fat, nodes_apart
        self._fat: FatPockets | None = None

    def in_fat(self, site: str, centre: np.ndarray, radii: np.ndarray) -> np.ndarray:
        """Version 7 moves a lymph node into the fat next to its station (:mod:`nodes_in_fat_v7`)."""
        if not (self.nodes_in_fat and site.endswith("_node")):
            return centre
        if self._fat is None:
            self._fat = FatPockets(self.anatomy)
        occupied = [(other.centre_mm, max(radii) + max(other.radii_mm) + 4) for other in self.lesions] \
            if self.nodes_apart else ()  # the spacing add() asks for
        return self._fat.place(centre, float(max(radii)), occupied)

    def suv(self, low: float, high: float) -> float:
        return float(np.clip(self.rng.uniform(low, high), *SUV_MAX_RANGE))

    def add(self, site, centre, diameter, suv_max, elongation=(1.0, 1.0, 1.0), jitter=0.0, hosts=None) -> bool:
        """Try a few jittered positions; accept the first that is free and (optionally) inside ``hosts``."""
        for _ in range(30):
            c = np.asarray(centre, float) + self.rng.normal(0.0, jitter, 3) * (jitter > 0)
            radii = 0.5 * diameter * np.asarray(elongation) * self.rng.uniform(0.85, 1.15, 3)
            c = self.in_fat(site, c, radii)
            if any(np.linalg.norm(c - other.centre_mm) < max(radii) + max(other.radii_mm) + 4 for other in self.lesions):
                continue
            if hosts is not None and _host_fraction(self.anatomy, c, radii, hosts) < 0.9:
                continue
            host = _label_at(self.anatomy, c)
            self.lesions.append(Lesion(len(self.lesions) + 1, self.lesion_class, site, tuple(c), tuple(radii),
                                       suv_max, _lesion_hu(host, self.rng)))
            return True
        return False

    def random_point_in(self, tissue: str) -> np.ndarray | None:
        k, j, i = np.nonzero(self.anatomy.labels == LABEL[tissue])
        if k.size == 0:
            return None
        n = int(self.rng.integers(k.size))
        g = self.anatomy.grid
        return np.array([g.x[i[n]], g.y[j[n]], g.z[k[n]]])


def place_lesions(anatomy: Anatomy, lesion_class: str, rng: np.random.Generator,
                  liver_suv: float | None = None, nodes_in_fat: bool = False,
                  nodes_apart: bool = False) -> tuple[list[Lesion], dict]:
    """Lesions of one class; also returns organ SUV overrides the disease implies (diffuse spleen uptake).

    Diffuse splenic involvement is 1.1-1.5 x ``liver_suv``, the subject's liver; None keeps the version-1 table's
    liver (2.2), as generator versions 1-3 did, so their cases stay bit-for-bit (with a subject's liver drawn up to
    3.0, their "above liver" spleen can fall below it, REFERENCE.md). ``nodes_in_fat`` (version 7) moves every
    lymph node into the fat next to its station after the same draws (:mod:`nodes_in_fat_v7`); ``nodes_apart``
    (version 8) seeks that fat away from the lesions already placed: a station's nodes share its axillary pad
    instead of colliding at its nearest point and being dropped after 30 tries."""
    check_lesion_class(lesion_class)
    placer = _Placer(anatomy, lesion_class, rng, nodes_in_fat, nodes_apart)
    marks = anatomy.landmarks
    overrides: dict = {}
    if lesion_class == "head_neck":
        primary, nodes = rng.random() < 0.85, int(rng.integers(0, 4))
        if not primary and nodes == 0:
            nodes = 1
        if primary:
            offset = [rng.choice([-1, 1]) * rng.uniform(4, 12), rng.uniform(-6, 6), rng.uniform(-10, 10)]
            diameter, suv_max = rng.uniform(20, 40), placer.suv(6, 20)  # the draws' order of versions 1-3
            centre = np.add(marks["pharynx"], offset)
            if "pharynx_lumen_half_width" in marks:  # version 4: in the lateral pharyngeal wall, abutting the air
                centre[0] = np.sign(offset[0]) * (marks["pharynx_lumen_half_width"] + 0.5 * diameter)
            placer.add("pharynx", centre, diameter, suv_max)
        for _ in range(nodes):
            station = marks["cervical_nodes"][int(rng.integers(len(marks["cervical_nodes"])))]
            placer.add("cervical_node", station, rng.uniform(10, 30), placer.suv(3.5, 12), jitter=8)
    elif lesion_class == "oesophagus":
        path = np.asarray(marks["oesophagus"])
        t = rng.uniform(0.0, 1.0)
        centre = path[2] + t * (path[3] - path[2])  # mid/lower third, behind the heart
        length = rng.uniform(30, 80)
        thickness = rng.uniform(18, 30)
        placer.add("oesophagus", centre, thickness, placer.suv(4.5, 16), elongation=(1.0, 1.0, length / thickness))
        _add_nodes(placer, marks["mediastinal_nodes"], int(rng.integers(0, 3)), "mediastinal_node", (8, 18), (2.5, 9))
        _maybe_liver_metastasis(placer, 0.2)
    elif lesion_class == "lung":
        squamous = rng.random() < 0.4
        mean, sd = (9.9, 4.6) if squamous else (5.1, 3.4)
        suv = float(np.clip(rng.normal(mean, sd), 3.0, SUV_MAX_RANGE[1]))
        for _ in range(20):
            point = placer.random_point_in("lung")
            if point is not None and placer.add("lung", point, rng.uniform(15, 45), suv, hosts=[LABEL["lung"]]):
                break
        _add_nodes(placer, marks["mediastinal_nodes"], int(rng.integers(1, 4)), "mediastinal_node", (8, 20), (2.5, 10))
        _maybe_liver_metastasis(placer, 0.15)
    elif lesion_class == "lymphoma":
        stations = ["cervical_nodes", "axillary_nodes", "mediastinal_nodes", "para_aortic_nodes", "inguinal_nodes"]
        chosen = rng.choice(stations, size=int(rng.integers(2, 6)), replace=False)
        for station in chosen:
            _add_nodes(placer, marks[station], int(rng.integers(1, 3)), station.removesuffix("s"), (15, 40), (6, 20))
        if rng.random() < 0.5:  # spleen involvement: diffuse uptake above liver plus focal deposits
            liver = TISSUE_BY_NAME["liver"].suv_mean if liver_suv is None else liver_suv
            overrides["spleen"] = round(float(liver * rng.uniform(1.1, 1.5)), 3)
            centre, radii = np.asarray(marks["spleen_centre"]), np.asarray(marks["spleen_radii"])
            for _ in range(int(rng.integers(1, 4))):
                point = centre + rng.uniform(-0.45, 0.45, 3) * radii
                placer.add("spleen", point, rng.uniform(10, 22), placer.suv(4, 14), hosts=[LABEL["spleen"]])
    return placer.lesions, overrides


def _add_nodes(placer: _Placer, stations, count, site, size_range, suv_range) -> None:
    for _ in range(count):
        station = stations[int(placer.rng.integers(len(stations)))]
        placer.add(site, station, placer.rng.uniform(*size_range), placer.suv(*suv_range), jitter=7)


def _maybe_liver_metastasis(placer: _Placer, probability: float) -> None:
    if placer.rng.random() < probability:
        for _ in range(10):
            point = placer.random_point_in("liver")
            if point is not None and placer.add("liver", point, placer.rng.uniform(12, 30), placer.suv(3.5, 10),
                                                hosts=[LABEL["liver"]]):
                return


def _label_at(anatomy: Anatomy, point) -> int:
    g = anatomy.grid
    index = [int(np.clip(np.searchsorted(axis, p), 0, axis.size - 1)) for axis, p in ((g.z, point[2]), (g.y, point[1]), (g.x, point[0]))]
    return int(anatomy.labels[tuple(index)])


def _host_fraction(anatomy: Anatomy, centre, radii, hosts) -> float:
    shape = ellipsoid(anatomy.grid, centre, radii)
    if shape is None:
        return 0.0
    box, mask = shape
    inside = anatomy.labels[box][mask]
    return float(np.isin(inside, hosts).mean()) if inside.size else float(np.isin(_label_at(anatomy, centre), hosts))


def _lesion_hu(host_label: int, rng: np.random.Generator) -> float:
    for organ in ("liver", "spleen"):
        if host_label == LABEL[organ]:
            return TISSUE_BY_NAME[organ].hu_mean - rng.uniform(*LIVER_LESION_HU_DROP)
    return SOFT_TISSUE_LESION_HU + rng.normal(0.0, 4.0)


def render_lesions(grid: AxisGrid, lesions: list[Lesion], suv: np.ndarray, hu: np.ndarray) -> np.ndarray:
    """Paint lesion ids into a new uint16 map and write lesion SUV (hot core, max = SUVmax) and HU in place.

    A voxel belongs to the last lesion painted there; lesions are placed apart, so overlaps are rare. Every
    lesion keeps at least its centre voxel so it stays findable even on a coarse grid.
    """
    lesion_map = np.zeros(grid.shape, dtype=np.uint16)
    for lesion in lesions:
        shape = ellipsoid(grid, lesion.centre_mm, lesion.radii_mm)
        if shape is None:
            continue
        box, mask = shape
        mask = np.array(mask)
        if not mask.any():
            centre_index = tuple(int(np.argmin(np.abs(axis[b] - c))) for axis, b, c in
                                 ((grid.z, box[0], lesion.centre_mm[2]), (grid.y, box[1], lesion.centre_mm[1]),
                                  (grid.x, box[2], lesion.centre_mm[0])))
            mask[centre_index] = True
        lesion_map[box][mask] = lesion.id
    for lesion in lesions:
        shape = ellipsoid(grid, lesion.centre_mm, lesion.radii_mm)
        if shape is None:
            continue
        box = shape[0]
        mine = lesion_map[box] == lesion.id
        if not mine.any():
            continue
        z, y, x = grid.coords(box)
        r2 = sum(((c - m) / r) ** 2 for c, m, r in zip((x, y, z), lesion.centre_mm, lesion.radii_mm, strict=True))
        profile = np.broadcast_to(1.0 - _PROFILE_DROP * np.minimum(r2, 1.0), mine.shape)[mine]
        suv[box][mine] = (lesion.suv_max * profile / profile.max()).astype(suv.dtype)
        hu[box][mine] = lesion.hu
    return lesion_map
