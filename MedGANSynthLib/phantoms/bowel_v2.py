"""Version-2 bowel: the colon frame around the abdomen and small-bowel loops packed into the space left.

The colon runs caecum - ascending - hepatic flexure - transverse (sagging forward) - splenic flexure -
descending - sigmoid - rectum, 2-3.5 cm wide, with mottled faecal content and gas. Small bowel loops (about
2.5 cm wide, wall 2-3 mm, REFERENCE.md §6 †) follow a self-avoiding walk on a coarse lattice through the
visceral fat that the organs left free, so they fill the abdomen instead of floating in it; some loops hold a
little gas on their anterior (non-dependent) side.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from MedGANSynthLib.phantoms.frame_v2 import Frame
from MedGANSynthLib.phantoms.pelvis_v4 import ILIAC_MUSCLE_MM, hip_bone_clearance, pelvis_landmarks
from MedGANSynthLib.phantoms.shapes import AxisGrid, paint, smooth_polyline, tapered_tube
from MedGANSynthLib.phantoms.tissues import LABEL

SMALL_BOWEL_RADIUS = 12.5
WALL_MM = 2.5
FREE = (LABEL["visceral_fat"],)
# Version 5: bowel never lies on bare bone; peritoneum and fat (or a muscle) lie between (REFERENCE.md "Version 5:
# bowel and bone"). The gap is a few mm (†), and never less than one voxel of the grid.
BONE_GAP_MM = 3.0
BONE = [LABEL["cortical_bone"], LABEL["cancellous_bone"], LABEL["yellow_marrow"]]
WALLS = {LABEL["bowel"]: (LABEL["bowel_content"], LABEL["bowel_gas"]),
         LABEL["colon"]: (LABEL["colon_content"], LABEL["bowel_gas"])}


def paint_bowel(labels, grid: AxisGrid, fr: Frame, rng: np.random.Generator, marks: dict) -> None:
    _paint_colon(labels, grid, fr, rng, marks)
    _paint_small_bowel(labels, grid, fr, rng, marks)


def keep_bowel_off_bone(labels, grid: AxisGrid) -> None:
    """Version 5, after the skeleton: bowel and colon voxels within :data:`BONE_GAP_MM` (at least one voxel) of bone
    become visceral fat, and the content they uncover becomes wall again."""
    spacing = np.array([axis[1] - axis[0] for axis in (grid.z, grid.y, grid.x)])
    gap = max(BONE_GAP_MM, float(spacing.max()))
    reach = np.floor(gap / spacing).astype(int)
    offsets = np.stack(np.meshgrid(*(np.arange(-r, r + 1) for r in reach), indexing="ij"), axis=-1)
    ball = np.sum((offsets * spacing) ** 2, axis=-1) <= gap**2
    family = np.isin(labels, [LABEL["bowel"], LABEL["colon"], *WALLS[LABEL["bowel"]], *WALLS[LABEL["colon"]]])
    if not family.any():
        return
    k, j, i = np.nonzero(family)
    box = tuple(slice(max(int(lo) - r, 0), int(hi) + r + 1) for lo, hi, r in
                zip((k.min(), j.min(), i.min()), (k.max(), j.max(), i.max()), reach, strict=True))
    region = labels[box]
    cleared = family[box] & ndimage.binary_dilation(np.isin(region, BONE), ball)
    uncovered = ndimage.binary_dilation(cleared) & ~cleared
    region[cleared] = LABEL["visceral_fat"]
    for wall, contents in WALLS.items():  # the colon's gas takes the colon's wall, the small bowel's its own
        of_this_tube = ndimage.binary_dilation(region == wall, np.ones((3, 3, 3), bool))
        region[uncovered & of_this_tube & np.isin(region, contents)] = wall


def _paint_colon(labels, grid, fr: Frame, rng, marks) -> None:
    def at(level, where=0.5):
        zl = fr.level(level, where)
        cy, a, b = (float(v) for v in fr.cage(zl))
        return zl, cy, a, b

    z5, cy5, a5, b5 = at("L5")
    z3, cy3, a3, b3 = at("L3")
    z1, cy1, a1, b1 = at("L1", 0.2)
    sag = rng.uniform(0.0, 40.0)
    path = [
        (-0.62 * a5, cy5 - 0.15 * b5, z5 - 15), (-0.70 * a3, cy3 + 0.25 * b3, z3), (-0.62 * a1, cy1 + 0.05 * b1, z1 - 10),
        (-0.35 * a3, cy3 - 0.72 * b3, z3 + 20 - sag), (0.35 * a3, cy3 - 0.72 * b3, z3 + 25 - sag),
        (0.68 * a1, cy1 + 0.30 * b1, z1 + 25), (0.74 * a3, cy3 + 0.35 * b3, z3), (0.64 * a5, cy5 + 0.1 * b5, z5),
        (0.30 * a5, cy5 - 0.45 * b5, fr.z(0.465)), (-0.05 * a5, cy5 - 0.2 * b5, fr.z(0.48)),
        (0.0, fr.spine_y(fr.z(0.47)) - 20, fr.z(0.485)), (0.0, fr.spine_y(fr.z(0.47)) - 35, fr.z(0.515)),
    ]
    path = smooth_polyline(path, 2)
    t = np.linspace(0, 1, len(path))
    radii = np.interp(t, [0, 0.1, 0.35, 0.6, 0.75, 0.9, 1.0], [34, 28, 26, 22, 19, 18, 22]) * fr.s**0.5
    if fr.version >= 5:
        path = _clear_of_hip_bones(fr, path, radii)
    for shape in tapered_tube(grid, path, radii):
        paint(labels, shape, LABEL["colon"], FREE + (LABEL["muscle"],))
    for shape in tapered_tube(grid, path, radii - WALL_MM - 0.5):
        paint(labels, shape, LABEL["colon_content"], (LABEL["colon"],))
    _mottle(labels, grid, path, radii, LABEL["colon_content"], rng, gas_share=rng.uniform(0.1, 0.3))
    marks["colon_path"] = [list(map(float, p)) for p in path[:: max(1, len(path) // 12)]]


def _clear_of_hip_bones(fr: Frame, path: np.ndarray, radii: np.ndarray) -> np.ndarray:
    """Version 5: the skeleton is painted last, so colon drawn where a hip bone goes would be cut by it (version 4
    lost 13-26 mL of caecum to the right iliac wing). Each centre-line point closer to a hip bone than its
    radius plus the iliacus climbs the distance field away from the bone: the caecum comes to lie on the iliacus,
    in the right iliac fossa, in front of and inside the wing's hollow."""
    pad = ILIAC_MUSCLE_MM * fr.s * fr.muscle
    reach = radii + pad
    near = path[:, 2] < pelvis_landmarks(fr)["s1"][2] + 80.0 * fr.s + reach  # below the crests' tops
    if not near.any():
        return path
    margin = float(reach.max()) + 10.0
    low, high = path[near].min(axis=0) - margin, path[near].max(axis=0) + margin
    step = 4.0  # mm, the clearance grid's voxel: coarse (a case's time), well inside the iliacus margin
    local, distance = hip_bone_clearance(fr, low, high, step)
    slope = np.gradient(distance, step)  # (d/dz, d/dy, d/dx)
    moved = path.copy()
    for n in np.nonzero(near)[0]:
        point = moved[n]
        for _ in range(80):
            index = tuple(int(np.clip(np.rint((point[a] - axis[0]) / step), 0, axis.size - 1))
                          for a, axis in ((2, local.z), (1, local.y), (0, local.x)))
            if distance[index] >= reach[n]:
                break
            uphill = np.array([slope[2][index], slope[1][index], slope[0][index]])
            if not np.any(uphill):
                break
            point = point + step * uphill / np.linalg.norm(uphill)
        moved[n] = point
    return moved


