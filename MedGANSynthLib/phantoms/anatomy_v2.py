"""Version-2 whole-body label map: body wall, head, neck, arms, thighs, thorax and abdomen on the skeleton frame.

Painting order is outermost first: skin-line fat, muscle, the thoracic and abdominal cavities, then organs,
vessels, bowel, muscles that cross the cavity (psoas) and finally the skeleton (:mod:`skeleton_v2`), which
overwrites everything it touches. Organ sizes start from the ICRP 89 reference masses (REFERENCE.md §6) and are
scaled by the subject's organ factors; positions are given relative to the vertebral levels of :class:`Frame`.
Every shape is an analytic solid evaluated in its bounding box (:mod:`shapes`), so a case costs seconds.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from MedGANSynthLib.phantoms.anatomy import Anatomy
from MedGANSynthLib.phantoms.axilla_v8 import SHOULDER_OUT_MM, paint_axillae
from MedGANSynthLib.phantoms.bowel_v2 import keep_bowel_off_bone, paint_bowel
from MedGANSynthLib.phantoms.frame_v2 import Frame, SubjectV2, organ_radius_factor
from MedGANSynthLib.phantoms.genitalia_v9 import GenitaliaState, paint_genitalia
from MedGANSynthLib.phantoms.head_neck_v4 import airway_levels, paint_pharyngeal_airway, paint_skull_base
from MedGANSynthLib.phantoms.heart_vessels_v2 import paint_heart_and_vessels
from MedGANSynthLib.phantoms.liver_vessels_v5 import (
    MAIN_PORTAL_VEIN_RADIUS_MM,
    confluence_on_ivc,
    paint_liver_veins,
)
from MedGANSynthLib.phantoms.mediastinum_v10 import carina_y, trachea_lumen_radius, trachea_wall_radius
from MedGANSynthLib.phantoms.muscle_groups_v5 import name_muscle_groups
from MedGANSynthLib.phantoms.muscle_shapes_v2 import (
    erector_spinae_shape,
    psoas_shape,
    thigh_axes,
    thigh_muscle_shape,
)
from MedGANSynthLib.phantoms.pelvis_v4 import paint_iliac_muscles, sacrum_front_y
from MedGANSynthLib.phantoms.perineum_v8 import paint_perineum
from MedGANSynthLib.phantoms.shapes import (
    AxisGrid,
    ellipsoid,
    paint,
    polyline_tube,
    rotation_matrix,
    segment_tube,
    smooth_polyline,
    tapered_tube,
    vertical_superellipse,
)
from MedGANSynthLib.phantoms.skeleton_v2 import paint_skeleton
from MedGANSynthLib.phantoms.thorax_v4 import LUNG_ROOT_MM, LUNG_TREE_V4, LUNG_TREE_V5, dome_drop
from MedGANSynthLib.phantoms.tissues import LABEL
from MedGANSynthLib.phantoms.vessel_tree import grow_tree

TRUNK_EXPONENT = 2.2  # rounded, not boxy: close to an ellipse in front
BACK_EXPONENT = 3.2  # the back flattens on the table


def build_anatomy_v2(grid: AxisGrid, subject: SubjectV2, rng: np.random.Generator, version: int = 2,
                     endometrium_mm: float | None = None, genitalia: GenitaliaState | None = None) -> Anatomy:
    """Paint every structure into a uint8 label map (ids from :mod:`tissues`); ``version`` 3 narrows women's
    waist (:data:`~MedGANSynthLib.phantoms.frame_v2.WOMEN_WAIST_NARROWING`); ``endometrium_mm`` (version 5,
    women) paints an endometrium of that thickness inside the uterus; ``genitalia`` (version 9) the external
    genitalia of those sizes."""
    fr = Frame(subject, rng, version)
    labels = np.zeros(grid.shape, dtype=np.uint8)
    marks: dict = {"fat_mm": round(fr.fat, 1), "arms": subject.arms}
    _paint_trunk_wall(labels, grid, fr)
    _paint_thighs(labels, grid, fr)
    _paint_head(labels, grid, fr, marks)
    humeri = _paint_arms(labels, grid, fr)
    _paint_back_muscles(labels, grid, fr)
    _paint_cavities(labels, grid, fr, version)
    if version >= 4:
        paint_iliac_muscles(labels, grid, fr)
    _paint_neck(labels, grid, fr, marks)
    paint_heart_and_vessels(labels, grid, fr, marks, version)
    _paint_lung_trees(labels, grid, fr, rng, marks, version)
    _paint_upper_abdomen(labels, grid, fr, rng, marks)
    _paint_pelvic_organs(labels, grid, fr, rng, marks)
    paint_bowel(labels, grid, fr, rng, marks)
    _paint_psoas(labels, grid, fr)
    if version >= 8:  # fat where CT shows it in the perineum and axillae; the skeleton, next, cuts through it
        paint_perineum(labels, grid, fr)
        paint_axillae(labels, grid, fr, humeri)
    if version >= 9 and genitalia is not None:  # in the air version 8 left between the thighs; no draw of the frame
        paint_genitalia(labels, grid, fr, genitalia)
    paint_skeleton(labels, grid, fr, marks)
    if version >= 5:  # the skeleton, painted last, cut into bowel loops: a layer of fat goes between
        keep_bowel_off_bone(labels, grid)
    if version >= 5 and endometrium_mm is not None and "uterus_centre" in marks:
        _paint_endometrium(labels, grid, marks["uterus_centre"], endometrium_mm)  # last: inside what is left
    if version >= 5:  # the muscle groups of published uptake get labels of their own; nothing else changes
        name_muscle_groups(labels, grid, fr)
    marks["trunk_z"] = [fr.shoulder_z, fr.hip_z]
    marks["vertebrae"] = {name: [round(top, 2), round(bottom, 2)] for name, (top, bottom) in fr.vertebrae.items()}
    marks["spine_y_L4"] = round(float(fr.spine_y(fr.level("L4"))), 2)
    marks["abdomen_z"] = [fr.level("L1", 0.0), fr.level("L5", 1.0)]
    return Anatomy(labels, grid, subject, marks)  # type: ignore[arg-type]


# --- body wall ------------------------------------------------------------------------------------------
def _paint_trunk_wall(labels, grid, fr: Frame) -> None:
    """Trunk from the chin to the perineum: subcutaneous fat whose thickness varies around the body, muscle
    inside it (the default of the body wall: paraspinal, abdominal wall, gluteal, shoulder girdle). The back is
    flatter than the front (supine on the table)."""
    z_lo, z_hi = fr.z(0.535), fr.z(0.105)
    zs = grid.z[(grid.z >= z_lo) & (grid.z <= z_hi)]
    if zs.size == 0:
        return
    reach_x, reach_y = float(np.max(fr.half_lat(zs))), float(np.max(fr.half_ap(zs)))
    box = grid.box((-reach_x, -reach_y, z_lo), (reach_x, reach_y, z_hi))
    if box is None:
        return
    z, y, x = (c.astype(np.float32) for c in grid.coords(box))
    a, b = fr.half_lat(z).astype(np.float32), fr.half_ap(z).astype(np.float32)
    n = np.where(y > 0, np.float32(BACK_EXPONENT), np.float32(TRUNK_EXPONENT))
    r = (np.abs(x / a) ** n + np.abs(y / b) ** n) ** (1 / n)
    inside = r <= 1.0
    distance = np.hypot(x, y)
    depth = distance * (1.0 / np.maximum(r, 1e-3) - 1.0)  # mm from the skin along the ray
    sin_angle = y / np.maximum(distance, 1e-3)
    f = fr.frac(z).astype(np.float32)
    belly = np.clip((f - 0.33) / 0.08, 0, 1) * np.clip((0.50 - f) / 0.06, 0, 1)
    buttock = np.clip((f - 0.45) / 0.03, 0, 1)
    # Thicker over the belly and flanks, thinner over the sternum; buttocks thick (†, see REFERENCE.md §6).
    factor = (1.0 + 0.6 * belly * np.clip(-sin_angle, 0, 1) + 0.25 * np.sqrt(np.clip(1 - sin_angle**2, 0, 1))
              + 0.5 * buttock * np.clip(sin_angle, 0, 1))
    fat_mm = fr.fat_at(z).astype(np.float32) * factor
    fat = depth < fat_mm
    # Abdomen: a muscular wall (rectus in front, obliques at the sides, latissimus/QL behind, †) around deep
    # retroperitoneal fat; the paraspinal muscles and quadratus lumborum are painted below.
    abdomen = np.clip((f - 0.335) / 0.015, 0, 1) * np.clip((0.465 - f) / 0.015, 0, 1) > 0.5
    wall_mm = fr.s * fr.muscle * (13.0 + 5.0 * np.sqrt(np.clip(1 - sin_angle**2, 0, 1))
                                  + 5.0 * np.clip(sin_angle, 0, 1))
    deep = abdomen & (depth >= fat_mm + wall_mm)
    region = labels[box]
    region[inside & fat] = LABEL["subcutaneous_fat"]
    region[inside & ~fat & ~deep] = LABEL["muscle"]
    region[inside & deep] = LABEL["visceral_fat"]
    if fr.subject.sex == "F":  # breasts: fat with a glandular core in front of pectoralis
        # Versions 1-4 paint the core as muscle; version 5 as fibroglandular tissue (breast_v5), same voxels.
        gland = LABEL["breast_gland"] if fr.version >= 5 else LABEL["muscle"]
        z_b = fr.level("T5", 0.6)
        for side in (-1, 1):
            size = (fr.subject.bmi / 23.0) ** 0.5
            centre = [side * 0.40 * fr.half_lat(z_b), -fr.half_ap(z_b) + 22, z_b]
            radius = np.array([62, 40, 52]) * size
            paint(labels, ellipsoid(grid, centre, radius), LABEL["subcutaneous_fat"], [0])
            paint(labels, ellipsoid(grid, np.add(centre, [0, -8, 0]), radius * [0.5, 0.55, 0.5]), gland,
                  [0, LABEL["subcutaneous_fat"]])


def _paint_thighs(labels, grid, fr: Frame) -> None:
    top, bottom = fr.z(0.47), grid.z[0] - 10
    for side in (-1, 1):
        centre_x, centre_y, radius = thigh_axes(fr, side)
        paint(labels, vertical_superellipse(grid, (top, bottom), centre_x, centre_y, radius,
                                            lambda z, r=radius: r(z) * 0.95, 2.1), LABEL["subcutaneous_fat"],
              [0])  # only outside the trunk: no fat ring inside the pelvis
        paint(labels, thigh_muscle_shape(grid, fr, side), LABEL["muscle"], [0, LABEL["subcutaneous_fat"]])
        # Intermuscular fat planes between the quadriceps, adductors and hamstrings (†).
        for angle in (0.6, 2.4, 4.2):
            z_mid = fr.z(0.58)
            cx = float(centre_x(np.array(z_mid)))
            r = float(radius(np.array(z_mid)))
            start = [cx, 0, fr.z(0.53)]
            end = [cx + side * 0.55 * r * np.cos(angle), 0.55 * r * np.sin(angle), fr.z(0.53)]
            for dz in (0.0, -90.0, -180.0):
                paint(labels, segment_tube(grid, np.add(start, [0, 0, dz]), np.add(end, [0, 0, dz]), 3.0),
                      LABEL["subcutaneous_fat"], [LABEL["muscle"]])


# --- head -----------------------------------------------------------------------------------------------
def _paint_head(labels, grid, fr: Frame, marks) -> None:
    """Scalp, skull (tables and diploë), brain (grey, white, ventricles, basal ganglia), cerebellum, face."""
    s = fr.s**0.3
    k = organ_radius_factor(fr, "brain")
    fat, muscle, bone = LABEL["subcutaneous_fat"], LABEL["muscle"], LABEL["cortical_bone"]
    brain_c = np.array([0.0, 8.0, -82.0 * s])
    brain_r = np.array([66.0, 82.0, 56.0]) * s * k
    cereb_c = np.array([0.0, 46.0, -128.0 * s])
    cereb_r = np.array([50.0, 30.0, 22.0]) * s * k
    chin_z = fr.z(0.130)
    eye_z = fr.z(0.064)
    paint(labels, ellipsoid(grid, [0, 6, -104 * s], np.array([80, 99, 106]) * s), fat)  # scalp
    paint(labels, ellipsoid(grid, [0, 6, -104 * s], np.array([76, 95, 102]) * s), muscle)
    paint(labels, ellipsoid(grid, [0, -38, chin_z + 62], np.array([56, 58, 66]) * s), muscle)  # face, jaw
    paint(labels, ellipsoid(grid, [0, -38, chin_z + 62], np.array([60, 62, 70]) * s), fat, [0])
    for c, r in ((brain_c, brain_r), (cereb_c, cereb_r)):
        paint(labels, ellipsoid(grid, c, r + 8), bone)  # outer table
    for c, r in ((brain_c, brain_r), (cereb_c, cereb_r)):
        paint(labels, ellipsoid(grid, c, r + 6), LABEL["cancellous_bone"])  # diploë
    for c, r in ((brain_c, brain_r), (cereb_c, cereb_r)):
        paint(labels, ellipsoid(grid, c, r + 3.5), bone)  # inner table
    for c, r in ((brain_c, brain_r), (cereb_c, cereb_r)):
        paint(labels, ellipsoid(grid, c, r + 1.5), LABEL["csf"])
    paint(labels, ellipsoid(grid, brain_c, brain_r), LABEL["grey_matter"])
    paint(labels, ellipsoid(grid, brain_c, brain_r - 7), LABEL["white_matter"])
    for side in (-1, 1):
        paint(labels, ellipsoid(grid, brain_c + [side * 20, 0, -6], [12, 22, 14]), LABEL["grey_matter"])
        paint(labels, ellipsoid(grid, brain_c + [side * 8, 4, 12], [5, 26, 8]), LABEL["csf"])
        # Orbits (fat) with the globes, maxillary sinuses, mandible.
        paint(labels, ellipsoid(grid, [side * 32 * s, -64 * s, eye_z], [19, 22, 17]), fat)
        paint(labels, ellipsoid(grid, [side * 32 * s, -72 * s, eye_z], [12, 12, 12]), LABEL["eye"])
        paint(labels, ellipsoid(grid, [side * 27 * s, -52 * s, eye_z - 38], [14, 17, 16]), LABEL["airway"])
        paint(labels, ellipsoid(grid, [side * 50 * fr.lat**0.3, 10, fr.z(0.098)], [14, 20, 22]), LABEL["parotid"])
        jaw = [(side * 48 * s, 0, eye_z - 40), (side * 46 * s, -5, chin_z + 14), (side * 22 * s, -58 * s, chin_z + 8),
               (0, -68 * s, chin_z + 8)]
        for shape in polyline_tube(grid, jaw, 7.0):
            paint(labels, shape, bone)
        for shape in polyline_tube(grid, jaw, 4.0):
            paint(labels, shape, LABEL["cancellous_bone"])
    paint(labels, ellipsoid(grid, [0, -52 * s, eye_z - 30], [10, 28, 22]), LABEL["airway"])  # nasal cavity
    paint(labels, ellipsoid(grid, cereb_c, cereb_r), LABEL["cerebellum"])
    paint(labels, ellipsoid(grid, [0, -50 * s, chin_z + 52], [22, 30, 13]), LABEL["cortical_bone"])  # teeth/maxilla
    paint(labels, ellipsoid(grid, [0, -40 * s, chin_z + 36], [22, 30, 13]), muscle)  # tongue
    marks["brain_centre"] = brain_c.tolist()
    if fr.version >= 4:  # the skull base closes onto C1
        marks.update(paint_skull_base(labels, grid, fr))


# --- arms -----------------------------------------------------------------------------------------------
def _paint_arms(labels, grid, fr: Frame) -> list:
    """Shoulder (deltoid over the humeral head), upper arm, forearm and hand; down along the body or up. Returns
    per side the humerus's (shoulder, elbow) where it hangs beside the axilla, None where it is raised."""
    h = fr.h
    girth = (fr.subject.bmi / 23.0) ** 0.5
    r_upper, r_elbow, r_wrist = 44 * girth * fr.s, 36 * girth * fr.s, 24 * fr.s
    arm_fat = min(3 + 0.45 * fr.fat, 25.0)
    out = SHOULDER_OUT_MM * fr.s if fr.version >= 8 else 0.0  # version 8 opens the axilla (axilla_v8)
    humeri = []
    for side in (-1, 1):
        shoulder = np.array([side * (fr.half_lat(fr.shoulder_z) - 30 + out), 8.0, fr.shoulder_z - 18])
        if fr.subject.arms == "down":
            elbow_z, wrist_z = fr.z(0.370), fr.z(0.515)
            elbow = np.array([side * (fr.half_lat(elbow_z) + r_elbow + 4), 14.0, elbow_z])
            wrist = np.array([side * (fr.half_lat(wrist_z) * 0.95 + r_wrist + 2), -20.0, wrist_z])
            tip = wrist + [side * 5, -25, -0.09 * h]
        else:  # raised: upper arms beside the head, forearms folded above it
            elbow = shoulder + [side * 55 * fr.s, 12, 0.186 * h]
            wrist = elbow + [-side * 95 * fr.s, -25, 0.10 * h]
            tip = wrist + [-side * 40, 0, 0.06 * h]
        points = [shoulder, elbow, wrist, tip]
        outer = [r_upper + 4, r_elbow, r_wrist, 14]
        for shape in tapered_tube(grid, points, outer):
            paint(labels, shape, LABEL["subcutaneous_fat"], [0])
        for shape in tapered_tube(grid, points, [max(r - arm_fat * w, 8) for r, w in zip(outer, (1, 1, .4, .2), strict=True)]):
            paint(labels, shape, LABEL["muscle"], [0, LABEL["subcutaneous_fat"]])
        paint(labels, ellipsoid(grid, shoulder + [side * 8, 0, 4], [46, 46, 52]), LABEL["subcutaneous_fat"], [0])
        paint(labels, ellipsoid(grid, shoulder + [side * 6, 0, 4], [40, 40, 46]), LABEL["muscle"],
              [0, LABEL["subcutaneous_fat"]])  # deltoid
        _paint_arm_bones(labels, grid, shoulder, elbow, wrist)
        humeri.append((shoulder, elbow) if fr.subject.arms == "down" else None)
    return humeri


