"""Version-4 thorax: diaphragm domes of published height, mediastinal fat around the great vessels and nodes, and
pulmonary trees that reach the lung's periphery.

Versions 2-3 drew both domes alike (the right one below its published range) and filled the mediastinum with a
box of fat between the lungs; their vessel trees do not taper or lean towards the pleura. :mod:`anatomy_v2` and
:mod:`heart_vessels_v2` call these for version 4 only, so versions 1-3 are unchanged; they live here to keep that
file to one concept. Sources (REFERENCE.md §6): dome heights above the lateral costophrenic angle [Alghamdi-IJBM-2021];
intrathoracic fat of -50 to -250 HU around the vessels, airways and nodes [Stojanovska-2017]; a child branch's
radius by Murray's law for a symmetric fork. Sheath and pad thicknesses, the apex position and the tree's length
ratio and generations are †.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from scipy import ndimage

from MedGANSynthLib.phantoms.frame_v2 import Frame
from MedGANSynthLib.phantoms.mediastinum_v10 import aorta_radii, trachea_wall_radius
from MedGANSynthLib.phantoms.shapes import (
    ellipsoid,
    paint,
    polyline_tube,
    smooth_polyline,
)
from MedGANSynthLib.phantoms.tissues import LABEL
from MedGANSynthLib.phantoms.vessel_tree import TreeStyle

# Dome apex above the lateral costophrenic angle, right / left, mm (Alghamdi, Int J Biomed 2021: 51.3 ± 10.6 and
# 38.4 ± 9.2 on 45 PA radiographs); the apex over the midclavicular line, 0.45 of the cage's half width out (†).
DOME_HEIGHT_MM = {-1: 51.3, 1: 38.4}
DOME_APEX_OUT = 0.45


def dome_drop(fr: Frame, outward, a, side) -> np.ndarray:
    """How far the dome falls below its apex at ``outward`` mm from the midline: steeply into the lateral
    costophrenic recess (the full dome height at the rib cage), gently towards the heart."""
    height = np.where(side < 0, DOME_HEIGHT_MM[-1], DOME_HEIGHT_MM[1]) * fr.s
    t = (outward - DOME_APEX_OUT * a) / np.where(outward > DOME_APEX_OUT * a, (1 - DOME_APEX_OUT) * a,
                                                  DOME_APEX_OUT * a)
    return height * np.where(t > 0, np.abs(t) ** 2.5, 0.4 * t**2)


# Version 4, mediastinum (REFERENCE.md §6): fat (-50 to -250 HU on CT) surrounds the great vessels, airways,
# oesophagus and nodes; the thickness of the sheaths and pads is †.
FAT_SHEATH_MM = 4.0
NODE_FAT_PAD_MM = (17.0, 17.0, 21.0)  # x, y, z: nodes lie along the vessels and airways
NODE_SEARCH_MM = 16.0  # a station's node is moved at most this far, to where its pad is fattest


def paint_mediastinal_fat(labels, grid, fr: Frame, marks, aorta, vessel_segments, svc_top) -> None:
    """The arch's three branches and the brachiocephalic veins, then a fat sheath around every mediastinal
    structure and a fat pad at every nodal station, both painted into lung only: the lung's edge follows the
    vessels, and nodes lie in fat as on CT."""
    blood, fat, lung = LABEL["blood"], LABEL["visceral_fat"], LABEL["lung"]
    inlet, arch_z = fr.level("T1", 0.5), fr.level("T4", 0.0)
    cy = float(fr.cage(arch_z)[0])
    # the arch's crest; version 10's lies in front of the trachea (mediastinum_v10): its branches start there
    top = np.asarray(aorta[int(np.argmax(aorta[:, 2]))], float) if fr.version >= 10 else np.array([2.0, cy - 10, arch_z + 8])
    branches = (  # (path, radius): brachiocephalic trunk and right common carotid, left common carotid, left subclavian
        ([top + [-6, -2, 0], (-14, cy - 14, arch_z + 40), (-24, 0, inlet + 5)], 6.5),
        ([top + [4, 0, 0], (18, cy - 8, arch_z + 35), (24, 0, inlet + 5)], 4.5),
        ([top + [14, 8, -4], (30, cy, arch_z + 30), (46, 8, inlet)], 5.5),
    )
    veins = (  # left brachiocephalic vein crosses in front of the branches; the right one runs down to the SVC
        ([(40, -8, inlet), (10, cy - 24, arch_z + 22), svc_top], 6.5),
        ([(-36, 0, inlet + 5), svc_top], 7.5),
    )
    tubes = [(smooth_polyline(path, 1), radius) for path, radius in branches + veins]
    for path, radius in tubes:
        for shape in polyline_tube(grid, path, radius * fr.s):
            paint(labels, shape, blood, [lung, fat, LABEL["muscle"]])
    thoracic = aorta[aorta[:, 2] > fr.level("T11")]
    carina = np.asarray(marks["carina"], float)
    trachea = np.array([(0.0, -14.0, inlet), carina])
    # version 10's wider aorta and men's trachea (mediastinum_v10) keep the same sheath of fat outside them
    aorta_radius, trachea_radius = ((aorta_radii(fr)[0] / fr.s, trachea_wall_radius(fr) / fr.s)
                                    if fr.version >= 10 else (14.0, 10.0))
    sheathed = ([(thoracic, aorta_radius), (trachea, trachea_radius), (np.asarray(marks["oesophagus"])[1:5], 8.0)]
                + [(np.array(segment), 12.0) for segment in vessel_segments] + tubes)
    for path, radius in sheathed:
        for shape in polyline_tube(grid, path, radius * fr.s + FAT_SHEATH_MM):
            paint(labels, shape, fat, [lung])
    for node in marks["mediastinal_nodes"]:
        paint(labels, ellipsoid(grid, node, np.multiply(NODE_FAT_PAD_MM, fr.s)), fat, [lung])
    marks["mediastinal_nodes"] = [fattest_point_near(labels, grid, node) for node in marks["mediastinal_nodes"]]


def fattest_point_near(labels, grid, point) -> list[float]:
    """The point within :data:`NODE_SEARCH_MM` of ``point`` whose surroundings (a node's size) hold the most
    fat, nearest first: nodes lie in the fat of their station, not in a vessel or the lung beside it."""
    box = grid.box(np.subtract(point, NODE_SEARCH_MM), np.add(point, NODE_SEARCH_MM))
    if box is None:
        return list(map(float, point))
    step = abs(float(grid.z[1] - grid.z[0]))
    fat = ndimage.uniform_filter((labels[box] == LABEL["visceral_fat"]).astype(np.float32),
                                 size=max(int(round(16.0 / step)) | 1, 3), mode="constant")
    z, y, x = grid.coords(box)
    distance = np.sqrt((x - point[0]) ** 2 + (y - point[1]) ** 2 + (z - point[2]) ** 2)
    score = np.where(distance <= NODE_SEARCH_MM, fat - 0.01 * distance, -np.inf)  # 1 % fat per mm moved
    k, j, i = np.unravel_index(int(np.argmax(score)), score.shape)
    return [float(x[0, 0, i]), float(y[0, j, 0]), float(z[k, 0, 0])]


# Version 4 trees (grown by :func:`vessel_tree.grow_tree`): a child's radius is its parent's / 2^(1/3) (Murray's law
# for a symmetric fork, †) and 0.72 of its length; each segment tapers by 10 %; the branches lean away from the
# hilum, so they reach the pleura; bronchi beside the first two generations.
LUNG_TREE_V4 = TreeStyle(paint_into=(LABEL["lung"],),
                         grows_through=(LABEL["lung"], LABEL["blood"], LABEL["visceral_fat"], LABEL["airway"]),
                         generations=7, length_ratio=0.72, bronchus_generations=2)
# Version 5 (REFERENCE.md "Version 5: liver and lung vessels"): on CT the vessels reach to within 1-2 cm of the
# pleura; version 4's trees (7 generations, a 34 mm first segment, 0.72 x length) left the subpleural lung 2-3 cm
# from any vessel. Version 5 starts with a 22 mm segment and grows 9 generations of 0.85 x length, never thinner
# than 1 mm radius (2 mm vessels stay visible on 2 mm voxels), from 7 roots per hilum (anatomy_v2: the anterior
# segments and the lower lobe's superior segment added). Lengths, ratios and roots are † (chosen so that the median
# subpleural lung lies within 2 cm of a vessel and vessels take 1.6-5.1 % of the lung, test_phantoms_v5_vessels.py).
LUNG_TREE_V5 = replace(LUNG_TREE_V4, generations=9, length_ratio=0.85, min_radius=1.0)
LUNG_ROOT_MM = {4: 34.0, 5: 22.0}  # the first segment's length (reference stature)