def _mottle(labels, grid, path, radii, content, rng, gas_share) -> None:
    """Gas bubbles in faeces: the top ``gas_share`` of a smooth random field inside the content turns to gas."""
    low = np.min(path, axis=0) - np.max(radii)
    high = np.max(path, axis=0) + np.max(radii)
    box = grid.box(low, high)
    if box is None:
        return
    region = labels[box]
    inside = region == content
    if inside.sum() < 10:
        return
    field = rng.standard_normal(region.shape).astype(np.float32)
    spacing = np.array([grid.z[1] - grid.z[0] if grid.z.size > 1 else 3.0, grid.y[1] - grid.y[0], grid.x[1] - grid.x[0]])
    field = ndimage.gaussian_filter(field, np.maximum(4.0 / np.abs(spacing), 0.5))
    y = np.broadcast_to(grid.coords(box)[1], region.shape)
    field -= 0.02 * (y - y[inside].mean())  # more gas anteriorly (non-dependent)
    level = np.quantile(field[inside], 1 - gas_share)
    region[inside & (field > level)] = LABEL["bowel_gas"]


def _paint_small_bowel(labels, grid, fr: Frame, rng, marks) -> None:
    """Self-avoiding walks on a lattice of loop-sized cells inside the free visceral fat below the liver; a second
    lattice, offset by half a cell, fills the gaps the first left."""
    step = 2 * SMALL_BOWEL_RADIUS + 1.0
    z_top, z_bottom = fr.level("L1", 0.7), fr.z(0.49)
    z3 = fr.level("L3")
    cy, a, b = (float(v) for v in fr.cage(z3))
    retroperitoneum = float(fr.spine_y(z3) - fr.spine_half(z3)[1]) - SMALL_BOWEL_RADIUS - 18.0  # aorta, IVC, nodes
    radius = SMALL_BOWEL_RADIUS * rng.uniform(0.9, 1.1)
    loops = 0
    for offset in (0.0, 0.5 * step):
        xs = np.arange(-0.92 * a + offset, 0.92 * a + 1, step)
        ys = np.arange(cy - 1.0 * b + offset, min(cy + 0.6 * b, retroperitoneum) + 1, step)
        zs = np.arange(z_bottom + offset, z_top + 1, step)
        nodes = np.stack(np.meshgrid(zs, ys, xs, indexing="ij"), axis=-1)  # (z, y, x) mm
        for walk in _walks(_is_free(labels, grid, nodes), rng):
            points = np.array([nodes[tuple(n)][::-1] for n in walk]) + rng.uniform(-3, 3, (len(walk), 3))
            points = smooth_polyline(points, 2)
            for shape in tapered_tube(grid, points, radius):
                paint(labels, shape, LABEL["bowel"], FREE)
            for shape in tapered_tube(grid, points, radius - WALL_MM):
                paint(labels, shape, LABEL["bowel_content"], (LABEL["bowel"],))
            loops += 1
    marks["small_bowel_walks"] = loops