def _paint_arm_bones(labels, grid, shoulder, elbow, wrist) -> None:
    bone, marrow = LABEL["cortical_bone"], LABEL["yellow_marrow"]
    paint(labels, ellipsoid(grid, shoulder, [23, 23, 23]), bone)
    paint(labels, ellipsoid(grid, shoulder, [20, 20, 20]), LABEL["cancellous_bone"])
    direction = (elbow - shoulder) / np.linalg.norm(elbow - shoulder)
    start = shoulder + 18 * direction
    paint(labels, segment_tube(grid, start, elbow, 11.0), bone)
    paint(labels, segment_tube(grid, start + 25 * direction, elbow - 20 * direction, 6.5), marrow)
    side_step = np.cross(direction, [0, 1.0, 0])
    side_step = 9 * side_step / max(np.linalg.norm(side_step), 1e-6)
    for offset in (side_step, -side_step):  # radius and ulna
        paint(labels, segment_tube(grid, elbow + offset * 0.5, wrist + offset, 6.0), bone)
        paint(labels, segment_tube(grid, elbow + offset * 0.5, wrist + offset, 3.0), marrow)


# --- cavities -------------------------------------------------------------------------------------------
def diaphragm_z(fr: Frame, x, y, z, version: int = 2) -> np.ndarray:
    """z of the diaphragm under (x, y): two domes, the right higher, deepest in the posterior recesses. Version 4
    shapes each dome to its published height above the lateral costophrenic angle
    (:data:`thorax_v4.DOME_HEIGHT_MM`)."""
    cy, a, b = fr.cage(z)
    side = np.where(x < 0, -1, 1)
    top = np.where(side < 0, fr.diaphragm_top(-1), fr.diaphragm_top(1))
    v = (y - cy) / (0.95 * b)
    if version >= 4:
        return top - dome_drop(fr, side * x, a, side) - 50.0 * fr.s * v**2 - 35.0 * fr.s * np.clip(v, 0, None)
    u = (x - side * 0.45 * a) / (0.8 * a)
    return top - 75.0 * fr.s * (u**2 + 0.7 * v**2) - 35.0 * fr.s * np.clip(v, 0, None)


