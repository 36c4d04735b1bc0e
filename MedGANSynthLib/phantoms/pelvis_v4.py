"""Version-4 bony pelvis: sacrum, two hip bones and the femoral heads as one jointed ring.

Version 2 drew the pelvis as separate pieces (a flat oval sacrum ~60 mm below L5, thin elliptic iliac wings, small
pubic tubes, no acetabular cup). Here the sacrum starts one lumbosacral disc below L5 and curves down and back as a
wedge; each hip bone is one shell of cortical bone around cancellous marrow - the iliac wing fanning from the
acetabular roof to a horseshoe crest, the posterior ilium against the sacrum, the acetabular cup over the femoral
head, the pubic rami meeting at the symphysis and the ischium down to its tuberosity. Joints are cartilage
(label ``disc``) of the published width: sacroiliac 2.5 mm, symphysis 4 mm, hip 4.5 mm. Sizes (REFERENCE.md §6):
inter-femoral-head distance 160 ± 8 mm (CT of 200 adults), sacral height 107 ± 10 and width 104 ± 7 mm, L5/S1
disc 7-13 mm. All cortices are painted before all marrow, so overlapping pieces make one bone, not walls.

Version 5 (behind ``fr.version >= 5``, REFERENCE.md "Version 5: pelvis") bows every wing strut outwards into an
iliac fossa and gives the crest an S shape seen from above; :func:`hip_bone_clearance` lets organs painted before
the skeleton (the colon) keep out of the hip bones.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from MedGANSynthLib.phantoms.frame_v2 import Frame
from MedGANSynthLib.phantoms.shapes import AxisGrid, ellipsoid, paint, tapered_segment, vertical_superellipse
from MedGANSynthLib.phantoms.tissues import LABEL

BONE, MARROW, CARTILAGE = LABEL["cortical_bone"], LABEL["cancellous_bone"], LABEL["disc"]
CORTEX_MM = 2.0
SACROILIAC_GAP_MM = 2.5  # CT joint space 2.49 ± 0.66 mm under 40 years, 1.72 overall (Demir 2007)
SYMPHYSIS_GAP_MM = 4.0  # narrowest CT width 3.1 ± 1.5 mm (Korean CT 2021); 4.6-5.0 mid-joint (Alicioglu 2008)
HIP_GAP_MM = 4.5  # hip joint space width 4.5 mm (Saikia, Indian J Orthop 2008)
LUMBOSACRAL_EXTRA_MM = 2.5
ILIAC_MUSCLE_MM = 16.0  # iliacus inside, gluteus medius/minimus outside the wing (reference man, †)
ILIAC_FOSSA_DEPTH_MM = 18.0  # version 5: how far the middle of the wing bows outwards, reference man (†)

# Sacral centre line below the S1 endplate (reference male, mm: posterior shift, drop), and the half width and
# half depth of the bone there: S1 body with its alae, tapering to the apex; concave in front.
SACRUM_PATH = np.array([[0, 0], [6, -20], [15, -44], [22, -68], [22, -88], [18, -100]], float)
SACRUM_HALF_WIDTH = np.array([53, 49, 38, 25, 14, 8], float)
SACRUM_HALF_DEPTH = np.array([17, 17, 14, 10, 7, 5], float)


def pelvis_landmarks(fr: Frame) -> dict:
    """Where the pelvis sits in this subject: S1 endplate, hip joint centres, symphysis, crest and tuberosities."""
    s, female = fr.s, fr.subject.sex == "F"
    # The L5 "vertebra" ends with its disc (22 % of a lumbar level, ~8.5 mm); the L5/S1 disc is thicker, ~11 mm
    # (middle height 11.1 mm, MRI; reference range 7.1-13.1 mm), so the S1 endplate lies a little lower.
    s1_z = fr.vertebrae["L5"][1] - LUMBOSACRAL_EXTRA_MM * s
    s1_y = float(fr.spine_y(s1_z))
    head_z = float(fr.z(0.488))
    # Half of the 160 mm inter-femoral-head distance, which does not follow stature (CT of 200 adults, [IFD-CT-2010]):
    # here it grows only with the square root of the body's length scale (†).
    head_half = 80.0 * s**0.5 * fr.hip**0.5
    head_r = 24.0 * s
    sym_z = head_z - 25.0 * s
    sym_y = float(-fr.half_ap(sym_z) + fr.fat_at(sym_z) + 8.0 * s)  # behind the fat, in front of the bladder
    return {
        "s1": np.array([0.0, s1_y, s1_z]), "head_half": head_half, "head_r": head_r,
        "head_y": 2.0, "head_z": head_z, "symphysis": np.array([0.0, sym_y, sym_z]),
        "tuberosity_half": (74.0 if female else 58.0) * s, "tuberosity_z": head_z - 58.0 * s,
    }


def paint_iliac_muscles(labels, grid: AxisGrid, fr: Frame) -> None:
    """Iliacus inside and gluteus medius/minimus outside each iliac wing, over the abdominal cavity's fat; painted
    before the organs so that bowel loops lie beside the wings, not in them."""
    marks = pelvis_landmarks(fr)
    for side in (-1, 1):
        for shape in _wing_struts(grid, fr, marks, side, pad=ILIAC_MUSCLE_MM * fr.s * fr.muscle):
            paint(labels, shape, LABEL["muscle"], [LABEL["visceral_fat"]])


def paint_pelvis(labels, grid: AxisGrid, fr: Frame) -> dict:
    """Paint sacrum and hip bones (cortex, marrow, joint cartilage); return the landmarks for the femora."""
    marks = pelvis_landmarks(fr)
    hip_shells = [shape for side in (-1, 1) for shape in _hip_bone(grid, fr, marks, side)]
    for outer, _ in hip_shells:
        paint(labels, outer, BONE)
    for _, inner in hip_shells:
        paint(labels, inner, MARROW)
    _cut_symphysis(labels, grid, marks)
    s1 = marks["s1"]
    w, d = (float(v) for v in fr.spine_half(s1[2]))
    paint(labels, _slab(grid, (s1[2] - 1.0, fr.vertebrae["L5"][1] + 1.0), s1[1], w - 1, d - 1), CARTILAGE)
    sacrum = _sacrum_beads(grid, fr, marks)
    for widened, _, _ in sacrum:  # sacroiliac joint: the ilium stops one joint width from the sacrum
        paint(labels, widened, CARTILAGE, [BONE, MARROW])
    for _, outer, _ in sacrum:
        paint(labels, outer, BONE)
    for _, _, inner in sacrum:
        paint(labels, inner, MARROW)
    _sacral_canal(labels, grid, fr, marks)
    for side in (-1, 1):  # hip joint: cartilage between the cup and the head painted afterwards
        centre = _head_centre(marks, side)
        paint(labels, ellipsoid(grid, centre, [marks["head_r"] + HIP_GAP_MM] * 3), CARTILAGE, [BONE, MARROW])
    return marks


def _head_centre(marks: dict, side: int) -> np.ndarray:
    return np.array([side * marks["head_half"], marks["head_y"], marks["head_z"]])


def _sacrum_point(fr: Frame, marks: dict, t: float) -> tuple[np.ndarray, float, float]:
    """Centre, half width and half depth of the sacrum at fraction ``t`` (0 S1 endplate, 1 apex) of its path."""
    knots = np.linspace(0.0, 1.0, len(SACRUM_PATH))
    dy, dz = (np.interp(t, knots, SACRUM_PATH[:, k]) * fr.s for k in (0, 1))
    width = np.interp(t, knots, SACRUM_HALF_WIDTH) * fr.s * fr.hip**0.5
    depth = np.interp(t, knots, SACRUM_HALF_DEPTH) * fr.s
    s1 = marks["s1"]
    return np.array([0.0, s1[1] + dy, s1[2] + dz]), float(width), float(depth)


def sacrum_front_y(fr: Frame, z: float) -> float:
    """y of the sacrum's anterior surface at height ``z`` (the S1 body above its endplate, the apex below it)."""
    marks = pelvis_landmarks(fr)
    ts = np.linspace(0.0, 1.0, 41)
    points = [_sacrum_point(fr, marks, t) for t in ts]
    zs = np.array([p[0][2] for p in points])
    fronts = np.array([p[0][1] - p[2] for p in points])
    return float(np.interp(z, zs[::-1], fronts[::-1]))


