"""Tapering vessel trees grown from a root: the pulmonary trees of versions 4-5 (:mod:`thorax_v4`) and the hepatic
and portal veins of version 5 (:mod:`liver_vessels_v5`).

A tree is a tapering segment followed by two children that lean away from the root, each thinner and shorter by
fixed ratios (a child's radius by Murray's law for a symmetric fork, †: REFERENCE.md §6), until the last generation
or until a segment ends outside the organ it grows in. A :class:`TreeStyle` holds what differs between organs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from MedGANSynthLib.phantoms.shapes import paint, segment_tube, tapered_segment
from MedGANSynthLib.phantoms.tissues import LABEL

MURRAY_RATIO = 2.0 ** (-1.0 / 3.0)


@dataclass(frozen=True)
class TreeStyle:
    """How a tree grows. ``paint_into``: labels a vessel may replace; ``grows_through``: labels a segment's end may
    lie in for children to follow; ``min_radius``: no segment thinner (mm, 0: none); ``bronchus_generations``: the
    first generations with a bronchus beside the vessel (lungs); ``lean``: how strongly children turn away from the
    root; ``turn_sd``: their random turn."""

    paint_into: tuple[int, ...]
    grows_through: tuple[int, ...]
    generations: int
    length_ratio: float
    radius_ratio: float = MURRAY_RATIO
    min_radius: float = 0.0
    bronchus_generations: int = 0
    lean: float = 0.4
    turn_sd: float = 0.5


def label_at_point(labels, grid, point) -> int:
    """The label of the voxel nearest above ``point`` on each axis (clipped to the grid)."""
    index = tuple(int(np.clip(np.searchsorted(axis, p), 0, axis.size - 1)) for axis, p in
                  ((grid.z, point[2]), (grid.y, point[1]), (grid.x, point[0])))
    return int(labels[index])


def grow_tree(labels, grid, rng, style: TreeStyle, root, start, direction, length, radius, generation=0) -> None:
    """One tapering vessel segment (with its bronchus in the style's first generations), then two children leaning
    away from ``root``, until the style's last generation or until the segment ends outside ``grows_through``."""
    direction = direction / np.linalg.norm(direction)
    end = start + direction * length
    paint(labels, tapered_segment(grid, start, end, radius, max(0.9 * radius, style.min_radius)), LABEL["blood"],
          list(style.paint_into))
    bronchus = generation < style.bronchus_generations
    if bronchus:  # a bronchus runs beside the artery in the first generations
        offset = np.cross(direction, [0, 0, 1.0]) * 0.8 * (radius + 3)
        paint(labels, segment_tube(grid, start + offset, end + offset, radius + 1.2), LABEL["muscle"],
              list(style.paint_into))
        paint(labels, segment_tube(grid, start + offset, end + offset, radius * 0.8), LABEL["airway"],
              list(style.paint_into) + [LABEL["muscle"]])
    inside = list(style.grows_through) + [LABEL["muscle"]] * bronchus
    if generation >= style.generations or label_at_point(labels, grid, end) not in inside:
        return  # the last generation, or the branch left the organ
    outward = (end - root) / max(np.linalg.norm(end - root), 1e-6)
    for _ in range(2):
        turn = rng.normal(0.0, style.turn_sd, 3)
        grow_tree(labels, grid, rng, style, root, end, direction + style.lean * outward + turn,
                  length * style.length_ratio, max(radius * style.radius_ratio, style.min_radius), generation + 1)