def _paint_cavities(labels, grid, fr: Frame, version: int = 2) -> None:
    """Thoracic cage (lungs above the diaphragm) and abdominopelvic cavity (visceral fat below it). Version 4
    paints a narrower, rounded mediastinum: its fat then follows the great vessels, which bring their own fat
    sheaths (:func:`heart_vessels_v2.paint_heart_and_vessels`), instead of filling a box between the lungs."""
    def cy(z):
        return fr.cage(z)[0]

    def a(z):
        return fr.cage(z)[1] * fr.cavity_scale(z)[0]

    def b(z):
        return fr.cage(z)[2] * fr.cavity_scale(z)[1]

    shape = vertical_superellipse(grid, (fr.z(0.525), fr.z(0.160)), lambda z: 0 * z, cy, a, b, 2.2)
    if shape is None:
        return
    box, mask = shape
    z, y, x = grid.coords(box)
    above = z >= diaphragm_z(fr, x, y, z, version)
    region = labels[box]
    region[mask] = np.where(np.broadcast_to(above, mask.shape)[mask], LABEL["lung"], LABEL["visceral_fat"])
    # Mediastinum: a central band from the sternum to the spine, wider at the heart.
    narrow, exponent = (MEDIASTINUM_NARROWING_V4, 2.2) if version >= 4 else (1.0, 4.0)

    def width(z):
        return np.interp(fr.frac(z), [0.16, 0.19, 0.22, 0.25, 0.3], [16, 30, 38, 40, 36]) * fr.s * narrow

    paint(labels, vertical_superellipse(grid, (fr.z(0.33), fr.z(0.165)), lambda z: 4 + 0 * z,
                                        lambda z: cy(z) - b(z) * 0.15, width, lambda z: b(z) * 0.85, exponent),
          LABEL["visceral_fat"], [LABEL["lung"]])


