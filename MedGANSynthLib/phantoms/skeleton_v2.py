"""Version-2 skeleton: vertebrae, ribs as arcs, sternum, clavicles, scapulae, pelvis and femora.

Every bone is a cortical shell around cancellous (red) marrow; long-bone shafts hold fatty (yellow) marrow, as
in adults. Bones are painted last and overwrite whatever lies there. Vertebral body sizes grow from cervical to
lumbar (REFERENCE.md §6 †); ribs follow the inner surface of the thoracic cage from their vertebra, falling
towards their anterior ends, the upper seven joining the sternum through costal cartilage.
"""

from __future__ import annotations

import numpy as np

from MedGANSynthLib.phantoms.frame_v2 import Frame
from MedGANSynthLib.phantoms.pelvis_v4 import paint_pelvis
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

BONE, MARROW, YELLOW = LABEL["cortical_bone"], LABEL["cancellous_bone"], LABEL["yellow_marrow"]


def paint_skeleton(labels, grid: AxisGrid, fr: Frame, marks: dict) -> None:
    _paint_vertebrae(labels, grid, fr)
    _paint_ribs_and_sternum(labels, grid, fr)
    _paint_shoulder_girdle(labels, grid, fr)
    if fr.version >= 4:  # one jointed pelvis (:mod:`pelvis_v4`) instead of version 2's separate pieces
        pelvis = paint_pelvis(labels, grid, fr)
        for side in (-1, 1):
            head = np.array([side * pelvis["head_half"], pelvis["head_y"], pelvis["head_z"]])
            _paint_femur(labels, grid, fr, side, head, pelvis["head_r"])
    else:
        _paint_pelvis_and_femora(labels, grid, fr)


def _bone_tube(labels, grid, points, radius, cortex=2.5, marrow=MARROW) -> None:
    for shape in polyline_tube(grid, points, radius):
        paint(labels, shape, BONE)
    if radius - cortex > 0.8:
        for shape in polyline_tube(grid, points, radius - cortex):
            paint(labels, shape, marrow)


def _slab(grid, z_range, centre_y, half_x, half_y, exponent=2.0):
    """A vertical stack of identical superellipses centred on x = 0."""
    return vertical_superellipse(grid, z_range, lambda z: 0 * z, lambda z: centre_y + 0 * z,
                                 lambda z: half_x + 0 * z, lambda z: half_y + 0 * z, exponent)


def _paint_vertebrae(labels, grid, fr: Frame) -> None:
    """Body (shell + marrow) above its disc, canal with CSF, pedicles/lamina ring, spinous and transverse processes."""
    for name, (top, bottom) in fr.vertebrae.items():
        lumbar = name.startswith("L")
        disc_share = 0.22 if lumbar else 0.18
        body_bottom = top + (1 - disc_share) * (bottom - top)
        zc = 0.5 * (top + body_bottom)
        w, d = (float(v) for v in fr.spine_half(zc))
        yc = float(fr.spine_y(zc))
        paint(labels, _slab(grid, (body_bottom, top), yc, w, d, 2.2), BONE)
        paint(labels, _slab(grid, (body_bottom + 1.5, top - 1.5), yc, w - 2.2, d - 2.2, 2.2), MARROW)
        paint(labels, _slab(grid, (bottom, body_bottom), yc, w - 1, d - 1, 2.2), LABEL["disc"])
        canal_y = yc + d + 9 * fr.s
        paint(labels, _slab(grid, (body_bottom, top), canal_y, 14 * fr.s, 12 * fr.s), BONE)  # pedicles, lamina
        paint(labels, _slab(grid, (body_bottom, top), canal_y, 8 * fr.s, 7 * fr.s), LABEL["csf"])
        spinous_len = (18 if name.startswith("C") else 20 if name.startswith("T") else 20) * fr.s
        tip = (0, canal_y + 12 * fr.s + spinous_len, zc - (14 if name.startswith("T") else 4) * fr.s)
        _bone_tube(labels, grid, [(0, canal_y + 10 * fr.s, zc), tip], 4.5)
        span = (24 if name.startswith("C") else 30 if name.startswith("T") else 38) * fr.s
        for side in (-1, 1):
            _bone_tube(labels, grid, [(side * 8 * fr.s, canal_y, zc), (side * span, canal_y + 6, zc)], 4.5)
    if fr.version >= 4:
        return  # the sacrum is part of the version-4 pelvis
    sacrum_c = np.array([0.0, fr.spine_y(fr.z(0.46)) + 8, fr.z(0.462)])
    tilt = rotation_matrix([1, 0, 0], -28)
    paint(labels, ellipsoid(grid, sacrum_c, np.array([48, 16, 46]) * fr.s * [fr.hip, 1, 1], tilt), BONE)
    paint(labels, ellipsoid(grid, sacrum_c, (np.array([48, 16, 46]) * fr.s * [fr.hip, 1, 1]) - 3, tilt), MARROW)
    paint(labels, ellipsoid(grid, sacrum_c + [0, 8, 0], np.array([7, 5, 40]) * fr.s, tilt), LABEL["csf"])


