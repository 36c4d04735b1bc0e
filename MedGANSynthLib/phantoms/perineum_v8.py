"""Version 8: the perineum, as CT shows it at and just below the ischial tuberosities.

Versions 2-7 fill the trunk's cross-section with muscle down to 24 mm below the tuberosities, so the lower pelvis
is one block: no ischioanal fat, no cleft between the thighs or the buttocks. Here (REFERENCE.md, "Version 8:
perineum and axilla"):

* the perineal skin (anal verge) lies :data:`PERINEUM_BELOW_TUBEROSITY_MM` below the tuberosities; beneath it the
  trunk is two thighs, each inside its own ring of subcutaneous fat, with air between them in front and behind;
* above it, the natal cleft runs up the back's midline, deepening downwards to the anal canal;
* the anal canal (sphincter complex, painted ``muscle``) goes from the rectum's lower end to the verge;
* an ischioanal fossa of fat lies on each side of it, up to the levator ani, between the canal and the ischium.

Painted before the skeleton, so the ischia and femora overwrite it. No random draw: every other draw stays put.
"""

from __future__ import annotations

import numpy as np

from MedGANSynthLib.phantoms.frame_v2 import Frame
from MedGANSynthLib.phantoms.muscle_shapes_v2 import thigh_axes
from MedGANSynthLib.phantoms.pelvis_v4 import pelvis_landmarks
from MedGANSynthLib.phantoms.shapes import AxisGrid, ellipsoid, segment_tube
from MedGANSynthLib.phantoms.tissues import LABEL

PERINEUM_BELOW_TUBEROSITY_MM = 5.0  # anal verge a little below the tuberosities (†, reference man; scaled)
NATAL_CLEFT_HEIGHT_MM = 60.0  # from the verge up to where the buttocks part (†)
CLEFT_HALF_WIDTH_MM = 3.0  # buttocks lie against each other: a slit of air (†)
ANAL_CANAL_RADIUS_MM = 14.0  # canal with its sphincters, ~28 mm across (†; REFERENCE.md [Anal-sphincter-MRI])
FOSSA_HEIGHT_MM = 50.0  # verge to the apex where levator ani meets obturator internus (†)
FOSSA_HALF_LENGTH_MM = 35.0  # front to back, urogenital diaphragm to gluteus maximus (†)
OBTURATOR_MM = 10.0  # obturator internus on the ischium's inner face: the fossa's lateral wall (†)
SOFT = (LABEL["muscle"], LABEL["visceral_fat"])


def paint_perineum(labels: np.ndarray, grid: AxisGrid, fr: Frame) -> None:
    """Ischioanal fossae, anal canal, natal cleft and the thighs parted below the perineum (module text)."""
    marks = pelvis_landmarks(fr)
    verge_z = marks["tuberosity_z"] - PERINEUM_BELOW_TUBEROSITY_MM * fr.s
    top, verge = _anal_canal_ends(fr, verge_z)
    _close_rectum_end(labels, grid, top)
    for side in (-1, 1):
        _paint_fossa(labels, grid, fr, marks, side, top, verge)
    _paint_anal_canal(labels, grid, fr, top, verge)
    _paint_natal_cleft(labels, grid, fr, verge)
    _part_thighs(labels, grid, fr, verge_z)


def _anal_canal_ends(fr: Frame, verge_z: float) -> tuple[np.ndarray, np.ndarray]:
    """From the lower end of anatomy_v2's rectum down and a little back (the anorectal angle) to the verge."""
    rectum_y = float(fr.spine_y(fr.z(0.47))) - 35.0
    return np.array([0.0, rectum_y, fr.z(0.515)]), np.array([0.0, rectum_y + 10.0 * fr.s, verge_z])


def _close_rectum_end(labels, grid, top) -> None:
    """bowel_v2's rectum ends in a rounded cap (its ~22 mm radius) below its last point: below that point the bowel
    is the anorectal junction, a muscular ring (puborectalis), not an ampulla with content."""
    box = grid.box((top[0] - 40.0, top[1] - 40.0, top[2] - 40.0), (top[0] + 40.0, top[1] + 40.0, top[2]))
    if box is None:
        return
    region = labels[box]
    region[np.isin(region, (LABEL["colon"], LABEL["colon_content"]))] = LABEL["muscle"]