MEDIASTINUM_NARROWING_V4 = 0.35  # † the central band's width; the vessels' fat sheaths widen it where they run


# --- neck -----------------------------------------------------------------------------------------------
def _paint_neck(labels, grid, fr: Frame, marks) -> None:
    chin, inlet = fr.z(0.125), fr.level("T1", 0.5)
    carina = fr.level("T5", 0.3)
    cy = float(fr.cage(carina)[0])
    pharynx = [(0, -12, fr.z(0.095)), (0, -10, chin)]
    # Version 4: the trachea starts below the cricoid, where the pharyngeal airway ends (head_neck_v4).
    trachea_top = airway_levels(fr)["cricoid"] if fr.version >= 4 else chin - 15
    # Version 10: the carina just in front of the oesophagus (mediastinum_v10), not ~4 cm ahead of it
    trachea = [(0, -16, trachea_top), (0, -14, inlet), (0, carina_y(fr, carina) if fr.version >= 10 else cy - 8, carina)]
    for side in (-1, 1):  # fat of the carotid spaces and posterior triangles between the neck muscles
        for centre, radii in (((side * 30, -2), (17, 14)), ((side * 45, 28), (14, 16))):
            paint(labels, vertical_superellipse(
                grid, (inlet + 10, chin - 10), lambda z, c=centre: c[0] * fr.lat ** 0.5 + 0 * z,
                lambda z, c=centre: c[1] + 0 * z, lambda z, r=radii: r[0] + 0 * z, lambda z, r=radii: r[1] + 0 * z),
                LABEL["visceral_fat"], [LABEL["muscle"]])
    thyroid_z = fr.level("C7", 0.0)
    for side in (-1, 1):
        paint(labels, ellipsoid(grid, [side * 17, -16, thyroid_z], [8, 10, 22]), LABEL["thyroid"])
    paint(labels, ellipsoid(grid, [0, -26, thyroid_z - 8], [12, 4, 7]), LABEL["thyroid"])
    if fr.version < 4:
        for shape in polyline_tube(grid, pharynx, 9.0):
            paint(labels, shape, LABEL["airway"])
    # Version 10: the lumen at its published calibre by sex (mediastinum_v10)
    wall, lumen = (trachea_wall_radius(fr), trachea_lumen_radius(fr)) if fr.version >= 10 else (10.0 * fr.s, 8.0 * fr.s)
    for shape in polyline_tube(grid, trachea, wall):
        paint(labels, shape, LABEL["muscle"])  # cartilage ring / wall
    for shape in polyline_tube(grid, trachea, lumen):
        paint(labels, shape, LABEL["airway"])
    if fr.version >= 4:
        marks.update(paint_pharyngeal_airway(labels, grid, fr, (0.0, -16.0, trachea_top, lumen)))
    for side in (-1, 1):
        if fr.version < 4:  # version 4 puts the tonsils in the oropharynx's lateral walls
            paint(labels, ellipsoid(grid, [side * 13, -8, fr.z(0.108)], [7, 7, 9]), LABEL["tonsil"])
        for offset, radius in ((24, 4.0), (36, 6.0)):  # carotid artery, jugular vein
            points = [(side * offset, 4, fr.z(0.10)), (side * offset, 0, inlet + 5)]
            paint(labels, segment_tube(grid, *points, radius), LABEL["blood"])
    marks.setdefault("pharynx", [0.0, -10.0, fr.z(0.11)])
    marks["cervical_nodes"] = [[side * 40 * fr.lat, -2.0, fr.z(f)] for side in (-1, 1) for f in (0.125, 0.15)]
    marks["carina"] = [0.0, float(trachea[-1][1]), carina]
    marks["trachea"] = [list(map(float, point)) for point in trachea]