def _sacrum_beads(grid, fr: Frame, marks: dict) -> list:
    """Overlapping flat ellipsoids along the curved centre line: (widened for the joint, outer, marrow)."""
    beads = []
    ts = np.linspace(0.0, 1.0, 12)
    for n, t in enumerate(ts):
        centre, width, depth = _sacrum_point(fr, marks, t)
        ahead, _, _ = _sacrum_point(fr, marks, min(t + 0.05, 1.0))
        behind, _, _ = _sacrum_point(fr, marks, max(t - 0.05, 0.0))
        tangent = (ahead - behind) / np.linalg.norm(ahead - behind)
        axial = np.array([0.0, -tangent[2], tangent[1]])  # depth axis, normal to the tangent in the sagittal plane
        if axial[1] < 0:
            axial = -axial
        rotation = np.column_stack([[1.0, 0.0, 0.0], axial, tangent])
        half_len = 10.0 * fr.s
        if n == 0:  # the S1 endplate is flat and level with the bottom of the L5 disc
            centre = centre - [0, 0, half_len]
        radii = np.array([width, depth, half_len])
        beads.append((ellipsoid(grid, centre, radii + SACROILIAC_GAP_MM, rotation),
                      ellipsoid(grid, centre, radii, rotation),
                      ellipsoid(grid, centre, np.maximum(radii - CORTEX_MM, 0.5), rotation)))
    s1 = marks["s1"]
    w, d = (float(v) for v in fr.spine_half(s1[2]))
    body = (s1[2] - 26.0 * fr.s, s1[2])  # S1 body: a flat top right under the L5/S1 disc
    beads.append((None, _slab(grid, body, s1[1], w, d), _slab(grid, (body[0], body[1] - CORTEX_MM), s1[1],
                                                             w - CORTEX_MM, d - CORTEX_MM)))
    return beads