def _rib_points(fr: Frame, number: int, side: int) -> tuple[np.ndarray, np.ndarray]:
    """Centre line of rib ``number`` (1-12) on one side, and of its costal cartilage (empty for 11-12)."""
    z0 = fr.level(f"T{number}", 0.3)
    end = {1: 0.93, 2: 0.93, 3: 0.92, 4: 0.9, 5: 0.88, 6: 0.86, 7: 0.84, 8: 0.80, 9: 0.76, 10: 0.70, 11: 0.52, 12: 0.40}
    drop = np.interp(number, [1, 3, 7, 10, 12], [28, 55, 80, 90, 40]) * fr.s
    theta = np.linspace(0.16, end[number], 14) * np.pi
    zs = z0 + 10 - drop * (1 - np.cos(theta * 0.95)) / 2 + 12 * np.sin(theta) ** 2 * 0
    cy, a, b = (np.asarray(v, float) for v in fr.cage(zs))
    lat, ap = fr.cavity_scale(zs)
    ring_a, ring_b = a * lat + 7, b * ap + 7
    points = np.column_stack([side * ring_a * np.sin(theta), cy + ring_b * np.cos(theta), zs])
    cartilage = np.empty((0, 3))
    if number <= 10:
        target_theta = 0.985 * np.pi if number <= 7 else end[number] * np.pi + 0.12
        t = np.linspace(theta[-1], target_theta, 4)
        zc = np.linspace(zs[-1], zs[-1] + (8 if number <= 7 else -6), 4)
        cy_c, a_c, b_c = (np.asarray(v, float) for v in fr.cage(zc))
        lat_c, ap_c = fr.cavity_scale(zc)
        cartilage = np.column_stack([side * (a_c * lat_c + 7) * np.sin(t), cy_c + (b_c * ap_c + 7) * np.cos(t), zc])
    return points, cartilage


def _paint_ribs_and_sternum(labels, grid, fr: Frame) -> None:
    for number in range(1, 13):
        for side in (-1, 1):
            points, cartilage = _rib_points(fr, number, side)
            radius = (4.5 if number in (1, 12) else 5.5) * fr.s
            if len(cartilage):
                for shape in polyline_tube(grid, cartilage, radius):
                    paint(labels, shape, LABEL["disc"])  # costal cartilage: fibro-/hyaline cartilage density
            _bone_tube(labels, grid, points, radius, cortex=2.0)
    top, bottom = fr.level("T2", 0.4), fr.level("T9", 0.5)
    def front(z):
        cy, _, b = fr.cage(z)
        return cy - b - 4

    paint(labels, vertical_superellipse(grid, (bottom, top), lambda z: 0 * z, front,
                                        lambda z: np.interp(fr.frac(z), [fr.frac(top), fr.frac(bottom)], [26, 14]),
                                        lambda z: 7 + 0 * z, 2.5), BONE)
    paint(labels, vertical_superellipse(grid, (bottom + 3, top - 3), lambda z: 0 * z, front,
                                        lambda z: np.interp(fr.frac(z), [fr.frac(top), fr.frac(bottom)], [23, 11]),
                                        lambda z: 4.5 + 0 * z, 2.5), MARROW)