# --- lung trees -----------------------------------------------------------------------------------------
def _paint_lung_trees(labels, grid, fr: Frame, rng, marks, version: int = 2) -> None:
    """Pulmonary vessels (blood) and bronchi (air in a soft-tissue wall) branching out of each hilum. Version 4
    grows tapering trees out to the lung's periphery (:func:`vessel_tree.grow_tree`) from a generator of its own,
    after drawing exactly version 3's numbers, so that every organ painted later keeps its version-3 draws."""
    if version >= 4:
        own = rng.standard_normal(V3_TREE_DRAWS)
        rng = np.random.default_rng(own[:4].view(np.uint64))
    carina = np.asarray(marks["carina"], float)
    lung = [LABEL["lung"]]
    for side, hilum in zip((-1, 1), marks["hila"], strict=True):
        hilum = np.asarray(hilum, float)
        bronchus = [carina, carina + (hilum - carina) * 0.8]
        paint(labels, segment_tube(grid, *bronchus, 7.0), LABEL["muscle"], lung + [LABEL["visceral_fat"]])
        paint(labels, segment_tube(grid, *bronchus, 5.0), LABEL["airway"])
        directions = [(side * 0.4, 0.1, 0.9), (side * 1.0, 0.0, 0.1), (side * 0.5, -0.6, -0.6), (side * 0.5, 0.6, -0.7),
                      (side * 0.6, 0.0, -0.8)]
        if version >= 5:  # the anterior segments and the lower lobe's superior segment, horizontal (thorax_v4)
            directions += [(side * 0.5, -0.9, 0.15), (side * 0.4, 0.9, 0.05)]
        for direction in directions:
            jitter = rng.normal(0.0, 0.2, 3)
            if version >= 4:
                style, root_mm = (LUNG_TREE_V5, LUNG_ROOT_MM[5]) if version >= 5 else (LUNG_TREE_V4, LUNG_ROOT_MM[4])
                grow_tree(labels, grid, rng, style, hilum, hilum, np.asarray(direction, float) + jitter,
                          root_mm * fr.s, 5.5)
            else:
                _branch(labels, grid, rng, hilum, np.asarray(direction, float) + jitter, 38.0 * fr.s, 5.5, 0, lung)


