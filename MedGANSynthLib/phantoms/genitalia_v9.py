"""Version 9: the external genitalia between the thighs (REFERENCE.md, "Version 9: external genitalia").

Version 8 parts the thighs below the perineum and leaves air in front, from the symphysis down to where the thighs
touch: no scrotum, penis or labia. Here, per subject:

* men: a scrotum (fat: skin, dartos and the loose layers) holding two testes (label ``testis``) side by side below
  the perineum, in front of the thighs; a flaccid penis (corpora, label ``penis``, in a sleeve of skin and fat) from
  the penopubic junction at the symphysis's lower border down and forward, resting on the scrotum;
* women: two labia majora, fat-filled folds from the mons to the posterior commissure, either side of a midline
  cleft of air (the vulval cleft).

Sizes are drawn from published adult ranges (testis volume on CT, penile flaccid length and girth, labia majora
length and width); the testis's FDG uptake by age decade. Everything is painted over air and subcutaneous fat only,
so no bone, muscle or organ of version 8 changes. The draws come from a stream of their own under the case's seed,
so every other draw of the case stays version 8's.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from MedGANSynthLib.phantoms.frame_v2 import Frame
from MedGANSynthLib.phantoms.muscle_shapes_v2 import thigh_axes
from MedGANSynthLib.phantoms.pelvis_v4 import pelvis_landmarks
from MedGANSynthLib.phantoms.perineum_v8 import ANAL_CANAL_RADIUS_MM, PERINEUM_BELOW_TUBEROSITY_MM
from MedGANSynthLib.phantoms.shapes import AxisGrid, ellipsoid, paint, segment_tube
from MedGANSynthLib.phantoms.tissues import LABEL

STREAM_KEY = 9048  # spawn key of the state's stream under the case seed's sequence (version 9, label 48)
# Published sizes, (mean, SD); drawn as a normal clipped to mean ± 2 SD.
TESTIS_ML = (18.80, 4.83)  # CT volume per testis, 640 testes (Parida, Indian J Nucl Med 2021)
PENIS_FLACCID_LENGTH_MM = (91.6, 15.7)  # flaccid pendulous length (Veale, BJU Int)
PENIS_FLACCID_GIRTH_MM = (93.1, 9.0)  # flaccid circumference (Veale, BJU Int)
LABIA_MAJORA_LENGTH_MM = (97.0, 18.0)  # (Mangla, J Cutan Aesthet Surg)
LABIA_MAJORA_WIDTH_MM = (37.0, 8.0)  # each labium's width (same source; read as one labium's, †)
CLIP_SD = 2.0
# Testis FDG uptake by age decade: (upper age, mean, SD, low, high) of 406 testes (Kitajima, Ann Nucl Med 2007);
# the 25-29 y subjects take the 30-39 y row (†: none younger in the source).
TESTIS_SUV_BY_AGE = ((40.0, 2.81, 0.43, 2.28, 3.85), (50.0, 2.63, 0.45, 1.77, 3.75), (60.0, 2.46, 0.35, 1.44, 3.15),
                     (70.0, 2.51, 0.41, 1.50, 3.46), (80.0, 2.43, 0.47, 1.42, 3.29),
                     (float("inf"), 2.18, 0.45, 1.23, 3.03))
TESTIS_HU = (30.0, 45.0)  # † "homogeneous soft-tissue attenuation", no number read: the prostate's band (values_v2)
TESTIS_SHAPE_MM = (30.0, 20.0, 50.0)  # width (x), depth (y), length (z): "approximately 5 x 3 x 2 cm" (Dogra 2003)
SEPTUM_HALF_MM = 3.0  # median raphe and septum between the testes (†)
SCROTAL_WALL_MM = 6.0  # skin, dartos and the spermatic fasciae around each testis (†)
NESTLE_LIMIT = 0.5  # testes at least half a thigh radius in front of the thighs' centres (†)
PENILE_SKIN_MM = 3.0  # skin and loose subcutaneous sleeve around the corpora (†)
ROOT_BELOW_SYMPHYSIS_MM = 20.0  # penopubic junction / mons at the symphysis's lower border (†, scaled)
PERINEAL_BODY_MM = 25.0  # anal margin to the posterior commissure, 2.5 ± 0.7 cm (Mangla)
LABIUM_THICKNESS_MM = 15.0  # half-thickness across the fold's long axis (†)
VULVAL_CLEFT_HALF_MM = 3.0  # the labia lie against each other: a midline slit of air (†)
SOFT_OUTSIDE = (LABEL["air"], LABEL["subcutaneous_fat"])


@dataclass(frozen=True)
class GenitaliaState:
    sex: str
    testis_ml: tuple[float, float] | None = None  # right, left
    testis_suv: float | None = None
    testis_hu: float | None = None
    penis_length_mm: float | None = None
    penis_girth_mm: float | None = None
    labia_length_mm: float | None = None
    labia_width_mm: float | None = None

    def to_manifest(self) -> dict:
        return {key: value for key, value in asdict(self).items() if value is not None}


def _clipped(rng: np.random.Generator, mean_sd: tuple[float, float]) -> float:
    mean, sd = mean_sd
    return round(float(np.clip(rng.normal(mean, sd), mean - CLIP_SD * sd, mean + CLIP_SD * sd)), 2)


def testis_suv_row(age_years: float) -> tuple[float, float, float, float]:
    """(mean, SD, low, high) of the testis SUV of this age's decade (Kitajima 2007)."""
    return next(row[1:] for row in TESTIS_SUV_BY_AGE if age_years < row[0])