def _walks(free: np.ndarray, rng) -> list[list[np.ndarray]]:
    """Random self-avoiding walks through the free lattice nodes until every free node is used."""
    visited = ~free
    walks = []
    moves = np.array([[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]])
    order = np.argwhere(free)
    rng.shuffle(order)
    for start in order:
        if visited[tuple(start)]:
            continue
        walk, here = [start], start
        visited[tuple(here)] = True
        while True:
            options = [here + m for m in moves if _inside(here + m, visited.shape) and not visited[tuple(here + m)]]
            if not options:
                break
            here = options[int(rng.integers(len(options)))]
            visited[tuple(here)] = True
            walk.append(here)
        if len(walk) >= 2:
            walks.append(walk)
    return walks


def _inside(index, shape) -> bool:
    return all(0 <= i < n for i, n in zip(index, shape, strict=True))


def _is_free(labels, grid, nodes) -> np.ndarray:
    """Lattice nodes whose voxel is free visceral fat."""
    k = np.clip(np.searchsorted(grid.z, nodes[..., 0]), 0, grid.z.size - 1)
    j = np.clip(np.searchsorted(grid.y, nodes[..., 1]), 0, grid.y.size - 1)
    i = np.clip(np.searchsorted(grid.x, nodes[..., 2]), 0, grid.x.size - 1)
    return np.isin(labels[k, j, i], FREE)
