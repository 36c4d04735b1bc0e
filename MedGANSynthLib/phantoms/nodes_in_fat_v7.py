"""Version 7: lymph nodes sit in fat, as in patients, not inside the muscles next to their station.

Versions 1-6 put a node at its station's landmark plus a few mm of jitter, whatever tissue is there. On the
version-5 anatomy the inguinal station lies wholly inside the thigh muscle in every subject, the axillary station in
the shoulder muscles and half the cervical one in the neck muscles (REFERENCE.md, "Version 7: lymph nodes in fat"),
so a third of the nodes were painted over muscle at muscle's HU. Anatomically the superficial inguinal nodes lie in
the subcutaneous fat of the femoral triangle and the axillary nodes in the axillary fat. (A virtual PET retrained on
version 7 paints muscle hot as often as before: the misplaced nodes were wrong anatomy, not the cause of that;
Testing/Training/HISTORY.md, "Session 29".)

Version 7 keeps every draw of version 6 (station, size, SUV, jitter) and then moves the node's centre to the
nearest point of fat where it fits: the nearest fat voxel at least the node's largest radius (times
:data:`FIT_FRACTION`) from any other tissue, within :data:`SEARCH_MM` of the jittered centre, and at least the
radius inside the body, so that no node sticks out of the skin. Where no fat pocket is that deep (a thin patient's
groin), the deepest fat within reach that keeps the node inside the body is taken; where no fat lies that far under
the skin, the point nearest fat. The node then bulges into its neighbours, as a bulky node would.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from MedGANSynthLib.phantoms.anatomy import Anatomy
from MedGANSynthLib.phantoms.tissues import LABEL

FAT_LABELS = (LABEL["subcutaneous_fat"], LABEL["visceral_fat"])
SEARCH_MM = 40.0
"""How far a node may move from its jittered station point: half the 80 mm span of a nodal station such as the
femoral triangle's inguinal chain (the landmarks themselves are placed to ± 10-20 mm)."""
TILE_MM = 40.0
"""Side of the cubes over which the distance maps are computed and kept (see :class:`FatPockets`)."""
FIT_FRACTION = 0.8
"""A pocket counts as fitting when fat reaches 0.8 x the node's largest radius around its centre: the grid's
voxels (4 mm) make a deeper requirement miss pockets a node visibly fits in."""


class FatPockets:
    """Depth of fat (mm to the nearest other tissue), distance to fat and depth inside the body (mm to the air
    outside) around a node's station.

    The distance maps are computed per tile of :data:`TILE_MM` (cached: a node's tries and a station's nodes share
    them) over the tile grown by twice :data:`SEARCH_MM`, not over the whole body (a whole-body map at the default
    2 mm grid costs ~4 s). A search box lies within its tile grown by SEARCH_MM, and a distance up to a further
    SEARCH_MM is the whole-body map's exactly (its nearest voxel of the other kind lies inside the grown tile); every
    comparison below is with a node radius, well under it, so the placement is the whole-body maps' placement.
    """

    def __init__(self, anatomy: Anatomy):
        self.grid, self.labels = anatomy.grid, anatomy.labels
        self.spacing = [float(np.diff(axis[:2])[0]) if axis.size > 1 else 1.0
                        for axis in (self.grid.z, self.grid.y, self.grid.x)]
        self._tiles: dict[tuple[int, ...], tuple] = {}

    def distance_maps(self, centre: np.ndarray, box) -> tuple[np.ndarray, ...]:
        """Fat depth, distance to fat and body depth (mm) over ``box``, the search box around ``centre``."""
        tile = tuple(int(t) for t in np.floor(centre / TILE_MM))
        if tile not in self._tiles:
            low = np.asarray(tile) * TILE_MM
            grown = self.grid.box(low - 2 * SEARCH_MM, low + TILE_MM + 2 * SEARCH_MM)
            labels = self.labels[grown]
            fat = np.isin(labels, FAT_LABELS)
            self._tiles[tile] = grown, tuple(ndimage.distance_transform_edt(mask, sampling=self.spacing)
                                             for mask in (fat, ~fat, labels != LABEL["air"]))
        grown, maps = self._tiles[tile]
        inner = tuple(slice(b.start - g.start, b.stop - g.start) for b, g in zip(box, grown, strict=True))
        return tuple(m[inner] for m in maps)

    def place(self, centre_mm, radius_mm: float, occupied=()) -> np.ndarray:
        """The node centre (x, y, z mm) in fat nearest ``centre_mm`` that fits ``radius_mm`` (see the module).
        ``occupied`` (version 8): (centre, least distance) of lesions already placed, whose surroundings are left
        out, so that two nodes of one station share its fat pocket instead of both seeking its nearest point."""
        centre = np.asarray(centre_mm, float)
        box = self.grid.box(centre - SEARCH_MM, centre + SEARCH_MM)
        if box is None:
            return centre
        depth, to_fat, body_depth = self.distance_maps(centre, box)
        z, y, x = self.grid.coords(box)
        distance = np.sqrt((x - centre[0]) ** 2 + (y - centre[1]) ** 2 + (z - centre[2]) ** 2)
        inside = (distance <= SEARCH_MM) & (body_depth >= radius_mm)
        for other, apart in occupied:
            inside = inside & ((x - other[0]) ** 2 + (y - other[1]) ** 2 + (z - other[2]) ** 2 >= apart**2)
        in_fat = inside & (depth > 0)
        fits = in_fat & (depth >= FIT_FRACTION * radius_mm)
        if fits.any():  # a pocket that holds it: the nearest
            best = np.where(fits, distance, np.inf).argmin()
        elif in_fat.any():  # fat too thin for it: the deepest
            best = np.where(in_fat, depth, -1.0).argmax()
        elif inside.any():  # no fat that deep under the skin: as close to fat as the body allows
            best = np.where(inside, to_fat + 1e-3 * distance, np.inf).argmin()
        else:
            return centre
        k, j, i = np.unravel_index(best, depth.shape)
        return np.array([x[0, 0, i], y[0, j, 0], z[k, 0, 0]])