def _paint_anal_canal(labels, grid, fr: Frame, top, verge) -> None:
    """A collapsed muscular tube (the sphincters) from the rectum's end to the verge, over soft tissue and fat."""
    shape = segment_tube(grid, top, verge, ANAL_CANAL_RADIUS_MM * fr.s)
    if shape is None:
        return
    box, mask = shape
    region = labels[box]
    region[mask & np.isin(region, SOFT + (LABEL["subcutaneous_fat"],))] = LABEL["muscle"]


def _paint_fossa(labels, grid, fr: Frame, marks: dict, side: int, top, verge) -> None:
    """A half ellipsoid of fat standing on the verge's level, between the canal and the obturator internus;
    it narrows upwards to its apex (a wedge in coronal section). Only soft tissue becomes fat."""
    inner = ANAL_CANAL_RADIUS_MM * fr.s + 2.0  # levator ani's thin sling around the canal
    outer = marks["tuberosity_half"] - OBTURATOR_MM * fr.s
    half_width = max(0.5 * (outer - inner), 6.0)
    centre = [side * (inner + half_width), 0.5 * (top[1] + verge[1]), verge[2]]
    radii = [half_width, FOSSA_HALF_LENGTH_MM * fr.s, FOSSA_HEIGHT_MM * fr.s]
    shape = ellipsoid(grid, centre, radii)
    if shape is None:
        return
    box, mask = shape
    z = grid.coords(box)[0]
    region = labels[box]
    region[mask & (z >= verge[2]) & np.isin(region, SOFT)] = LABEL["subcutaneous_fat"]


def _paint_natal_cleft(labels, grid, fr: Frame, verge) -> None:
    """Air in the back's midline from where the buttocks part down to the verge, reaching the canal's back wall
    at the bottom; the buttocks' fat lines it (muscle within the fat's thickness of it becomes fat)."""
    z_top = verge[2] + NATAL_CLEFT_HEIGHT_MM * fr.s
    fat = float(fr.fat_at(verge[2])) * 1.5  # the buttocks' thick fat (anatomy_v2's trunk wall)
    reach = float(np.max(fr.half_ap(np.array([verge[2], z_top]))))
    box = grid.box((-CLEFT_HALF_WIDTH_MM - fat, verge[1], verge[2]), (CLEFT_HALF_WIDTH_MM + fat, reach, z_top))
    if box is None:
        return
    z, y, x = grid.coords(box)
    share = np.clip((z_top - z) / (z_top - verge[2]), 0.0, 1.0)  # 0 at the top, 1 at the verge
    back = fr.half_ap(z)
    depth = share * (back - verge[1] - ANAL_CANAL_RADIUS_MM * fr.s)
    along = (y > back - depth) & (share > 0)
    region = labels[box]
    lining = (share > 0) & (y > back - depth - fat) & (np.abs(x) <= CLEFT_HALF_WIDTH_MM + fat)
    region[lining & (region == LABEL["muscle"])] = LABEL["subcutaneous_fat"]
    region[along & (np.abs(x) <= CLEFT_HALF_WIDTH_MM)] = 0


def _part_thighs(labels, grid, fr: Frame, verge_z: float) -> None:
    """Below the verge, down to where anatomy_v2's trunk ends: air between the two thighs' outlines (the ones
    anatomy_v2 paints their fat with; only medial to their centres, so hands beside the hips stay), and each
    thigh's own fat ring where the trunk left muscle."""
    z_low = fr.z(0.535) - 1.0
    box = grid.box((grid.x[0], grid.y[0], z_low), (grid.x[-1], grid.y[-1], verge_z))
    if box is None:
        return
    z, y, x = grid.coords(box)
    region = labels[box]
    inside = np.zeros(region.shape, bool)
    for side in (-1, 1):
        centre_x, centre_y, radius = thigh_axes(fr, side)
        a, b = radius(z), 0.95 * radius(z)
        r = (np.abs((x - centre_x(z)) / a) ** 2.1 + np.abs((y - centre_y(z)) / b) ** 2.1) ** (1 / 2.1)
        thigh = r <= 1.0
        depth = np.hypot(x - centre_x(z), y - centre_y(z)) * (1.0 / np.maximum(r, 1e-3) - 1.0)
        region[thigh & (depth < 0.9 * fr.fat) & (region == LABEL["muscle"])] = LABEL["subcutaneous_fat"]
        inside |= thigh | (side * x >= side * centre_x(z))
    region[~inside] = 0
