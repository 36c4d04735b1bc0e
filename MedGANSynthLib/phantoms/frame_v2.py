"""The skeleton frame of a version-2 phantom: one random subject and the landmarks every organ is placed from.

Coordinates are LPS millimetres, vertex at z = 0, feet towards -z; ``-x`` is the patient's right, ``-y``
anterior. Vertical landmarks are fractions of stature from the segment proportions of Drillis & Contini (1966)
as tabulated by Winter (Biomechanics and Motor Control of Human Movement): chin 0.130, shoulder (acromion)
0.182, elbow 0.370, wrist 0.515, greater trochanter 0.470 of stature below the vertex; upper arm 0.186,
forearm 0.146 of stature. Spinal levels are spread between them (REFERENCE.md §6). Cross-sections scale with
weight per height around the ICRP 89 reference adult (176 cm / 73 kg, 163 cm / 60 kg).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

REFERENCE_BODY = {"M": (176.0, 73.0), "F": (163.0, 60.0)}  # ICRP 89 height cm, mass kg
ARM_POSITIONS = ("down", "up")

# Organ mass (g) of the ICRP 89 reference adult, male / female; volumes use the density in REFERENCE.md §6.
ICRP89_ORGAN_MASS_G = {
    "liver": (1800.0, 1400.0), "spleen": (150.0, 130.0), "kidney": (155.0, 138.0),  # each kidney
    "heart": (840.0, 620.0), "brain": (1450.0, 1300.0), "pancreas": (140.0, 120.0),
}

# Vertebral levels as fractions of stature below the vertex (top of C1 ... bottom of L5), see the module doc.
SPINE_LEVELS = {"C1": 0.112, "T1": 0.175, "L1": 0.330, "S1": 0.440}

# Version 4: C1 sits on the skull base. The basion (front rim of the foramen magnum) lies this far below the vertex,
# scaled like the head (stature**0.3, as in anatomy_v2's head; †: 156 mm puts it just under the cerebellum), and
# the top of C1 (tip of the dens) this far below the basion: basion-dens interval on CT < 8.5 mm in 95 % of adults
# (Rojas, AJNR 2007). Versions 2-3 put C1 at 0.112 of stature, ~40 mm of plain soft tissue below the skull.
BASION_BELOW_VERTEX_MM = 156.0
BASION_DENS_MM = 5.0

# Version 3, women: the waist narrowed by these fractions (lateral, AP) from L2 to L4, fading out towards L1
# (below the liver, which keeps its volume) and the iliac crests. Fitted (†) so that women's L3 visceral fat
# comes near the healthy women's median of 67.2 cm² (Kong, Front Nutr 2022); version 2 gave about twice that
# (REFERENCE.md §7).
WOMEN_WAIST_NARROWING = (0.15, 0.12)
WAIST_KNOTS = (0.345, 0.37, 0.42, 0.46)  # fractions of stature below the vertex: fade in, full, full, fade out
# Version 5: the lateral narrowing stays full through L3 (0.385, where [Kong-2022] measures) and is gone at the iliac
# crests (0.410: S1 endplate + 55 mm × length scale), so it no longer holds the women's crests ~20 mm per side inside
# a waist they lie below (versions 3-4 narrowed down to 0.46: women's bony crest width 240-248 mm). The AP narrowing
# keeps version 4's knots: the spine is placed from the back (Frame.spine_y), so changing them would kink L3-L5.
WAIST_KNOTS_V5_LATERAL = (0.345, 0.37, 0.39, 0.41)


@dataclass(frozen=True)
class SubjectV2:
    sex: str
    height_cm: float
    weight_kg: float
    age_years: float
    arms: str  # "down" (along the body) or "up" (raised above the head)
    bladder_ml: float
    breathing_mm: float  # diaphragm shift: + expiration (domes higher), - inspiration
    organ_scale: dict = field(default_factory=dict)  # volume factor per organ around ICRP 89

    @property
    def bmi(self) -> float:
        return self.weight_kg / (self.height_cm / 100.0) ** 2


def random_subject_v2(rng: np.random.Generator, arms: str | None = None) -> SubjectV2:
    """Sex 50/50, stature around ICRP 89 (SD 7 cm), BMI 18-36, arms up in 70 % (oncology PET/CT habit)."""
    sex = "M" if rng.random() < 0.5 else "F"
    ref_height = REFERENCE_BODY[sex][0]
    height = float(np.clip(rng.normal(ref_height, 7.0), ref_height - 18, ref_height + 18))
    bmi = float(np.clip(rng.normal(25.0, 3.8), 18.0, 36.0))
    arms = arms or ("up" if rng.random() < 0.7 else "down")
    # Bladder 50-500 mL; quiet-breathing diaphragm excursion ~16-18 mm (Boussuges, Chest 2009).
    bladder = float(np.exp(rng.uniform(np.log(50.0), np.log(500.0))))
    breathing = float(rng.uniform(-9.0, 9.0))
    scale = {name: round(float(np.clip(rng.normal(1.0, 0.12), 0.75, 1.3)), 3) for name in ICRP89_ORGAN_MASS_G}
    return SubjectV2(sex, round(height, 1), round(bmi * (height / 100) ** 2, 1), float(rng.integers(25, 81)),
                     arms, round(bladder, 1), round(breathing, 2), scale)


class Frame:
    """Landmarks (z of spinal levels, joints) and the trunk's cross-section profile of one subject."""

    def __init__(self, subject: SubjectV2, rng: np.random.Generator, version: int = 2):
        self.subject = subject
        self.version = version
        self.waist_narrowing = WOMEN_WAIST_NARROWING if version >= 3 and subject.sex == "F" else None
        self._waist_knots = (WAIST_KNOTS_V5_LATERAL if version >= 5 else WAIST_KNOTS, WAIST_KNOTS)  # lateral, AP
        ref_h, ref_w = REFERENCE_BODY[subject.sex]
        self.h = subject.height_cm * 10.0
        self.s = self.h / 1760.0  # length scale
        girth = (subject.weight_kg / subject.height_cm) / (ref_w / ref_h)  # cross-section area ratio
        self.girth = girth
        self.lat = girth**0.45 * rng.uniform(0.97, 1.03)
        self.ap = girth**0.55 * rng.uniform(0.96, 1.04)
        female = subject.sex == "F"
        # Subcutaneous fat at the umbilicus, mm: grows faster than linearly with BMI, more in women (†).
        self.fat = float(np.clip((14.0 if female else 9.0) * (subject.bmi / 22.0) ** 2.0 * rng.uniform(0.85, 1.15),
                                 4.0, 60.0))
        # Muscle cross-sections: smaller in women (L3 muscle area, van der Werf 2018: 5th percentiles 89 vs
        # 134 cm²), growing a little with body size.
        self.muscle = (0.82 if female else 1.0) * girth**0.3
        self.hip = 1.08 if female else 1.0
        self.chest = 0.92 if female else 1.0
        # Trunk half-widths (mm, reference adult) at fractions of stature (REFERENCE.md §6 torso sizes).
        self._knots = np.array([0.150, 0.172, 0.19, 0.22, 0.26, 0.30, 0.34, 0.38, 0.42, 0.46, 0.50, 0.535])
        self._half_lat = np.array([62, 120, 175, 168, 162, 158, 152, 150, 160, 172, 178, 160], float)
        self._half_ap = np.array([58, 80, 100, 108, 112, 114, 112, 108, 106, 110, 105, 90], float)
        self._hip_w = np.array([0, 0, 0, 0, 0, 0, 0, 0.2, 0.7, 1, 1, 1], float)
        self._chest_w = np.array([0, 0.5, 1, 1, 1, 0.7, 0.3, 0, 0, 0, 0, 0], float)
        self._fat_w = np.array([0.4, 0.5, 0.6, 0.6, 0.65, 0.75, 0.9, 1.0, 1.0, 1.05, 1.1, 1.0], float)
        self.vertebrae = self._vertebrae()

    # --- vertical ---------------------------------------------------------------------------------------
    def z(self, fraction) -> float:
        return -np.asarray(fraction) * self.h

    def frac(self, z):
        return -np.asarray(z) / self.h

    def _vertebrae(self) -> dict[str, tuple[float, float]]:
        """(z_top, z_bottom) of each vertebra C1..L5 (body plus the disc below it)."""
        levels = {}
        tops = {name: self.z(fraction) for name, fraction in SPINE_LEVELS.items()}
        if self.version >= 4:
            tops["C1"] = self.basion_z - BASION_DENS_MM
        for prefix, count, top, bottom in (("C", 7, "C1", "T1"), ("T", 12, "T1", "L1"), ("L", 5, "L1", "S1")):
            edges = np.linspace(tops[top], tops[bottom], count + 1)
            for n in range(count):
                levels[f"{prefix}{n + 1}"] = (float(edges[n]), float(edges[n + 1]))
        return levels

    @property
    def basion_z(self) -> float:
        """z of the basion, the front rim of the foramen magnum (version 4's skull base; see BASION_BELOW_VERTEX_MM)."""
        return -BASION_BELOW_VERTEX_MM * self.s**0.3

    def level(self, name: str, where: float = 0.5) -> float:
        """z inside a vertebra: 0 its top, 1 the bottom of the disc below it."""
        top, bottom = self.vertebrae[name]
        return top + where * (bottom - top)

    # --- trunk cross-section ----------------------------------------------------------------------------
    def half_lat(self, z):
        f = self.frac(z)
        sex = (1 + (self.hip - 1) * np.interp(f, self._knots, self._hip_w)
               + (self.chest - 1) * np.interp(f, self._knots, self._chest_w))
        return self._waist(np.interp(f, self._knots, self._half_lat) * self.lat * sex, z, 0)

    def half_ap(self, z):
        return self._waist(np.interp(self.frac(z), self._knots, self._half_ap) * self.ap, z, 1)

    def _waist(self, half, z, axis: int):
        if self.waist_narrowing is None:
            return half
        return half * (1.0 - self.waist_narrowing[axis] * np.interp(self.frac(z), self._waist_knots[axis], [0, 1, 1, 0]))

    def fat_at(self, z):
        """Subcutaneous fat thickness (mm) on the trunk at height z (thinner over the chest and neck)."""
        return self.fat * np.interp(self.frac(z), self._knots, self._fat_w)

    def spine_y(self, z):
        """y of the vertebral body centre: cervical and lumbar lordosis, thoracic kyphosis."""
        f = self.frac(z)
        # paraspinal muscles + posterior arch + half the body, ~55-70 mm in the lumbar lordosis (real CT in
        # ../shared/data: ~66 mm from the skin at L2 including ~10 mm fat; †)
        from_back = np.interp(f, [0.11, 0.175, 0.24, 0.31, 0.36, 0.41, 0.44, 0.48],
                              [42, 52, 56, 58, 64, 70, 66, 52]) * self.s
        return self.half_ap(z) - self.fat_at(z) * 0.9 - from_back

    def spine_half(self, z):
        """(half width, half depth) of the vertebral body at height z (cervical to lumbar, †)."""
        f = self.frac(z)
        width = np.interp(f, [0.11, 0.175, 0.25, 0.33, 0.44], [10, 14, 16, 20, 24]) * self.s
        depth = np.interp(f, [0.11, 0.175, 0.25, 0.33, 0.44], [8, 11, 14, 16, 17]) * self.s
        return width, depth

    def cage(self, z):
        """(centre y, half width, half depth) of the inner thoracic cage / abdominal cavity at height z."""
        wall_lat = self.fat_at(z) * 1.2 + 22.0 * self.s  # ribs, intercostals, serratus, latissimus / obliques
        front = -self.half_ap(z) + self.fat_at(z) * 1.1 + 18.0 * self.s  # pectoralis / rectus
        back = self.spine_y(z) + 14.0 * self.s  # the paravertebral gutters reach just behind the bodies
        # A heavier body is not a bigger rib cage: in the chest, undo most of the girth scaling (†).
        thorax = np.clip((0.335 - self.frac(z)) / 0.04, 0.0, 1.0)
        shrink = self.girth ** (-0.3 * thorax)
        half_depth = (back - front) / 2.0 * shrink
        return back - half_depth, (self.half_lat(z) - wall_lat) * shrink, half_depth

    def cavity_scale(self, z):
        """(lateral, AP) narrowing of the cage/cavity towards the lung apices and into the true pelvis."""
        f = self.frac(z)
        knots = [0.158, 0.165, 0.175, 0.19, 0.215, 0.26, 0.40, 0.44, 0.48, 0.525]
        return (np.interp(f, knots, [0.22, 0.45, 0.62, 0.78, 0.92, 1.0, 1.0, 0.92, 0.68, 0.42]),
                np.interp(f, knots, [0.30, 0.52, 0.68, 0.80, 0.93, 1.0, 1.0, 0.95, 0.80, 0.55]))

    def diaphragm_top(self, side: int) -> float:
        """z of the dome's top: the right dome ~1.5 cm above the left; breathing shifts both (Boussuges 2009)."""
        base = self.level("T9", 0.5) if side < 0 else self.level("T10", 0.1)
        return base + self.subject.breathing_mm

    @property
    def shoulder_z(self) -> float:
        return self.z(0.182)

    @property
    def hip_z(self) -> float:
        return self.z(0.47)


def organ_radius_factor(fr: Frame, organ: str) -> float:
    """Linear size factor of an organ: cube root of (sex-specific ICRP mass / male mass × subject factor)."""
    male, female = ICRP89_ORGAN_MASS_G[organ]
    mass = male if fr.subject.sex == "M" else female
    return float((mass / male * fr.subject.organ_scale.get(organ, 1.0)) ** (1.0 / 3.0))