# Version 3's trees draw 10 roots × (3 jitter + 31 branchings × 6) normals; version 4 draws as many first.
V3_TREE_DRAWS = 10 * (3 + 31 * 6)


def _branch(labels, grid, rng, start, direction, length, radius, generation, lung) -> None:
    direction = direction / np.linalg.norm(direction)
    end = start + direction * length
    paint(labels, segment_tube(grid, start, end, radius), LABEL["blood"], lung)
    if generation < 2:  # a bronchus runs beside the artery in the first generations
        offset = np.cross(direction, [0, 0, 1.0]) * 0.8 * (radius + 3)
        paint(labels, segment_tube(grid, start + offset, end + offset, radius + 1.2), LABEL["muscle"], lung)
        paint(labels, segment_tube(grid, start + offset, end + offset, radius * 0.8), LABEL["airway"],
              lung + [LABEL["muscle"]])
    if generation >= 5 or radius < 1.4:
        return
    for _ in range(2):
        turn = rng.normal(0.0, 0.6, 3)
        _branch(labels, grid, rng, end, direction + turn, length * 0.8, radius * 0.74, generation + 1, lung)


# --- abdomen --------------------------------------------------------------------------------------------
def _paint_upper_abdomen(labels, grid, fr: Frame, rng, marks) -> None:
    """Pancreas, spleen and liver into the free cavity, then the kidneys in their perirenal fat (they indent the
    liver, as the renal impression does), then the stomach."""
    cavity = [LABEL["visceral_fat"]]
    top_r, top_l = fr.diaphragm_top(-1), fr.diaphragm_top(1)
    cy, a, b = (float(v) for v in fr.cage(top_r - 80))
    kp = organ_radius_factor(fr, "pancreas")
    z_p = fr.level("L1", 0.5)
    front = float(fr.spine_y(z_p) - fr.spine_half(z_p)[1])
    pancreas = smooth_polyline([(-0.28 * a, front - 34, fr.level("L2", 0.3)), (0, front - 36, z_p),
                                (0.35 * a, front - 14, fr.level("T12", 0.7)),
                                (0.58 * a, cy + 0.30 * b, fr.level("T12", 0.2))], 1)
    pancreas_r = np.interp(np.linspace(0, 1, len(pancreas)), [0, 0.3, 1], [20, 14, 12]) * kp
    for shape in tapered_tube(grid, pancreas, pancreas_r):
        paint(labels, shape, LABEL["pancreas"], cavity)
    portal = [(-0.05 * a, front - 24, z_p + 10), (-0.35 * a, cy - 0.05 * b, z_p + 50)]
    paint(labels, segment_tube(grid, *portal, MAIN_PORTAL_VEIN_RADIUS_MM if fr.version >= 5 else 7.0), LABEL["blood"])
    ks = organ_radius_factor(fr, "spleen")
    spleen_c = np.array([0.66 * a, cy + 0.38 * b, top_l - 48])
    spleen_r = np.array([24.0, 46.0, 48.0]) * ks
    paint(labels, ellipsoid(grid, spleen_c, spleen_r, rotation_matrix([0, 0, 1], -35)), LABEL["spleen"],
          cavity + [LABEL["muscle"]])
    # Liver: the dome under the right hemidiaphragm, the right lobe's tip reaching down laterally, the left
    # lobe across the midline in front of the stomach.
    kl = organ_radius_factor(fr, "liver")
    for centre, radii in (([-0.40 * a, cy + 0.05 * b, top_r - 62 * kl], [0.60 * a, 0.92 * b, 72 * kl]),
                          ([-0.62 * a, cy + 0.12 * b, top_r - 118 * kl], [0.32 * a, 0.62 * b, 58 * kl]),
                          ([0.12 * a, cy - 0.45 * b, top_r - 40 * kl], [0.44 * a, 0.40 * b, 38 * kl])):
        paint(labels, ellipsoid(grid, centre, np.asarray(radii) * [kl, kl, 1]), LABEL["liver"], cavity)
    paint(labels, ellipsoid(grid, [-0.22 * a, cy - 0.45 * b, top_r - 118 * kl], [16, 16, 34],
                            rotation_matrix([1, 0, 0], 30)), LABEL["gallbladder"], [LABEL["liver"], LABEL["visceral_fat"]])
    z_h = fr.level("T11", 0.3)
    confluence = np.array([-22.0, fr.spine_y(z_h) - fr.spine_half(z_h)[1] - 30, z_h])
    porta = np.array([-0.35 * a, cy - 0.05 * b, z_p + 50])
    if fr.version >= 5:  # trees of veins inside the liver, from a stream of their own (later organs keep their draws)
        hepatic = confluence_on_ivc(marks["ivc"], _caval_hiatus_z(fr, marks["ivc"]), fr.s)
        marks.update(paint_liver_veins(labels, grid, np.random.Generator(rng.bit_generator.jumped()), (cy, a, b),
                                       hepatic, porta))
    for start, end in () if fr.version >= 5 else (
            (confluence, (-0.75 * a, cy + 0.05 * b, top_r - 45)),  # right, middle, left hepatic veins
            (confluence, (-0.35 * a, cy - 0.7 * b, top_r - 35)),
            (confluence, (0.15 * a, cy - 0.55 * b, top_r - 35)),
            (porta, (-0.68 * a, cy + 0.25 * b, top_r - 95)),  # right and left portal branches
            (porta, (0.05 * a, cy - 0.55 * b, top_r - 55))):
        paint(labels, tapered_tube(grid, [start, end], [6.0, 2.5])[0], LABEL["blood"], [LABEL["liver"]])
    kidneys = []
    kk = organ_radius_factor(fr, "kidney")
    for side, level in ((-1, "L2"), (1, "L1")):  # right kidney lower (liver)
        zk = fr.level(level, 0.2)
        centre = np.array([side * (fr.spine_half(zk)[0] + 52), fr.spine_y(zk) + 8, zk])
        tilt = rotation_matrix([0, 1, 0], side * 14) @ rotation_matrix([0, 0, 1], -side * 30)
        radii_k = np.array([29.0, 22.0, 56.0]) * kk * fr.s**0.5
        paint(labels, ellipsoid(grid, centre, radii_k + 11, tilt), LABEL["visceral_fat"],
              [LABEL["muscle"]])  # perirenal fat (Gerota's space); the liver and spleen keep their shape
        paint(labels, ellipsoid(grid, centre, radii_k, tilt), LABEL["kidney"])
        for t in np.linspace(-0.6, 0.6, 4):  # medullary pyramids around the sinus
            pyramid = centre + tilt @ np.array([side * 0.15 * radii_k[0], 0, t * radii_k[2]])
            paint(labels, ellipsoid(grid, pyramid, radii_k * [0.45, 0.5, 0.16], tilt), LABEL["renal_medulla"],
                  [LABEL["kidney"]])
        hilum = centre + tilt @ np.array([-side * 0.45 * radii_k[0], -0.2 * radii_k[1], 0])
        paint(labels, ellipsoid(grid, hilum, [8, 7, 16], tilt), LABEL["urine"])  # renal pelvis
        kidneys.append({"centre": centre.tolist(), "pelvis": hilum.tolist()})
    # Stomach: fundus under the left dome, body down and forward, antrum across to the pylorus.
    stomach = smooth_polyline([(0.42 * a, cy + 0.15 * b, top_l - 28), (0.48 * a, cy - 0.25 * b, top_l - 85),
                               (0.22 * a, cy - 0.60 * b, top_l - 125), (-0.18 * a, cy - 0.45 * b, top_l - 120)], 2)
    radii = np.interp(np.linspace(0, 1, len(stomach)), [0, 0.4, 1], [36, 30, 14])
    for shape in tapered_tube(grid, stomach, radii):
        paint(labels, shape, LABEL["stomach"], cavity)
    for shape in tapered_tube(grid, stomach, radii - 5):
        paint(labels, shape, LABEL["bowel_content"], [LABEL["stomach"]])
    _gas_above(labels, grid, stomach, radii, LABEL["bowel_content"], 0.3)
    marks.update(
        liver_centre=[-0.36 * a, cy, top_r - 62 * kl], spleen_centre=spleen_c.tolist(), spleen_radii=spleen_r.tolist(),
        kidneys=kidneys,
        para_aortic_nodes=[[side * 32.0, fr.spine_y(fr.level(lv)) - fr.spine_half(fr.level(lv))[1] - 14, fr.level(lv)]
                           for side in (-1, 1) for lv in ("L1", "L3")],
        inguinal_nodes=[[side * 85.0 * fr.hip, -fr.half_ap(fr.z(0.525)) + fr.fat_at(fr.z(0.525)) + 28, fr.z(0.525)]
                        for side in (-1, 1)],
    )