def draw_genitalia(rng: np.random.Generator, sex: str, age_years: float) -> GenitaliaState:
    """A subject's genital sizes (and, for a man, the testes' SUV and HU)."""
    if sex == "F":
        return GenitaliaState(sex, labia_length_mm=_clipped(rng, LABIA_MAJORA_LENGTH_MM),
                              labia_width_mm=_clipped(rng, LABIA_MAJORA_WIDTH_MM))
    testes = (_clipped(rng, TESTIS_ML), _clipped(rng, TESTIS_ML))
    mean, sd, low, high = testis_suv_row(age_years)
    suv = round(float(np.clip(rng.normal(mean, sd), low, high)), 4)
    return GenitaliaState(sex, testes, suv, round(float(rng.uniform(*TESTIS_HU)), 2),
                          _clipped(rng, PENIS_FLACCID_LENGTH_MM), _clipped(rng, PENIS_FLACCID_GIRTH_MM))


def set_genitalia_values(values, state: GenitaliaState) -> None:
    """A man's testis SUV and HU (no enhancement read: both phases alike, †) and the corpora at muscle's values in
    each phase (soft tissue, no source of their own, †)."""
    if state.sex != "M":
        return
    values.suv["testis"] = state.testis_suv
    values.hu["testis"] = values.hu_unenhanced["testis"] = state.testis_hu
    values.suv["penis"] = values.suv["muscle"]
    values.hu["penis"] = values.hu["muscle"]
    values.hu_unenhanced["penis"] = values.hu_unenhanced["muscle"]


def paint_genitalia(labels: np.ndarray, grid: AxisGrid, fr: Frame, state: GenitaliaState) -> None:
    """Scrotum, testes and penis in a man, labia majora in a woman (module text)."""
    marks = pelvis_landmarks(fr)
    verge_z = marks["tuberosity_z"] - PERINEUM_BELOW_TUBEROSITY_MM * fr.s
    root_z = marks["symphysis"][2] - ROOT_BELOW_SYMPHYSIS_MM * fr.s
    root = np.array([0.0, -float(fr.half_ap(root_z)), root_z])  # the skin in front of the symphysis's lower border
    if state.sex == "M":
        testes = _testis_centres(fr, state, verge_z)
        _paint_scrotum(labels, grid, testes)
        _paint_penis(labels, grid, state, root, testes)
    else:
        _paint_labia(labels, grid, fr, state, root, verge_z)


def _testis_radii(volume_ml: float) -> np.ndarray:
    """Half-axes (x, y, z) of an ellipsoid of the published shape holding ``volume_ml``."""
    shape = np.array(TESTIS_SHAPE_MM)
    scale = (volume_ml * 1000.0 / (np.pi / 6.0 * np.prod(shape))) ** (1 / 3)
    return shape * scale / 2.0