def _slab(grid, z_range, centre_y, half_x, half_y):
    return vertical_superellipse(grid, z_range, lambda z: 0 * z, lambda z: centre_y + 0 * z,
                                 lambda z: half_x + 0 * z, lambda z: half_y + 0 * z, 2.2)


def _sacral_canal(labels, grid, fr: Frame, marks: dict) -> None:
    """CSF in the sacral canal behind the S1-S3 bodies."""
    for t0, t1 in ((0.0, 0.3), (0.3, 0.6)):
        (a, _, da), (b, _, db) = _sacrum_point(fr, marks, t0), _sacrum_point(fr, marks, t1)
        paint(labels, tapered_segment(grid, a + [0, 0.55 * da, 0], b + [0, 0.55 * db, 0],
                                      (6.0 if t0 == 0 else 4.5) * fr.s, (4.5 if t0 == 0 else 3.0) * fr.s),
              LABEL["csf"], [MARROW])


def _crest(fr: Frame, marks: dict, side: int) -> np.ndarray:
    """The iliac crest from the posterior superior to the anterior superior iliac spine (a horseshoe seen from
    above), kept under the skin of a thin subject."""
    s, s1 = fr.s, marks["s1"]
    asis_y = marks["head_y"] - 55.0 * s  # hip centre ~37 % of a ~150 mm pelvic depth behind the ASIS (†)
    psis_y = s1[1] + 58.0 * s
    if fr.version >= 5:
        points = _s_shaped_crest(s1, psis_y, asis_y, s)
    else:
        points = np.array([  # (x, y, z) for the reference male; x grows with the female pelvis
            [40, psis_y, s1[2] - 12 * s],
            [64, psis_y - 4 * s, s1[2] + 30 * s],
            [100, 0.55 * psis_y + 0.45 * asis_y, s1[2] + 55 * s],
            [132, 0.2 * psis_y + 0.8 * asis_y, s1[2] + 50 * s],
            [128, asis_y + 8 * s, s1[2] + 28 * s],
            [114, asis_y, s1[2] + 4 * s],
        ])
    points[:, 0] *= s * fr.hip
    z = points[:, 2]
    room_x = fr.half_lat(z) - 1.3 * fr.fat_at(z) - 10.0
    room_y = fr.half_ap(z) - 1.5 * fr.fat_at(z) - 10.0
    points[:, 0] = side * np.minimum(points[:, 0], room_x)
    points[:, 1] = np.minimum(points[:, 1], room_y)
    return points


def _tube_pair(grid, a, b, ra, rb):
    """Cortex and marrow of a tapered bony strut."""
    return (tapered_segment(grid, a, b, ra, rb),
            tapered_segment(grid, a, b, max(ra - CORTEX_MM, 0.8), max(rb - CORTEX_MM, 0.8)))


