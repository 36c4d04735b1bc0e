"""Whole-body organ label map (vertex to mid-thigh) of one random adult subject.

Coordinates are LPS millimetres with the vertex at z = 0 and the feet towards -z; ``depth`` below means
``-z``. Landmarks scale with the subject's height, cross-sections with weight per height (PHANTOM_REFERENCE
§6: reference adult 73/60 kg, 176/163 cm (ICRP 89); torso lateral x AP thorax 32-36 x 20-25 cm, abdomen
32-38 x 22-28 cm †; lung height 24-28 cm †; organ masses (ICRP 89) set the organ ellipsoid sizes: liver
≈1.7/1.3 L, kidney ≈12x6x3 cm, heart ≈12x8.5x6 cm, brain 1450/1300 g).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from MedGANSynthLib.phantoms.shapes import (
    AxisGrid,
    ellipsoid,
    paint,
    polyline_tube,
    rotation_matrix,
    segment_tube,
    vertical_superellipse,
)
from MedGANSynthLib.phantoms.tissues import LABEL

REFERENCE_BODY = {"M": (176.0, 73.0), "F": (163.0, 60.0)}  # §6 ICRP 89 height cm, mass kg


@dataclass(frozen=True)
class Subject:
    sex: str
    height_cm: float
    weight_kg: float
    age_years: float

    @property
    def bmi(self) -> float:
        return self.weight_kg / (self.height_cm / 100.0) ** 2


def random_subject(rng: np.random.Generator) -> Subject:
    """Sex 50/50; height around the ICRP 89 reference (§6) with SD ~7 cm; BMI 18-36."""
    sex = "M" if rng.random() < 0.5 else "F"
    ref_height = REFERENCE_BODY[sex][0]
    height = float(np.clip(rng.normal(ref_height, 7.0), ref_height - 18, ref_height + 18))
    bmi = float(np.clip(rng.normal(24.5, 3.5), 18.0, 36.0))
    weight = bmi * (height / 100.0) ** 2
    return Subject(sex, round(height, 1), round(weight, 1), round(float(rng.uniform(30, 80)), 0))


@dataclass
class Anatomy:
    labels: np.ndarray
    grid: AxisGrid
    subject: Subject
    landmarks: dict = field(default_factory=dict)


class _Body:
    """Height-scaled landmarks and weight-scaled torso profile of one subject."""

    def __init__(self, subject: Subject, rng: np.random.Generator):
        ref_h, ref_w = REFERENCE_BODY[subject.sex]
        self.h = subject.height_cm * 10.0
        girth = (subject.weight_kg / subject.height_cm) / (ref_w / ref_h)  # cross-section area ratio
        self.lat = girth**0.4 * rng.uniform(0.96, 1.04)
        self.ap = girth**0.6 * rng.uniform(0.95, 1.05)
        # Subcutaneous fat grows faster than linearly with BMI; women carry more (†).
        base_fat = 11.0 if subject.sex == "M" else 17.0
        self.fat = float(np.clip(base_fat * (subject.bmi / 22.0) ** 1.8 * rng.uniform(0.8, 1.2), 4.0, 45.0))
        self.hip = 1.0 if subject.sex == "M" else 1.07
        self.chest = 1.0 if subject.sex == "M" else 0.93
        # Torso half-widths (mm) at depth fractions; thorax ≈ 34 x 22.5 cm, abdomen ≈ 35 x 25 cm (§6 †).
        self._knots = np.array([0.155, 0.175, 0.20, 0.25, 0.33, 0.40, 0.46, 0.50, 0.535])
        self._half_lat = np.array([60, 125, 158, 170, 168, 165, 175, 178, 150], float)
        self._half_ap = np.array([55, 85, 100, 110, 115, 120, 115, 105, 90], float)
        self._hip_weight = np.array([0, 0, 0, 0, 0, 0.3, 1, 1, 1], float)
        self._chest_weight = np.array([0, 0.5, 1, 1, 0.7, 0, 0, 0, 0], float)

    def z(self, fraction: float) -> float:
        return -fraction * self.h

    def frac(self, z: np.ndarray) -> np.ndarray:
        return -np.asarray(z) / self.h

    def half_lat(self, z):
        f = self.frac(z)
        sex = 1 + (self.hip - 1) * np.interp(f, self._knots, self._hip_weight) + (self.chest - 1) * np.interp(
            f, self._knots, self._chest_weight)
        return np.interp(f, self._knots, self._half_lat) * self.lat * sex

    def half_ap(self, z):
        return np.interp(self.frac(z), self._knots, self._half_ap) * self.ap

    def spine_y(self, z):
        """Centre of the vertebral body: thoracic kyphosis, lumbar lordosis (distance from the back)."""
        f = self.frac(z)
        from_back = np.interp(f, [0.12, 0.18, 0.22, 0.33, 0.40, 0.46, 0.52], [38, 45, 55, 58, 70, 75, 60])
        return self.half_ap(z) - from_back - 0.6 * self.fat

    def spine_radius(self, z):
        return np.interp(self.frac(z), [0.12, 0.19, 0.34, 0.40, 0.47], [9, 12, 16, 20, 21])


def build_anatomy(grid: AxisGrid, subject: Subject, rng: np.random.Generator) -> Anatomy:
    """Paint every organ into a uint8 label map (ids from :mod:`tissues`), outermost first."""
    body = _Body(subject, rng)
    labels = np.zeros(grid.shape, dtype=np.uint8)
    marks: dict = {"fat_mm": round(body.fat, 1)}
    _paint_outline(labels, grid, body)
    _paint_head(labels, grid, body, marks)
    _paint_neck(labels, grid, body, marks)
    _paint_thorax(labels, grid, body, marks)
    _paint_abdomen(labels, grid, body, rng, marks)
    _paint_pelvis(labels, grid, body, marks)
    _paint_spine(labels, grid, body)
    _paint_ribs(labels, grid, body)
    return Anatomy(labels, grid, subject, marks)


# --- body wall ------------------------------------------------------------------------------------------
def _torso(grid, body, inset, z_range, centre_y=0.0, exponent=2.6, ap_inset=None):
    ap_inset = inset if ap_inset is None else ap_inset
    return vertical_superellipse(
        grid, z_range, lambda z: 0.0 * z, lambda z: centre_y + 0.0 * z,
        lambda z: body.half_lat(z) - inset, lambda z: body.half_ap(z) - ap_inset, exponent)


def _thighs(grid, body, inset, side):
    top, bottom = body.z(0.47), grid.z[0] - 10

    def radius(z):
        return np.interp(body.frac(z), [0.47, 0.53, 0.65], [70, 86, 75]) * body.lat * body.hip - inset

    return vertical_superellipse(
        grid, (top, bottom),
        lambda z: side * np.interp(body.frac(z), [0.47, 0.53, 0.65], [75, 92, 92]) * body.hip,
        lambda z: np.interp(body.frac(z), [0.47, 0.53], [15, 0]) + 0 * z,
        radius, lambda z: radius(z) * 0.95, 2.2)


def _paint_outline(labels, grid, body):
    """Skin-to-muscle: subcutaneous fat layer (thickness from BMI), then muscle inside it."""
    trunk = (body.z(0.155), body.z(0.52))
    neck = (body.z(0.11), body.z(0.20))
    for inset, tissue in ((0.0, "subcutaneous_fat"), (body.fat, "muscle")):
        paint(labels, _torso(grid, body, inset, trunk), LABEL[tissue])
        paint(labels, vertical_superellipse(
            grid, neck, lambda z: 0 * z, lambda z: 5 + 0 * z, lambda z, inset=inset: 58 * body.lat - inset * 0.4 + 0 * z,
            lambda z, inset=inset: 55 * body.ap - inset * 0.4 + 0 * z), LABEL[tissue])
        for side in (-1, 1):
            paint(labels, _thighs(grid, body, inset, side), LABEL[tissue])


# --- head -----------------------------------------------------------------------------------------------
def _paint_head(labels, grid, body, marks):
    s = (body.h / 1760.0) ** 0.3
    brain_c = np.array([0.0, 8.0, -80.0 * s])
    brain_r = np.array([66.0, 82.0, 58.0]) * s
    cereb_c = np.array([0.0, 48.0, -128.0 * s])
    cereb_r = np.array([50.0, 30.0, 22.0]) * s
    paint(labels, ellipsoid(grid, [0, 5, -105 * s], np.array([78, 97, 106]) * s), LABEL["muscle"])
    paint(labels, ellipsoid(grid, [0, -45, -150 * s], np.array([55, 55, 70]) * s), LABEL["muscle"])
    paint(labels, ellipsoid(grid, brain_c, brain_r + 9), LABEL["subcutaneous_fat"])  # scalp fat (thin)
    paint(labels, ellipsoid(grid, brain_c, brain_r + 7), LABEL["cortical_bone"])
    paint(labels, ellipsoid(grid, cereb_c, cereb_r + 7), LABEL["cortical_bone"])
    paint(labels, ellipsoid(grid, brain_c, brain_r + 1.5), LABEL["csf"])
    paint(labels, ellipsoid(grid, brain_c, brain_r), LABEL["grey_matter"])
    paint(labels, ellipsoid(grid, brain_c, brain_r - 8), LABEL["white_matter"])
    for side in (-1, 1):  # basal ganglia / thalami are grey matter; lateral ventricles beside them
        paint(labels, ellipsoid(grid, brain_c + [side * 20, 0, -5], [12, 22, 14]), LABEL["grey_matter"])
        paint(labels, ellipsoid(grid, brain_c + [side * 9, 5, 12], [6, 26, 9]), LABEL["csf"])
        paint(labels, ellipsoid(grid, [side * 32 * s, -72 * s, -88 * s], [12, 12, 12]), LABEL["eye"])
    paint(labels, ellipsoid(grid, cereb_c, cereb_r), LABEL["cerebellum"])
    marks["brain_centre"] = brain_c.tolist()


def _paint_neck(labels, grid, body, marks):
    pharynx = [(0, -8, body.z(0.10)), (0, -6, body.z(0.13))]
    trachea = [(0, -6, body.z(0.13)), (0, 0, body.z(0.20)), (0, 12, body.z(0.255))]
    for shape in polyline_tube(grid, pharynx, 8.0) + polyline_tube(grid, trachea, 9.0):
        paint(labels, shape, LABEL["airway"])
    for side in (-1, 1):
        paint(labels, ellipsoid(grid, [side * 13, -6, body.z(0.105)], [7, 7, 9]), LABEL["tonsil"])
        paint(labels, ellipsoid(grid, [side * 50 * body.lat, 8, body.z(0.095)], [14, 20, 22]), LABEL["parotid"])
    marks["pharynx"] = [0.0, -6.0, body.z(0.11)]
    marks["cervical_nodes"] = [[side * 38 * body.lat, -5.0, body.z(f)] for side in (-1, 1) for f in (0.125, 0.15)]


# --- thorax ---------------------------------------------------------------------------------------------
def _paint_thorax(labels, grid, body, marks):
    apex, base = body.z(0.185), body.z(0.335)
    def profile(z):
        t = np.clip((apex - z) / (apex - base), 0, 1)
        return 0.35 + 0.65 * np.sqrt(np.clip(t / 0.55, 0, 1))

    inset = body.fat + 14
    cavity = vertical_superellipse(  # mediastinal + abdominal cavity, narrowing to the lung apices
        grid, (apex + 5, body.z(0.52)), lambda z: 0 * z, lambda z: -8 + 0 * z,
        lambda z: (body.half_lat(z) - inset) * np.minimum(1.0, profile(z) + 0.1),
        lambda z: (body.half_ap(z) - inset - 10) * np.minimum(1.0, profile(z) + 0.3), 2.6)
    paint(labels, cavity, LABEL["visceral_fat"])  # organs paint over it

    for side, base_shift in ((-1, 12.0), (1, 0.0)):  # right base higher (liver dome)
        lung = vertical_superellipse(
            grid, (apex, base + base_shift),
            lambda z, side=side: side * 78 * body.lat * body.chest + 0 * z, lambda z: 8 + 0 * z,
            lambda z: 72 * body.lat * body.chest * profile(z), lambda z: 88 * body.ap * profile(z), 2.3)
        paint(labels, lung, LABEL["lung"], only_where=[LABEL["visceral_fat"]])
    paint(labels, vertical_superellipse(  # upper mediastinum between the lungs
        grid, (apex, body.z(0.27)), lambda z: 5 + 0 * z, lambda z: -5 + 0 * z,
        lambda z: 24 + 0 * z, lambda z: 75 * body.ap + 0 * z), LABEL["visceral_fat"])
    # Heart: whole heart = blood (chambers), LV as a myocardial shell (§6 ~12 x 8.5 x 6 cm †).
    tilt = rotation_matrix([0, 0, 1], -35) @ rotation_matrix([1, 0, 0], 25)
    heart_c = np.array([22.0, -28.0 * body.ap, body.z(0.297)])
    paint(labels, ellipsoid(grid, heart_c, [58, 46, 52], tilt), LABEL["blood"])
    lv_c = heart_c + tilt @ np.array([12.0, 6.0, -8.0])
    paint(labels, ellipsoid(grid, lv_c, [40, 33, 40], tilt), LABEL["myocardium"])
    paint(labels, ellipsoid(grid, lv_c, [28, 21, 28], tilt), LABEL["blood"])
    # Aorta: ascending, arch, descending beside the spine to the bifurcation; iliacs.
    desc_x = 22.0
    top = body.z(0.215)
    aorta = [heart_c + [-12, -2, 38], (2, -18, top), (desc_x, 18, top - 5),
             (desc_x, body.spine_y(body.z(0.27)) - 30, body.z(0.27)),
             (12, body.spine_y(body.z(0.40)) - 35, body.z(0.40)), (8, body.spine_y(body.z(0.415)) - 35, body.z(0.415))]
    for shape in polyline_tube(grid, aorta, 13.0):
        paint(labels, shape, LABEL["blood"])
    bifurcation = np.array(aorta[-1], float)
    for side in (-1, 1):
        for shape in polyline_tube(grid, [bifurcation, (side * 55, 20, body.z(0.46)), (side * 80, -25, body.z(0.51))], 7.0):
            paint(labels, shape, LABEL["blood"])
        paint(labels, segment_tube(grid, (0, 12, body.z(0.255)), (side * 45, 18, body.z(0.28)), 6.0), LABEL["airway"])
    oesophagus = [(0, 10, body.z(0.13)), (2, 16, body.z(0.20)), (6, 30, body.z(0.26)),
                  (12, body.spine_y(body.z(0.32)) - 32, body.z(0.32)), (30, 0, body.z(0.352))]
    for shape in polyline_tube(grid, oesophagus, 8.0):
        paint(labels, shape, LABEL["oesophagus"])
    marks.update(
        heart_centre=heart_c.tolist(), aorta=[list(map(float, p)) for p in aorta],
        oesophagus=[list(map(float, p)) for p in oesophagus], carina=[0.0, 12.0, body.z(0.255)],
        lung_range_z=[base, apex],
        mediastinal_nodes=[[-18, 0, body.z(0.235)], [18, 10, body.z(0.245)], [0, 30, body.z(0.27)],
                           [-35, 22, body.z(0.265)], [38, 28, body.z(0.27)]],
        axillary_nodes=[[side * (body.half_lat(body.z(0.22)) - body.fat - 30), 5, body.z(0.22)] for side in (-1, 1)],
    )


# --- abdomen --------------------------------------------------------------------------------------------
def _paint_abdomen(labels, grid, body, rng, marks):
    cavity = [LABEL["visceral_fat"]]
    lung_base = body.z(0.335)
    # Diaphragm domes: the liver (right) and the upper abdomen (left) bulge up into the lung bases.
    paint(labels, ellipsoid(grid, [-70 * body.lat, 0, lung_base - 45], [95, 105, 75]), LABEL["liver"],
          [LABEL["lung"], LABEL["visceral_fat"]])
    paint(labels, ellipsoid(grid, [70 * body.lat, 5, lung_base - 40], [85, 100, 62]), LABEL["visceral_fat"],
          [LABEL["lung"]])
    for side in (-1, 1):  # psoas beside the lumbar spine
        paint(labels, vertical_superellipse(
            grid, (body.z(0.37), body.z(0.50)), lambda z, side=side: side * (body.spine_radius(z) + 22) + 0 * z,
            lambda z: body.spine_y(z) - 5, lambda z: np.interp(body.frac(z), [0.37, 0.47], [10, 24]),
            lambda z: np.interp(body.frac(z), [0.37, 0.47], [10, 22])), LABEL["muscle"])
    liver_c = np.array([-62.0 * body.lat, -5.0, body.z(0.355)])
    paint(labels, ellipsoid(grid, liver_c, np.array([88, 78, 72]) * [body.lat, body.ap, 1]), LABEL["liver"], cavity)
    paint(labels, ellipsoid(grid, [15, -48 * body.ap, body.z(0.343)], [58, 32, 38]), LABEL["liver"], cavity)
    paint(labels, ellipsoid(grid, [72 * body.lat, -22, body.z(0.352)], [42, 38, 48]), LABEL["stomach"], cavity)
    spleen_c = np.array([98.0 * body.lat, 48.0, body.z(0.35)])
    spleen_r = np.array([26.0, 46.0, 42.0])
    paint(labels, ellipsoid(grid, spleen_c, spleen_r), LABEL["spleen"], cavity + [LABEL["stomach"], LABEL["muscle"]])
    kidneys = []
    for side, shift in ((-1, 0.012), (1, 0.0)):  # right kidney lower (liver)
        z_k = body.z(0.405 + shift)
        centre = np.array([side * 72.0, body.spine_y(z_k) - 8, z_k])
        tilt = rotation_matrix([0, 1, 0], side * 12)
        paint(labels, ellipsoid(grid, centre, [27, 23, 54], tilt), LABEL["kidney"])
        paint(labels, ellipsoid(grid, centre + [-side * 14, -6, 0], [9, 8, 18], tilt), LABEL["urine"])
        kidneys.append(centre.tolist())
    for _ in range(12):  # bowel loops fill the lower abdomen
        centre = [rng.uniform(-100, 100) * body.lat, rng.uniform(-80, 10) * body.ap, body.z(rng.uniform(0.39, 0.49))]
        paint(labels, ellipsoid(grid, centre, rng.uniform(14, 28, size=3)), LABEL["bowel"], cavity)
    fill = rng.uniform(0.75, 1.2)
    paint(labels, ellipsoid(grid, [0, -45 * body.ap, body.z(0.498)], np.array([45, 35, 35]) * fill), LABEL["urine"])
    marks.update(
        liver_centre=liver_c.tolist(), spleen_centre=spleen_c.tolist(), spleen_radii=spleen_r.tolist(),
        kidneys=kidneys, bladder_fill=round(float(fill), 3),
        para_aortic_nodes=[[side * 30.0, body.spine_y(body.z(f)) - 30, body.z(f)] for side in (-1, 1)
                           for f in (0.38, 0.41)],
        inguinal_nodes=[[side * 75.0 * body.hip, -body.half_ap(body.z(0.525)) + body.fat + 25, body.z(0.525)]
                        for side in (-1, 1)],
    )


def _paint_pelvis(labels, grid, body, marks):
    z = body.z
    bone, marrow = LABEL["cortical_bone"], LABEL["cancellous_bone"]
    for side in (-1, 1):
        wing = rotation_matrix([0, 0, 1], side * 40)
        centre = np.array([side * 92 * body.hip, 30.0, z(0.445)])
        paint(labels, ellipsoid(grid, centre, [10, 58, 52], wing), bone)
        paint(labels, ellipsoid(grid, centre, [6, 54, 48], wing), marrow)
        head = np.array([side * 85 * body.hip, 5.0, z(0.505)])
        trochanter = np.array([side * 118 * body.hip, 15.0, z(0.525)])
        knee_way = np.array([side * 92 * body.hip, 0.0, z(0.72)])
        paint(labels, segment_tube(grid, head, trochanter, 16), bone)
        paint(labels, segment_tube(grid, head, trochanter, 12), marrow)
        paint(labels, ellipsoid(grid, head, [24, 24, 24]), bone)
        paint(labels, ellipsoid(grid, head, [21, 21, 21]), marrow)
        paint(labels, segment_tube(grid, trochanter, knee_way, 14), bone)
        paint(labels, segment_tube(grid, trochanter + [0, 0, -25], knee_way, 8), LABEL["yellow_marrow"])
        for start, end in (((side * 22, -55 * body.ap, z(0.515)), (side * 78, -15, z(0.505))),
                           ((side * 60, 30, z(0.53)), (side * 80, 5, z(0.505)))):
            paint(labels, segment_tube(grid, start, end, 9), bone)
            paint(labels, segment_tube(grid, start, end, 6), marrow)
    sacrum = np.array([0.0, body.spine_y(z(0.47)) + 12, z(0.465)])
    tilt = rotation_matrix([1, 0, 0], 30)
    paint(labels, ellipsoid(grid, sacrum, [48, 18, 42], tilt), bone)
    paint(labels, ellipsoid(grid, sacrum, [44, 14, 38], tilt), marrow)


# --- skeleton of the trunk ------------------------------------------------------------------------------
def _paint_spine(labels, grid, body):
    """Vertebral bodies (cortex + cancellous marrow) separated by discs, arch, canal, spinous process."""
    top, bottom = body.z(0.115), body.z(0.47)
    zs = grid.z[(grid.z >= bottom) & (grid.z <= top)]
    if zs.size == 0:
        return
    period = np.interp(body.frac(zs), [0.115, 0.19, 0.36, 0.47], [17, 22, 28, 32]) * body.h / 1760.0
    phase = np.cumsum(np.abs(np.gradient(zs)) / period)
    disc_slices = set(np.round(zs[(phase % 1.0) < 0.2], 3))

    def y(z):
        return body.spine_y(z)

    def canal_y(z):
        return body.spine_y(z) + body.spine_radius(z) + 9

    paint(labels, vertical_superellipse(grid, (bottom, top), lambda z: 0 * z, y,
                                        lambda z: body.spine_radius(z) + 2, lambda z: body.spine_radius(z) * 0.85 + 2),
          LABEL["cortical_bone"])
    core = vertical_superellipse(grid, (bottom, top), lambda z: 0 * z, y, body.spine_radius,
                                 lambda z: body.spine_radius(z) * 0.85)
    if core is not None:
        box, mask = core
        slab_z = grid.z[box[0]]
        disc = np.array([round(float(v), 3) in disc_slices for v in slab_z])[:, None, None]
        values = np.where(disc, LABEL["disc"], LABEL["cancellous_bone"]).astype(np.uint8)
        region = labels[box]
        region[mask] = np.broadcast_to(values, mask.shape)[mask]
    paint(labels, vertical_superellipse(grid, (bottom, top), lambda z: 0 * z, lambda z: canal_y(z) + 18,
                                        lambda z: 4 + 0 * z, lambda z: 16 + 0 * z), LABEL["cortical_bone"])
    paint(labels, vertical_superellipse(grid, (bottom, top), lambda z: 0 * z, canal_y,
                                        lambda z: 13 + 0 * z, lambda z: 12 + 0 * z), LABEL["cortical_bone"])
    paint(labels, vertical_superellipse(grid, (bottom, top), lambda z: 0 * z, canal_y,
                                        lambda z: 8 + 0 * z, lambda z: 7 + 0 * z), LABEL["csf"])


def _paint_ribs(labels, grid, body):
    """Ribs as slanted bands in the chest wall (anterior ends lower), and the sternum."""
    z_range = (body.z(0.19), body.z(0.37))
    inset = body.fat + 6
    outer = _torso(grid, body, inset, z_range)
    if outer is None:
        return
    box, mask = outer
    z, y, x = grid.coords(box)
    a = body.half_lat(z) - inset - 11
    b = body.half_ap(z) - inset - 11
    inside_inner = np.abs(x / a) ** 2.6 + np.abs(y / b) ** 2.6 <= 1.0
    slant = -z + 0.35 * (y - body.spine_y(z))  # anterior (y < spine) rib segments sit lower
    rib = (np.mod(slant / (25.0 * body.h / 1760.0), 1.0) < 0.34) & ~((np.abs(x) < 28) & (y < 0))
    region = labels[box]
    region[mask & ~inside_inner & rib & (region == LABEL["muscle"])] = LABEL["rib"]
    paint(labels, vertical_superellipse(
        grid, (body.z(0.20), body.z(0.31)), lambda z: 0 * z, lambda z: -body.half_ap(z) + body.fat + 14,
        lambda z: 16 + 0 * z, lambda z: 6 + 0 * z), LABEL["rib"])