def _testis_centres(fr: Frame, state: GenitaliaState, verge_z: float) -> list[tuple[np.ndarray, np.ndarray]]:
    """(centre, radii) of each testis: side by side either side of the septum, upper pole one wall below the
    perineum, as far back between the thighs as the scrotal wall clears their outlines (anatomy_v2's thigh
    ellipses), but no further back than half a thigh's radius in front of its centre."""
    testes = []
    for side, volume in zip((-1, 1), state.testis_ml, strict=True):
        radii = _testis_radii(volume)
        z = verge_z - SCROTAL_WALL_MM - radii[2]
        centre_x, centre_y, radius = (float(f(z)) for f in thigh_axes(fr, side))
        lateral = abs(centre_x) - (SEPTUM_HALF_MM + 2.0 * radii[0] + SCROTAL_WALL_MM)  # wall to the thigh's axis
        depth = 0.95 * radius * np.sqrt(max(1.0 - (lateral / radius) ** 2, 0.0))  # the outline's half chord there
        y = min(centre_y - depth, centre_y - NESTLE_LIMIT * radius)
        testes.append((np.array([side * (SEPTUM_HALF_MM + radii[0]), y, z]), radii))
    return testes


def _paint_scrotum(labels, grid, testes) -> None:
    """The scrotal sac (fat: its wall and layers) around both testes, then the testes inside it."""
    centre = np.mean([c for c, _ in testes], axis=0)
    radii = np.max([r for _, r in testes], axis=0) + SCROTAL_WALL_MM
    radii[0] = abs(testes[0][0][0]) + radii[0]  # across both testes
    paint(labels, ellipsoid(grid, centre, radii), LABEL["subcutaneous_fat"], list(SOFT_OUTSIDE))
    for centre, radii in testes:
        paint(labels, ellipsoid(grid, centre, radii), LABEL["testis"], list(SOFT_OUTSIDE))


def _paint_penis(labels, grid, state: GenitaliaState, root, testes) -> None:
    """Shaft from the penopubic junction towards the scrotum's front at the testes' lower poles, so it rests on the
    scrotum (supine); the corpora inside a sleeve of skin and fat."""
    radius = state.penis_girth_mm / (2.0 * np.pi)
    lowest = min(c[2] - r[2] for c, r in testes)
    front = min(c[1] - r[1] for c, r in testes) - SCROTAL_WALL_MM - radius
    start = root + np.array([0.0, 0.5 * radius, 0.0])  # half within the mons's fat: the skin continues
    direction = np.array([0.0, front, lowest]) - start
    end = start + state.penis_length_mm * direction / np.linalg.norm(direction)
    allowed = list(SOFT_OUTSIDE)
    paint(labels, segment_tube(grid, start, end, radius), LABEL["subcutaneous_fat"], allowed)
    paint(labels, segment_tube(grid, start, end, radius - PENILE_SKIN_MM), LABEL["penis"],
          allowed)


def _paint_labia(labels, grid, fr: Frame, state: GenitaliaState, root, verge_z: float) -> None:
    """Two fat folds along the line from the mons to the posterior commissure (the perineal body's length in
    front of the anal canal), either side of a midline slit of air (only fat becomes air: no muscle or organ)."""
    rectum_y = float(fr.spine_y(fr.z(0.47))) - 35.0  # perineum_v8's anal canal: its verge 10 mm behind this
    commissure = np.array([0.0, rectum_y + 10.0 * fr.s - ANAL_CANAL_RADIUS_MM * fr.s - PERINEAL_BODY_MM, verge_z])
    axis = commissure - root
    # the folds hang their own thickness below the mons-commissure line, between the thighs (supine)
    centre = 0.5 * (root + commissure) - np.array([0.0, 0.0, LABIUM_THICKNESS_MM])
    rotation = _sagittal_rotation(axis)
    radii = [state.labia_width_mm / 2.0, LABIUM_THICKNESS_MM, state.labia_length_mm / 2.0]
    for side in (-1, 1):
        shift = np.array([side * (VULVAL_CLEFT_HALF_MM + radii[0]), 0.0, 0.0])
        paint(labels, ellipsoid(grid, centre + shift, radii, rotation), LABEL["subcutaneous_fat"], list(SOFT_OUTSIDE))
    cleft = ellipsoid(grid, centre, [VULVAL_CLEFT_HALF_MM, radii[1], radii[2]], rotation)
    paint(labels, cleft, LABEL["air"], [LABEL["subcutaneous_fat"]])


def _sagittal_rotation(axis) -> np.ndarray:
    """Columns: the ellipsoid's x half-axis stays lateral, its z half-axis lies along ``axis`` (sagittal), its y
    half-axis across the fold."""
    along = np.asarray(axis, float) / np.linalg.norm(axis)
    lateral = np.array([1.0, 0.0, 0.0])
    return np.column_stack([lateral, np.cross(along, lateral), along])