def _hip_bone(grid, fr: Frame, marks: dict, side: int) -> list:
    """One hip bone as (outer, marrow) pairs: iliac wing, posterior ilium at the sacroiliac joint, acetabulum,
    pubic rami, pubic body, ischium and tuberosity."""
    s = fr.s
    head = _head_centre(marks, side)
    r = marks["head_r"]
    medial = -side
    pieces = []
    # Acetabular cup: a hemispherical shell over the head, open laterally, forwards and downwards; its lateral
    # rim ~39° from the vertical through the head centre (centre-edge angle 36 ± 14°, Fowkes 2011); the hip
    # joint is cut out of it later.
    opening = np.array([side * 0.75, -0.30, -0.55])
    opening /= np.linalg.norm(opening)
    outer_r = r + HIP_GAP_MM + 9.0 * s
    pieces.append((_cup(grid, head, outer_r, opening), _cup(grid, head, outer_r - CORTEX_MM, opening)))
    outer = _wing_struts(grid, fr, marks, side, pad=0.0)
    pieces += zip(outer, _wing_struts(grid, fr, marks, side, pad=-CORTEX_MM), strict=True)
    crest = _crest(fr, marks, side)
    roof = _roof(marks, side, s)
    # Posterior ilium: from the roof and the posterior crest to the auricular surface beside S1-S3.
    for t, dz in ((0.1, 0.0), (0.35, 0.0), (0.55, 0.0)):
        sac, width, depth = _sacrum_point(fr, marks, t)
        joint = sac + [side * (width - 6 * s), 4 * s, dz]  # into the sacrum: the joint is cut later
        pieces.append(_tube_pair(grid, roof + [0, 12 * s, 0], joint, 12.0 * s, 10.0 * s))
        pieces.append(_tube_pair(grid, crest[0] + [medial * 4 * s, 0, 0], joint, 11.0 * s, 10.0 * s))
    # Pubis: superior ramus from the front of the cup to the pubic body at the symphysis; inferior ramus and
    # ischium down to the tuberosity, leaving the obturator foramen open between them.
    sym = marks["symphysis"]
    body = sym + [side * 10 * s, 0, 0]
    pieces.append((ellipsoid(grid, body, np.array([12, 10, 20]) * s),
                   ellipsoid(grid, body, np.array([12, 10, 20]) * s - CORTEX_MM)))
    superior = head + [medial * (r * 0.55), -r * 0.75, -r * 0.25]
    pieces.append(_tube_pair(grid, superior, body + [0, 0, 8 * s], 10.0 * s, 8.5 * s))
    tub = np.array([side * marks["tuberosity_half"], marks["head_y"] + 26 * s, marks["tuberosity_z"]])
    pieces.append(_tube_pair(grid, body + [side * 4 * s, 4 * s, -14 * s], tub + [medial * 4 * s, -6 * s, 4 * s],
                             7.5 * s, 8.5 * s))
    posterior = head + [medial * (r * 0.45), r * 0.7, -r * 0.45]
    pieces.append(_tube_pair(grid, posterior, tub, 13.0 * s, 12.0 * s))
    pieces.append((ellipsoid(grid, tub, np.array([12, 15, 18]) * s),
                   ellipsoid(grid, tub, np.array([12, 15, 18]) * s - CORTEX_MM)))
    return pieces


def _roof(marks: dict, side: int, s: float) -> np.ndarray:
    """The thick bone above the acetabulum where the wing rises from."""
    return _head_centre(marks, side) + [-side * 6 * s, 6 * s, marks["head_r"] + 10 * s]


def _wing_struts(grid, fr: Frame, marks: dict, side: int, pad: float) -> list:
    """Iliac wing: struts fanning from the acetabular roof to the crest, neighbours overlapping into one plate,
    and the thickened crest; ``pad`` widens (muscle) or narrows (marrow) every strut."""
    s = fr.s
    crest = _crest(fr, marks, side)
    fine = np.array([np.interp(np.linspace(0, len(crest) - 1, 40), np.arange(len(crest)), crest[:, k])
                     for k in range(3)]).T
    roof = _roof(marks, side, s)
    struts = []
    for n, top in enumerate(fine):
        base = roof + [0, (12 - 30 * n / (len(fine) - 1)) * s, 0]
        r_base, r_top = max(9.0 * s + pad, 0.8), max(5.5 * s + pad, 0.8)
        if fr.version >= 5:  # bowed outwards: the iliac fossa, deepest in the middle of the fan
            depth = ILIAC_FOSSA_DEPTH_MM * s * np.sin(np.pi * n / (len(fine) - 1))
            struts += _bowed_strut(grid, base, top, r_base, r_top, side, depth)
        else:
            struts.append(tapered_segment(grid, base, top, r_base, r_top))
        if n:
            struts.append(tapered_segment(grid, fine[n - 1], top, max(6.0 * s + pad, 0.8), max(6.0 * s + pad, 0.8)))
    return struts