def _paint_shoulder_girdle(labels, grid, fr: Frame) -> None:
    """Clavicles from the manubrium to the acromion; scapulae as thin plates on the back of the chest wall."""
    notch_z = fr.level("T2", 0.2)
    cy, _, b = fr.cage(notch_z)
    for side in (-1, 1):
        acromion = (side * (fr.half_lat(fr.shoulder_z) - 22), 10.0, fr.shoulder_z - 4)
        medial = (side * 22, float(cy - b - 2), notch_z + 6)
        middle = (side * 0.55 * abs(acromion[0]), float(cy - b - 14), notch_z + 14)
        _bone_tube(labels, grid, [medial, middle, acromion], 7.5 * fr.s)
        z_s = fr.level("T4", 0.5)
        back = fr.cage(z_s)[0] + fr.cage(z_s)[2] + 17  # outside the ribs, under the back muscles
        if fr.subject.arms == "up":  # the scapula rotates up and out when the arm is raised
            centre = [side * 0.62 * fr.half_lat(z_s), back - 6, z_s + 25]
            spin = rotation_matrix([0, 1, 0], side * 35)
        else:
            centre = [side * 0.52 * fr.half_lat(z_s), back, z_s]
            spin = np.eye(3)
        plate = rotation_matrix([0, 0, 1], -side * 28) @ spin  # lateral edge curves forward
        radii = np.array([52, 4.5, 70]) * fr.s
        paint(labels, ellipsoid(grid, centre, radii, plate), BONE)
        paint(labels, ellipsoid(grid, centre, radii * [0.85, 0.45, 0.85], plate), MARROW)


def _paint_pelvis_and_femora(labels, grid, fr: Frame) -> None:
    z = fr.z
    hip = fr.hip * fr.s
    for side in (-1, 1):
        wing = rotation_matrix([0, 0, 1], side * 38) @ rotation_matrix([0, 1, 0], -side * 12)  # open forwards
        centre = np.array([side * 90 * hip, fr.spine_y(z(0.44)) - 5, z(0.445)])
        radii = np.array([8.5, 62, 52]) * fr.s
        paint(labels, ellipsoid(grid, centre, radii, wing), BONE)
        paint(labels, ellipsoid(grid, centre, radii - [3.5, 3, 3], wing), MARROW)
        head = np.array([side * 86 * hip, 2.0, z(0.488)])
        trochanter = np.array([side * 122 * hip, 14.0, z(0.498)])
        knee_way = np.array([side * 96 * hip, 8.0, z(0.72)])
        paint(labels, ellipsoid(grid, head + [side * 6, 0, 8], [30, 30, 28]), BONE)  # acetabulum
        paint(labels, ellipsoid(grid, head + [side * 6, 0, 8], [26, 26, 24]), MARROW)
        paint(labels, ellipsoid(grid, head, [24, 24, 24]), BONE)
        paint(labels, ellipsoid(grid, head, [21.5, 21.5, 21.5]), MARROW)
        _bone_tube(labels, grid, [head, trochanter], 16)
        paint(labels, ellipsoid(grid, trochanter, [17, 20, 24]), BONE)
        paint(labels, ellipsoid(grid, trochanter, [14, 17, 21]), MARROW)
        shaft_top = trochanter + [-side * 8, 0, -30]
        paint(labels, segment_tube(grid, trochanter + [-side * 6, 0, -10], knee_way, 14), BONE)
        paint(labels, segment_tube(grid, shaft_top, knee_way, 8), YELLOW)
        symphysis = np.array([side * 8, -fr.half_ap(z(0.505)) + fr.fat_at(z(0.505)) + 22, z(0.505)])
        tuberosity = np.array([side * 55 * hip, 38.0, z(0.522)])
        _bone_tube(labels, grid, [head + [side * 10, -12, 0], symphysis], 9, cortex=2.5)  # pubic ramus
        _bone_tube(labels, grid, [head + [side * 8, 15, -5], tuberosity, symphysis + [side * 14, 10, -14]], 9)


def _paint_femur(labels, grid, fr: Frame, side: int, head, head_r: float) -> None:
    """Version 4: femoral head in its acetabulum, neck, greater trochanter and shaft (yellow marrow), placed as
    version 2's femur relative to the head."""
    z = fr.z
    hip = fr.hip * fr.s
    trochanter = head + [side * (122 * hip - abs(head[0])), 12.0, z(0.498) - z(0.488)]
    knee_way = np.array([side * 96 * hip, 8.0, z(0.72)])
    paint(labels, ellipsoid(grid, head, [head_r] * 3), BONE)
    paint(labels, ellipsoid(grid, head, [head_r - 2.5] * 3), MARROW)
    _bone_tube(labels, grid, [head, trochanter], 16 * fr.s)
    paint(labels, ellipsoid(grid, trochanter, [17, 20, 24]), BONE)
    paint(labels, ellipsoid(grid, trochanter, [14, 17, 21]), MARROW)
    shaft_top = trochanter + [-side * 8, 0, -30]
    paint(labels, segment_tube(grid, trochanter + [-side * 6, 0, -10], knee_way, 14), BONE)
    paint(labels, segment_tube(grid, shaft_top, knee_way, 8), YELLOW)
