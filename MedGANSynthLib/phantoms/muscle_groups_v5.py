"""Version-5 skeletal muscle groups: the muscle that version 4 paints as one label, split into the groups whose FDG
uptake Goncalves et al. (Acad Radiol 2017, Table 1) measured apart.

A pass over the finished label map: only voxels labelled ``muscle`` change, into the group whose region holds them,
so the anatomy (every boundary, every other label, the muscle volume) stays version 4's voxel for voxel. Each region
is the solid that :mod:`anatomy_v2` paints the muscle with where one exists (:mod:`muscle_shapes_v2`: erector
spinae, psoas, thighs below the trunk), else a
part of the body wall located from the frame's landmarks (†: the phantom has no separate shape for them):

* gluteus maximus: the body wall behind the femoral heads, from the S1 endplate to the trunk's lower end;
* rectus abdominis: the abdominal wall in front of the cavity within 30 % of the trunk's half width of the midline;
  the rest of the abdominal wall in front of the spine (the obliques and transversus) is ``muscle_oblique``;
* intercostal: muscle within one rib radius of the ring the ribs follow (T2-T10);
* pectoralis: the anterior chest wall outside that ring, up to 8 mm beyond it (T2 to mid T7).

Muscle in none of them (neck, deltoid, latissimus and trapezius, quadratus lumborum, iliacus, tongue, the bladder's
and airways' walls) keeps the label ``muscle``. The first region that holds a voxel names it, in this order: psoas,
erector spinae, gluteus maximus, thigh, rectus abdominis, oblique, intercostal, pectoralis.
"""

from __future__ import annotations

import numpy as np

from MedGANSynthLib.phantoms.frame_v2 import Frame
from MedGANSynthLib.phantoms.muscle_shapes_v2 import erector_spinae_shape, psoas_shape, thigh_muscle_shape
from MedGANSynthLib.phantoms.pelvis_v4 import pelvis_landmarks
from MedGANSynthLib.phantoms.shapes import AxisGrid
from MedGANSynthLib.phantoms.tissues import LABEL

RECTUS_HALF_WIDTH = 0.30  # share of the trunk's half width either side of the midline (†)
RIB_RADIUS_MM = 5.5  # skeleton_v2's rib tubes (ribs 2-11)
RIB_RING_OFFSET_MM = 7.0  # skeleton_v2 lays the ribs 7 mm outside the cage's inner surface
PECTORALIS_MM = 8.0  # beyond the ribs' outer surface (†: what the phantom's anterior chest wall holds)
ABDOMEN_FRACS = (0.335, 0.465)  # anatomy_v2's muscular abdominal wall


def name_muscle_groups(labels: np.ndarray, grid: AxisGrid, fr: Frame) -> None:
    """Relabel ``muscle`` voxels by group, in place (see the module text)."""
    for name, side_shapes in (("muscle_psoas", psoas_shape), ("muscle_paraspinal", erector_spinae_shape)):
        for side in (-1, 1):
            _relabel(labels, side_shapes(grid, fr, side), LABEL[name])
    marks = pelvis_landmarks(fr)
    _name_gluteus(labels, grid, marks)
    below_hips = grid.z < marks["head_z"] - marks["head_r"]
    for side in (-1, 1):
        shape = thigh_muscle_shape(grid, fr, side)
        if shape is not None:
            box, mask = shape
            _relabel(labels, (box, mask & below_hips[box[0]][:, None, None]), LABEL["muscle_thigh"])
    _name_abdominal_wall(labels, grid, fr)
    _name_chest_wall(labels, grid, fr)


def _relabel(labels: np.ndarray, shape, label: int) -> None:
    if shape is None:
        return
    box, mask = shape
    region = labels[box]
    region[mask & (region == LABEL["muscle"])] = label


def _muscle_between(labels, grid: AxisGrid, z_low: float, z_high: float):
    """(indices, z, y, x) of the voxels still labelled ``muscle`` between two heights: the conditions below are
    evaluated on these alone (a few percent of the grid)."""
    box = grid.box((grid.x[0], grid.y[0], z_low), (grid.x[-1], grid.y[-1], z_high))
    if box is None:
        return None
    k, j, i = np.nonzero(labels[box] == LABEL["muscle"])
    k, j, i = k + box[0].start, j + box[1].start, i + box[2].start
    return (k, j, i), grid.z[k], grid.y[j], grid.x[i]


def _name(labels, voxels, where: np.ndarray, name: str) -> None:
    labels[tuple(index[where] for index in voxels)] = LABEL[name]


def _name_gluteus(labels, grid, marks: dict) -> None:
    found = _muscle_between(labels, grid, marks["tuberosity_z"], float(marks["s1"][2]))
    if found is not None:
        voxels, _, y, _ = found
        _name(labels, voxels, y > marks["head_y"], "muscle_gluteus_maximus")


def _name_abdominal_wall(labels, grid, fr: Frame) -> None:
    found = _muscle_between(labels, grid, fr.z(ABDOMEN_FRACS[1]), fr.z(ABDOMEN_FRACS[0]))
    if found is None:
        return
    voxels, z, y, x = found
    cy, a, b = fr.cage(z)
    wall = ((x / a) ** 2 + ((y - cy) / b) ** 2 > 1.0) & (y < fr.spine_y(z))  # outside the cavity, before the spine
    rectus = wall & (np.abs(x) < RECTUS_HALF_WIDTH * fr.half_lat(z)) & (y < cy)
    _name(labels, voxels, rectus, "muscle_rectus_abdominis")
    _name(labels, voxels, wall & ~rectus, "muscle_oblique")


def _name_chest_wall(labels, grid, fr: Frame) -> None:
    found = _muscle_between(labels, grid, fr.level("T10", 0.0), fr.level("T2", 0.0))
    if found is None:
        return
    voxels, z, y, x = found
    cy, a, b = fr.cage(z)
    lat, ap = fr.cavity_scale(z)
    ring_a, ring_b = a * lat + RIB_RING_OFFSET_MM, b * ap + RIB_RING_OFFSET_MM
    r = np.sqrt((x / ring_a) ** 2 + ((y - cy) / ring_b) ** 2)
    beyond_ring = np.hypot(x, y - cy) * (1.0 - 1.0 / np.maximum(r, 1e-3))  # mm outside the ring along the ray
    rib_radius = RIB_RADIUS_MM * fr.s
    intercostal = np.abs(beyond_ring) <= rib_radius
    pectoral = ((beyond_ring > rib_radius) & (beyond_ring <= rib_radius + PECTORALIS_MM) & (y < cy)
                & (np.abs(x) < 0.8 * ring_a) & (z >= fr.level("T7", 0.5)))
    _name(labels, voxels, intercostal, "muscle_intercostal")
    _name(labels, voxels, pectoral, "muscle_pectoralis")