def _s_shaped_crest(s1: np.ndarray, psis_y: float, asis_y: float, s: float) -> np.ndarray:
    """Version 5's crest, an S seen from above: from the PSIS it runs forwards and turns outwards (concave
    laterally), then over its widest point turns inwards to the ASIS (convex laterally) [Vetter-2009]; it rises
    highest near its middle. (x, y, z) for the reference male, † shape; x grows with the female pelvis."""
    def along(u):  # y at a fraction of the way from the PSIS (0, behind) to the ASIS (1, in front)
        return psis_y + u * (asis_y - psis_y)

    return np.array([
        [40, psis_y, s1[2] - 12 * s],
        [50, along(0.18), s1[2] + 32 * s],
        [72, along(0.36), s1[2] + 52 * s],
        [104, along(0.56), s1[2] + 57 * s],
        [130, along(0.78), s1[2] + 50 * s],
        [128, asis_y + 8 * s, s1[2] + 28 * s],
        [114, asis_y, s1[2] + 4 * s],
    ])


def _bowed_strut(grid, base, top, r_base: float, r_top: float, side: int, depth: float) -> list:
    """A strut from ``base`` to ``top`` curved outwards (away from the midline, square to the strut) by ``depth`` at
    its middle: a quadratic Bézier curve drawn as three tapered segments."""
    axis = (top - base) / np.linalg.norm(top - base)
    outward = np.array([float(side), 0.0, 0.0])
    outward -= (outward @ axis) * axis
    control = 0.5 * (base + top) + 2.0 * depth * outward / np.linalg.norm(outward)
    ts = np.linspace(0.0, 1.0, 4)
    points = [(1 - t) ** 2 * base + 2 * t * (1 - t) * control + t**2 * top for t in ts]
    radii = r_base + ts * (r_top - r_base)
    return [tapered_segment(grid, points[n], points[n + 1], radii[n], radii[n + 1]) for n in range(3)]


def hip_bone_clearance(fr: Frame, low, high, voxel_mm: float = 2.0):
    """Distance (mm) from the nearest hip-bone voxel, on a ``voxel_mm`` grid over the box [low, high] (x, y, z):
    returns (grid, distance) so organs painted before the skeleton can be kept out of the bone it paints."""
    low, high = np.asarray(low, float), np.asarray(high, float)
    local = AxisGrid(*(np.arange(low[k], high[k] + voxel_mm, voxel_mm) for k in range(3)))
    marks = pelvis_landmarks(fr)
    bone = np.zeros(local.shape, bool)
    for side in (-1, 1):
        for outer, _ in _hip_bone(local, fr, marks, side):
            paint(bone, outer, True)
    return local, ndimage.distance_transform_edt(~bone, sampling=voxel_mm)


def _cup(grid, centre, radius, opening):
    """Ball of ``radius`` without the cap facing ``opening`` (a unit vector): a hemispherical-plus cup."""
    box = grid.box(centre - radius, centre + radius)
    if box is None:
        return None
    z, y, x = grid.coords(box)
    d = (x - centre[0], y - centre[1], z - centre[2])
    inside = d[0] ** 2 + d[1] ** 2 + d[2] ** 2 <= radius * radius
    facing = d[0] * opening[0] + d[1] * opening[1] + d[2] * opening[2]
    return box, inside & (facing <= 0.05 * radius)


def _cut_symphysis(labels, grid, marks: dict) -> None:
    """The fibrocartilaginous disc between the two pubic bodies."""
    sym = marks["symphysis"]
    half = SYMPHYSIS_GAP_MM / 2.0
    paint(labels, _box(grid, sym - [half, 30, 30], sym + [half, 30, 30]), CARTILAGE, [BONE, MARROW])


def _box(grid, low, high):
    box = grid.box(low, high)
    if box is None:
        return None
    return box, np.ones(tuple(s.stop - s.start for s in box), bool)