def _caval_hiatus_z(fr: Frame, ivc) -> float:
    """z where the IVC's axis passes through the diaphragm (the first point of the axis, going down from the right
    atrium, that lies below the dome)."""
    ivc = np.asarray(ivc, float)
    for upper, lower in zip(ivc[:-1], ivc[1:], strict=True):
        if lower[2] < diaphragm_z(fr, lower[0], lower[1], lower[2], fr.version):
            t = np.linspace(0.0, 1.0, 21)[:, None]
            points = upper + t * (lower - upper)
            below = points[:, 2] < diaphragm_z(fr, points[:, 0], points[:, 1], points[:, 2], fr.version)
            return float(points[int(np.argmax(below)), 2])
    return float(ivc[-1, 2])


def _gas_above(labels, grid, points, radii, content, share) -> None:
    """Turn the anterior (non-dependent, supine) ``share`` of a hollow organ's content into gas."""
    low = np.min(points, axis=0) - np.max(radii)
    high = np.max(points, axis=0) + np.max(radii)
    box = grid.box(low, high)
    if box is None:
        return
    region = labels[box]
    inside = region == content
    if not inside.any():
        return
    ys = np.broadcast_to(grid.coords(box)[1], region.shape)[inside]
    level = np.quantile(ys, share)
    region[inside & (grid.coords(box)[1] < level)] = LABEL["bowel_gas"]


