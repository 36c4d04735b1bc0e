"""Version-2 muscle solids that are painted once and named again: erector spinae, psoas and thighs.

:mod:`anatomy_v2` paints them; version 5's :mod:`muscle_groups_v5` finds the same solids again to name the muscle
inside them, so the two never disagree.
"""

from __future__ import annotations

import numpy as np

from MedGANSynthLib.phantoms.frame_v2 import Frame
from MedGANSynthLib.phantoms.shapes import vertical_superellipse


def erector_spinae_shape(grid, fr: Frame, side: int):
    """One side's erector spinae, beside the spinous processes from T11 to the sacrum."""
    return vertical_superellipse(
        grid, (fr.z(0.47), fr.level("T11", 0.0)), lambda z: side * 32 * fr.s + 0 * z,
        lambda z: fr.spine_y(z) + fr.spine_half(z)[1] + 32 * fr.s, lambda z: 28 * fr.s * fr.muscle + 0 * z,
        lambda z: 22 * fr.s * fr.muscle + 0 * z, 2.2)


def psoas_shape(grid, fr: Frame, side: int):
    """One side's psoas major from T12/L1 along the lumbar spine to the groin."""
    top, bottom = fr.level("T12", 0.5), fr.z(0.50)

    def cx(z):
        f = fr.frac(z)
        w = fr.spine_half(z)[0]
        return side * (w + np.interp(f, [0.33, 0.42, 0.46, 0.50], [12, 22, 40, 62]) * fr.s)

    def cy(z):
        f = fr.frac(z)
        return fr.spine_y(z) - np.interp(f, [0.33, 0.42, 0.46, 0.50], [2, 8, 30, 55]) * fr.s

    def rx(z):
        return np.interp(fr.frac(z), [0.33, 0.40, 0.44, 0.50], [9, 19, 24, 18]) * fr.s * fr.muscle

    def ry(z):
        return np.interp(fr.frac(z), [0.33, 0.40, 0.44, 0.50], [9, 18, 20, 16]) * fr.s * fr.muscle

    return vertical_superellipse(grid, (bottom, top), cx, cy, rx, ry)


def thigh_axes(fr: Frame, side: int):
    """(centre x, centre y, radius) of one thigh as functions of z."""
    def centre_x(z):
        return side * np.interp(fr.frac(z), [0.47, 0.53, 0.65], [78, 90, 88]) * fr.hip * fr.lat ** 0.5

    def radius(z):
        return np.interp(fr.frac(z), [0.47, 0.53, 0.60, 0.70], [78, 88, 80, 66]) * fr.lat * fr.hip

    def centre_y(z):
        return np.interp(fr.frac(z), [0.47, 0.53], [12, 0]) + 0 * z

    return centre_x, centre_y, radius


def thigh_muscle_shape(grid, fr: Frame, side: int):
    """One thigh inside its subcutaneous fat, from the hip down past the grid's end."""
    centre_x, centre_y, radius = thigh_axes(fr, side)
    return vertical_superellipse(grid, (fr.z(0.47), grid.z[0] - 10), centre_x, centre_y,
                                 lambda z: radius(z) - fr.fat * 0.9, lambda z: radius(z) * 0.95 - fr.fat * 0.9, 2.1)
