"""Version 8: an axillary fat pad on each side, where the axillary nodes lie.

In versions 2-7 the humerus runs down against the ribs and the space between them is muscle, so the axillary node
station (heart_vessels_v2, level T3) finds only thin subcutaneous fat. The axilla is a pyramid of fat holding the
axillary vessels and nodes, between pectoralis in front, subscapularis and latissimus behind, serratus anterior on
the chest wall and the humerus laterally (REFERENCE.md, "Version 8: perineum and axilla"). Version 8 puts the
shoulder joint :data:`SHOULDER_OUT_MM` further out (the phantom's shoulders were narrow, and the humerus lay on the
ribs) and fills the space between the chest wall and the arm with fat: from the ribs' outer surface plus serratus
out to the humerus less the coracobrachialis (arms down) or to the skin's fat (arms raised: the axilla opens).

Painted before the skeleton, so ribs and humerus overwrite it; only muscle becomes fat. No random draw.
"""

from __future__ import annotations

import numpy as np

from MedGANSynthLib.phantoms.frame_v2 import Frame
from MedGANSynthLib.phantoms.shapes import AxisGrid, ellipsoid
from MedGANSynthLib.phantoms.tissues import LABEL

SHOULDER_OUT_MM = 45.0  # shoulder joint moved out (reference man; scaled): see REFERENCE.md, version 8
RIB_RING_OFFSET_MM, RIB_RADIUS_MM = 7.0, 5.5  # skeleton_v2's ribs (as muscle_groups_v5 reads them)
SERRATUS_MM = 6.0  # serratus anterior on the ribs: the pad's medial wall (†)
HUMERUS_CLEARANCE_MM = 11.0 + 3.0  # humeral shaft radius (anatomy_v2) + its periosteum and the thin coracobrachialis (†)
PAD_HALF_MM = (60.0, 35.0, 55.0)  # reach out from the chest wall, half depth front-back, half height (†)
PAD_BELOW_T3_MM = 15.0  # the pad's centre, a little below the node station: the axilla widens downwards (†)


def paint_axillae(labels: np.ndarray, grid: AxisGrid, fr: Frame, humeri) -> None:
    """A fat pad in each axilla; ``humeri`` holds per side (-1, 1) the humerus's (shoulder, elbow) points, or
    None where the arm is raised above the axilla."""
    for side, humerus in zip((-1, 1), humeri, strict=True):
        _paint_pad(labels, grid, fr, side, humerus)


def _paint_pad(labels, grid, fr: Frame, side: int, humerus) -> None:
    z_c = fr.level("T3") - PAD_BELOW_T3_MM * fr.s
    wall = _chest_wall_x(fr, np.array(z_c))
    half = np.array(PAD_HALF_MM) * fr.s
    centre = [side * wall, 5.0, z_c]  # the wall cuts the inner half away
    shape = ellipsoid(grid, centre, half)
    if shape is None:
        return
    box, mask = shape
    z, y, x = grid.coords(box)
    keep = mask & (side * x >= _chest_wall_x(fr, z, y)) & (labels[box] == LABEL["muscle"])
    if humerus is not None:  # medial to the humerus, clear of the muscle sleeve on the bone
        shoulder, elbow = (np.asarray(p, float) for p in humerus)
        t = np.clip((z - shoulder[2]) / (elbow[2] - shoulder[2]), 0.0, 1.0)
        axis_x, axis_y = (shoulder[k] + t * (elbow[k] - shoulder[k]) for k in (0, 1))
        keep &= (side * x <= side * axis_x) & (np.hypot(x - axis_x, y - axis_y) > HUMERUS_CLEARANCE_MM)
    labels[box][keep] = LABEL["subcutaneous_fat"]


def _chest_wall_x(fr: Frame, z, y=None):
    """|x| of the chest wall's outer surface (ribs plus serratus) at height z, at row y (default: its widest)."""
    cy, a, b = fr.cage(z)
    lat, ap = fr.cavity_scale(z)
    ring_a, ring_b = a * lat + RIB_RING_OFFSET_MM, b * ap + RIB_RING_OFFSET_MM
    across = 1.0 if y is None else np.sqrt(np.clip(1.0 - ((y - cy) / ring_b) ** 2, 0.0, 1.0))
    return ring_a * across + (RIB_RADIUS_MM * fr.s + SERRATUS_MM)
