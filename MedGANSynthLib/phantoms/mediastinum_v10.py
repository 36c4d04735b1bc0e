"""Version 10: the trachea, the aortic arch and the aorta as CT shows them (REFERENCE.md, "Version 10: mediastinum").

Versions 4-9 run the trachea down to a carina ~4 cm in front of the oesophagus and send the aortic arch's crest
through the midline there, so the arch cuts the trachea's air column for ~2.5 cm above the carina and eats into it
below; the aorta tapers from 28 to 18 mm and the tracheal lumen is 16 mm, both alike in men and women. Session 33's
citations found the ascending aorta ~6.5 mm narrower than in 3,431 Framingham adults ([Aorta-FHS-2013]) and the
men's trachea 1.6-2.1 SD narrower than in 824 adults ([Trachea-CT-China]). Version 10:

* the trachea descends from the thoracic inlet to a carina just in front of the oesophagus, 1 mm (†) between the
  tracheal wall and the oesophagus;
* the arch rises in front of the trachea and passes down its left side to the descending aorta beside the spine
  (the trachea and oesophagus are the arch's posterior relations, [Aortic-arch-relations]; the thoracic aorta lies
  on the left of T5-T6, [Posterior-mediastinum]), keeping 4 mm (†) between its wall and the trachea's;
* the aorta takes each sex's published mean diameters (root and ascending limb: the ascending mean; crest and
  left of the trachea: halfway to the descending mean (†, no arch value read); descending thoracic: the descending
  mean; L1 halfway to the infrarenal mean (†); L3 infrarenal; L4 lower abdominal), smoothed along the path with it;
* the tracheal lumen takes the mean of the four levels measured in each sex, under version 9's 2 mm wall (†).

Sizes scale with the subject's height over the ICRP reference height of that sex (the tracheal source found the
diameter linear in height; the aortic one larger with body surface area: the exponent 1 is †). No random draw:
every other value of a seed stays version 9's.
"""

from __future__ import annotations

import numpy as np

from MedGANSynthLib.phantoms.frame_v2 import REFERENCE_BODY, Frame

# [Aorta-FHS-2013] mean diameters, mm: ascending, descending thoracic, infrarenal, lower abdominal aorta.
AORTA_DIAMETER_MM = {"M": (34.1, 25.8, 19.3, 18.7), "F": (31.9, 23.1, 16.7, 16.0)}
# [Trachea-CT-China] mean inner diameter, mm: thoracic inlet, aortic arch, 2 cm above the carina, narrowest point.
TRACHEA_LUMEN_MM = {"M": (18.9, 18.8, 19.0, 18.4), "F": (15.6, 16.1, 16.3, 15.5)}
TRACHEAL_WALL_MM = 2.0  # versions 2-9's wall (10 mm outer radius over an 8 mm lumen, †)
OESOPHAGUS_RADIUS_MM = 8.0  # heart_vessels_v2's oesophagus tube
OESOPHAGUS_IN_FRONT_OF_SPINE_MM = 12.0  # heart_vessels_v2: its centre 12 mm in front of the vertebral bodies
TRACHEA_TO_OESOPHAGUS_MM = 1.0  # †
ARCH_CLEARANCE_MM = 4.0  # aortic wall to tracheal wall (†; leaves room for the path's smoothing)


def height_scale(fr: Frame) -> float:
    """The subject's height over the reference height of the subject's sex."""
    return fr.subject.height_cm / REFERENCE_BODY[fr.subject.sex][0]


def aorta_radii(fr: Frame) -> tuple[float, float, float, float]:
    """Radii (mm) of the ascending, descending thoracic, infrarenal and lower abdominal aorta."""
    return tuple(d / 2.0 * height_scale(fr) for d in AORTA_DIAMETER_MM[fr.subject.sex])


def trachea_lumen_radius(fr: Frame) -> float:
    levels = TRACHEA_LUMEN_MM[fr.subject.sex]
    return sum(levels) / len(levels) / 2.0 * height_scale(fr)


def trachea_wall_radius(fr: Frame) -> float:
    return trachea_lumen_radius(fr) + TRACHEAL_WALL_MM * fr.s


def carina_y(fr: Frame, z: float) -> float:
    """The carina's y: the trachea's back wall just in front of the oesophagus at that level."""
    oesophagus = float(fr.spine_y(z) - fr.spine_half(z)[1]) - OESOPHAGUS_IN_FRONT_OF_SPINE_MM
    return oesophagus - OESOPHAGUS_RADIUS_MM - TRACHEA_TO_OESOPHAGUS_MM - trachea_wall_radius(fr)


def aortic_path(fr: Frame, root, ascending, arch_end, trachea, lower_points) -> tuple[np.ndarray, np.ndarray]:
    """The aorta's smoothed path and radii: ``root`` and ``ascending`` (heart_vessels_v2's first two points), a
    crest in front of the ``trachea`` (its path's points) and a point to its left, ``arch_end`` beside the spine,
    then ``lower_points`` (T7, T10, L1, L3, L4)."""
    ascending_r, descending_r, infrarenal_r, lower_r = aorta_radii(fr)
    arch_r = (ascending_r + descending_r) / 2.0
    trachea = np.asarray(trachea, float)
    order = np.argsort(trachea[:, 2])

    def trachea_y(z: float) -> float:
        return float(np.interp(z, trachea[order, 2], trachea[order, 1]))

    reach = trachea_wall_radius(fr) + arch_r + ARCH_CLEARANCE_MM
    crest_z, left_z = arch_end[2] + 20.0, arch_end[2] + 10.0
    crest = (4.0, trachea_y(crest_z) - reach, crest_z)
    left = (reach, trachea_y(left_z), left_z)
    points = [root, ascending, crest, left, arch_end, *lower_points]
    radii = [ascending_r, ascending_r, arch_r, arch_r, descending_r, descending_r, descending_r,
             (descending_r + infrarenal_r) / 2.0, infrarenal_r, lower_r]
    return np.asarray(points, float), np.asarray(radii, float)