def _paint_pelvic_organs(labels, grid, fr: Frame, rng, marks) -> None:
    """Bladder (filling per subject, wall 3 mm), prostate or uterus, ureters from the renal pelves (filled with
    urine in stretches only: peristalsis)."""
    volume_mm3 = fr.subject.bladder_ml * 1000.0
    shape_ratio = np.array([1.2, 0.95, 0.85])
    r = (3 * volume_mm3 / (4 * np.pi * np.prod(shape_ratio))) ** (1 / 3) * shape_ratio
    z_floor = fr.z(0.505)
    front = -fr.half_ap(z_floor) + fr.fat_at(z_floor) + 16
    bladder_c = np.array([0.0, front + r[1] + 4, z_floor + r[2]])
    paint(labels, ellipsoid(grid, bladder_c, r + 3), LABEL["muscle"], [LABEL["visceral_fat"], LABEL["muscle"]])
    paint(labels, ellipsoid(grid, bladder_c, r), LABEL["urine"])
    if fr.subject.sex == "M":
        paint(labels, ellipsoid(grid, [0, bladder_c[1] + 5, z_floor - 14], [21, 16, 17]), LABEL["prostate"])
    else:
        uterus = np.array([0, bladder_c[1] + r[1] + 22, z_floor + r[2] * 1.6 + 20])
        if fr.version >= 4:  # a full bladder lifts it onto the bladder dome, in front of the sacrum and rectum
            uterus[1] = min(uterus[1], sacrum_front_y(fr, uterus[2]) - 20 - 25)
        paint(labels, ellipsoid(grid, uterus, UTERUS_RADII_MM), LABEL["uterus"], [LABEL["visceral_fat"]])
        if fr.version >= 5:  # where the endometrium goes once every organ is painted
            marks["uterus_centre"] = uterus.tolist()
    for side, kidney in zip((-1, 1), marks["kidneys"], strict=True):
        z4 = fr.level("L4", 0.5)
        ureter = smooth_polyline([kidney["pelvis"], (side * (fr.spine_half(z4)[0] + 22), fr.spine_y(z4) - 26, z4),
                                  (side * 55 * fr.hip, bladder_c[1] + 25, fr.z(0.47)),
                                  (side * r[0] * 0.5, bladder_c[1] + r[1] * 0.6, bladder_c[2] - r[2] * 0.4)], 2)
        filled = rng.random(len(ureter)) < 0.4
        for shape, full in zip(polyline_tube(grid, ureter, 2.0), filled[:-1], strict=True):
            paint(labels, shape, LABEL["urine"] if full else LABEL["muscle"], [LABEL["visceral_fat"], LABEL["muscle"]])
    marks["bladder_ml"] = fr.subject.bladder_ml
    marks["bladder_centre"] = bladder_c.tolist()


UTERUS_RADII_MM = (28.0, 20.0, 40.0)  # x, y, z
ENDOMETRIUM_SHARE_OF_UTERUS = (0.55, 0.65)  # cavity's half-width and half-length over the uterus's (x, z) †


def _paint_endometrium(labels, grid, uterus_centre, thickness_mm: float) -> None:
    """The endometrium: a thin layer across the uterus's centre (front-to-back thickness ``thickness_mm``, both
    layers as ultrasound measures it), over the middle of its width and length †, in the uterus's interior only
    (where bowel painted later cut into the uterus, a wall of uterus is kept). A layer thinner than the grid's rows
    keeps one row, so that it exists on every grid (partial volume would spread it so)."""
    row = float(abs(grid.y[1] - grid.y[0])) if grid.y.size > 1 else thickness_mm
    half_thickness = max(0.5 * thickness_mm, 0.5 * row + 1e-3)
    radii = [UTERUS_RADII_MM[0] * ENDOMETRIUM_SHARE_OF_UTERUS[0], half_thickness,
             UTERUS_RADII_MM[2] * ENDOMETRIUM_SHARE_OF_UTERUS[1]]
    shape = ellipsoid(grid, uterus_centre, radii)
    if shape is None:
        return
    box, mask = shape
    padded = tuple(slice(max(b.start - 1, 0), b.stop + 1) for b in box)
    interior = ndimage.binary_erosion(labels[padded] == LABEL["uterus"])
    inner = tuple(slice(b.start - p.start, b.stop - p.start) for b, p in zip(box, padded, strict=True))
    region = labels[box]
    region[mask & interior[inner]] = LABEL["endometrium"]


def _paint_back_muscles(labels, grid, fr: Frame) -> None:
    """Erector spinae beside the spinous processes and quadratus lumborum beside the transverse processes."""
    for side in (-1, 1):
        paint(labels, erector_spinae_shape(grid, fr, side), LABEL["muscle"], [LABEL["visceral_fat"]])
        paint(labels, vertical_superellipse(
            grid, (fr.level("L4", 1.0), fr.level("T12", 0.5)),
            lambda z, side=side: side * (fr.spine_half(z)[0] + 40 * fr.s) + 0 * z,
            lambda z: fr.spine_y(z) + 14 * fr.s, lambda z: 20 * fr.s * fr.muscle + 0 * z,
            lambda z: 11 * fr.s * fr.muscle + 0 * z),
            LABEL["muscle"], [LABEL["visceral_fat"]])


def _paint_psoas(labels, grid, fr: Frame) -> None:
    """Psoas major from T12/L1 along the lumbar spine to the groin, the same function on both sides."""
    for side in (-1, 1):
        paint(labels, psoas_shape(grid, fr, side), LABEL["muscle"],
              [LABEL["visceral_fat"], LABEL["muscle"], LABEL["subcutaneous_fat"], LABEL["bowel"],
               LABEL["bowel_content"], LABEL["colon"], LABEL["colon_content"]])
