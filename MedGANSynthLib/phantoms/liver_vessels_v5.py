"""Version-5 liver veins: the portal vein's right and left branches from the porta hepatis and the right, middle and
left hepatic veins from the inferior vena cava just below the diaphragm, as tapering trees inside the liver.

Versions 2-4 drew five straight tubes (6 to 2.5 mm radius) that a portal-venous CT shows as a few bright dots.
Each version-5 vein is a trunk from the vessel it joins (painted into liver and the fat between them, so it stays
connected) followed by a tree grown by :func:`vessel_tree.grow_tree` into liver only, so no branch leaves the liver.
They are ``blood``: enhanced with the phase's blood HU, slightly below the liver on FDG PET (blood pool).
Sources (REFERENCE.md "Version 5: liver and lung vessels"): right and left hepatic veins 7-12 mm wide in most of
100 autopsy livers, their upper margin 8.6 mm (mean) below the caval hiatus [Hepatic-veins-2001]; main portal vein
15.5 ± 1.9 mm on CT [Stamm-PV]. Directions, lengths, generations and the taper are †.
"""

from __future__ import annotations

import numpy as np

from MedGANSynthLib.phantoms.shapes import paint, tapered_segment
from MedGANSynthLib.phantoms.tissues import LABEL
from MedGANSynthLib.phantoms.vessel_tree import MURRAY_RATIO, TreeStyle, grow_tree

HEPATIC_VEIN_RADIUS_MM = 4.5  # 9 mm at the cava: inside the 7-12 mm of most autopsy livers
CONFLUENCE_BELOW_HIATUS_MM = 8.6  # caval hiatus to the right hepatic vein's upper margin (autopsy mean)
MAIN_PORTAL_VEIN_RADIUS_MM = 15.5 / 2  # CT mean of healthy adults (versions 2-4: 7 mm, a 14 mm vein)
PORTAL_BRANCH_RADIUS_MM = MAIN_PORTAL_VEIN_RADIUS_MM * MURRAY_RATIO  # the main portal vein forks by Murray's law
TRUNK_SHARE = 0.35  # a vein's trunk runs this share of the way to its target before it branches (†)
LIVER_TREE_V5 = TreeStyle(paint_into=(LABEL["liver"],), grows_through=(LABEL["liver"], LABEL["blood"]),
                          generations=6, length_ratio=0.8, min_radius=1.0, lean=0.3, turn_sd=0.5)


def hepatic_vein_targets(cavity, confluence) -> dict[str, np.ndarray]:
    """Where the right, middle and left hepatic veins head from ``confluence``: the right lobe's lateral part,
    the gallbladder fossa (between the hemilivers) and the left lobe (†)."""
    cy, a, b = cavity
    z = confluence[2]
    return {"right": np.array([-0.85 * a, cy + 0.10 * b, z - 100.0]),
            "middle": np.array([-0.30 * a, cy - 0.65 * b, z - 75.0]),
            "left": np.array([0.25 * a, cy - 0.60 * b, z - 25.0])}


def portal_targets(cavity, porta) -> dict[str, np.ndarray]:
    """The right portal vein's anterior (up and forwards) and posterior (down and back) sectors and the left portal
    vein (forwards and to the left) (†)."""
    cy, a, b = cavity
    z = porta[2]
    return {"right anterior": np.array([-0.55 * a, cy - 0.30 * b, z + 35.0]),
            "right posterior": np.array([-0.65 * a, cy + 0.20 * b, z - 90.0]),
            "left": np.array([0.20 * a, cy - 0.60 * b, z + 15.0])}


def paint_vein(labels, grid, rng, start, target, radius) -> None:
    """A trunk from ``start`` (in the vessel it joins) towards ``target``, then a tree inside the liver."""
    start, target = np.asarray(start, float), np.asarray(target, float)
    direction = target - start
    end = start + TRUNK_SHARE * direction
    paint(labels, tapered_segment(grid, start, end, radius, 0.9 * radius), LABEL["blood"],
          [LABEL["liver"], LABEL["visceral_fat"]])
    grow_tree(labels, grid, rng, LIVER_TREE_V5, start, end, direction, 0.6 * np.linalg.norm(end - start),
              0.9 * radius, generation=1)


def paint_liver_veins(labels, grid, rng, cavity, confluence, porta) -> dict:
    """The three hepatic veins from ``confluence`` (on the IVC), the right and left portal veins from ``porta``;
    returns where they start, for the landmarks. ``rng`` is only drawn from here (a stream of its own)."""
    for target in hepatic_vein_targets(cavity, confluence).values():
        paint_vein(labels, grid, rng, confluence, target, HEPATIC_VEIN_RADIUS_MM)
    for target in portal_targets(cavity, porta).values():
        paint_vein(labels, grid, rng, porta, target, PORTAL_BRANCH_RADIUS_MM)
    return {"hepatic_confluence": list(map(float, confluence)), "porta": list(map(float, porta))}


def confluence_on_ivc(ivc, hiatus_z: float, scale: float) -> np.ndarray:
    """The point of the IVC's axis where the hepatic veins join: their upper margin
    :data:`CONFLUENCE_BELOW_HIATUS_MM` (× the subject's length scale) below the caval hiatus at ``hiatus_z``."""
    ivc = np.asarray(ivc, float)
    z = hiatus_z - CONFLUENCE_BELOW_HIATUS_MM * scale - HEPATIC_VEIN_RADIUS_MM
    order = np.argsort(ivc[:, 2])
    return np.array([np.interp(z, ivc[order, 2], ivc[order, axis]) for axis in range(3)])
