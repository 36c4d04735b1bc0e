"""Version-4 skull base and pharyngeal airway: the occipital bone closes onto C1 around a foramen magnum, and one
air column runs from the nasal cavity through the naso-, oro- and hypopharynx and the larynx into the trachea.

Versions 2-3 left ~40 mm of plain soft tissue between the skull and C1 and only a thin tube for the pharynx, so
the head & neck class's pharyngeal tumour sat in a featureless oval. Sizes are published values (REFERENCE.md §6):
foramen magnum 37.4 x 30.9 mm in men, 35.8 x 28.8 mm in women (sagittal x transverse, CT; Abdelaziz, Int J Biomed
2020); retropalatal airway 6.9 mm deep x 16.7 mm wide, retroglossal 10.1 x 17.7 mm (MSCT, 100 adults); glottis
11.3 mm wide (CT, 100 adults). The wall gaps in front of the spine and the nasopharynx's size are †.
"""

from __future__ import annotations

import numpy as np

from MedGANSynthLib.phantoms.frame_v2 import Frame
from MedGANSynthLib.phantoms.shapes import AxisGrid, ellipsoid, paint, segment_tube, vertical_superellipse
from MedGANSynthLib.phantoms.tissues import LABEL

BONE, MARROW = LABEL["cortical_bone"], LABEL["cancellous_bone"]
SOFT = [LABEL["muscle"], LABEL["visceral_fat"]]  # what the skull base may replace: deep soft tissue only
OPEN = [*SOFT, 0, LABEL["subcutaneous_fat"], LABEL["airway"], LABEL["tonsil"], LABEL["parotid"]]  # not brain, bone

# Foramen magnum (sagittal, transverse) diameters, mm, Abdelaziz 2020.
FORAMEN_MAGNUM_MM = {"M": (37.4, 30.9), "F": (35.8, 28.8)}
CLIVUS_DEG, CLIVUS_MM = 65.0, 42.0  # slope from the horizontal and length, basion to dorsum sellae (†)

# Airway cross-sections from the nasopharynx to the cricoid: (name, gap from the front of the vertebral column to
# the posterior airway wall, lateral half-width, AP half-depth), all mm. Retropalatal and retroglossal: MSCT means
# above; glottis: 11.3 mm wide; the rest †. The nasopharynx (depth None) reaches forward to the choanae.
CHOANAE_Y_MM = -24.0  # the back of the nasal cavity of anatomy_v2's head (y = -52 + 28), times the head scale
AIRWAY_SECTIONS = (
    ("nasopharynx_roof", 14.0, 9.0, None),
    ("nasopharynx", 10.0, 14.0, None),
    ("retropalatal", 5.0, 8.35, 3.45),
    ("retroglossal", 4.5, 8.85, 5.05),
    ("epiglottis", 5.0, 10.0, 7.0),
    ("vestibule", 9.0, 8.0, 9.0),
    ("glottis", 9.0, 5.65, 8.0),
)


def airway_levels(fr: Frame) -> dict[str, float]:
    """z (mm) of each airway section: nasopharynx from the eyes' level (head), the rest from the cervical levels."""
    hs = fr.s**0.3
    eye_z = fr.z(0.064)
    return {  # the roof under the brain's floor (anatomy_v2: 138 mm below the vertex), the middle at the basion
        "nasopharynx_roof": -142 * hs, "nasopharynx": fr.basion_z - 2,
        "retropalatal": eye_z - 62 * hs,  # behind the soft palate, below the hard palate (eye - 52)
        "retroglossal": fr.level("C3", 0.0), "epiglottis": fr.level("C3", 0.7),
        "vestibule": fr.level("C4", 0.6), "glottis": fr.level("C5", 0.8),
        "cricoid": fr.level("C6", 0.7),  # the trachea starts below the cricoid
    }


def spine_front(fr: Frame, z):
    """y of the front of the vertebral bodies at z."""
    return fr.spine_y(z) - fr.spine_half(z)[1]


def paint_skull_base(labels, grid: AxisGrid, fr: Frame) -> dict:
    """Occipital plate under the cerebellum with the foramen magnum, condyles on C1, and the clivus."""
    hs = fr.s**0.3
    basion_z = fr.basion_z
    c1 = fr.level("C1")
    yc, depth = float(fr.spine_y(c1)), float(fr.spine_half(c1)[1])
    canal_y = yc + depth + 9 * fr.s  # as the vertebrae's canal (skeleton_v2)
    sagittal, transverse = FORAMEN_MAGNUM_MM[fr.subject.sex]
    fm_y = canal_y  # the foramen magnum over the spinal canal; its front rim (basion) over the dens
    basion_y = fm_y - sagittal / 2
    # The occipital plate, from the basion back, stopping 20 mm (†) inside the head's muscle layer (anatomy_v2's
    # ellipsoid, centre y 6, radii 95 x 102 hs): in heavy subjects the spine, and so the foramen, lies further back.
    head_back = 6 + 95 * hs * np.sqrt(max(0.0, 1 - ((basion_z + 104 * hs) / (102 * hs)) ** 2))
    front, rear = basion_y - 4, min(fm_y + 50 * hs, head_back - 20)
    for value, inset, where in ((BONE, 0.0, SOFT), (MARROW, 3.0, [BONE])):  # a flat disc 12 mm thick (†)
        paint(labels, vertical_superellipse(
            grid, (basion_z - 5 + inset, basion_z + 7 - inset), lambda z: 0 * z, lambda z: (front + rear) / 2 + 0 * z,
            lambda z, i=inset: 58.0 * hs - i + 0 * z, lambda z, i=inset: (rear - front) / 2 - i + 0 * z), value, where)
    dorsum = [0.0, basion_y - CLIVUS_MM * hs * np.cos(np.radians(CLIVUS_DEG)),
              basion_z + CLIVUS_MM * hs * np.sin(np.radians(CLIVUS_DEG))]
    lower_clivus = [0.0, basion_y - 2, basion_z + 2]  # the foramen's front rim
    paint(labels, segment_tube(grid, lower_clivus, dorsum, 7.0), BONE, SOFT)
    paint(labels, segment_tube(grid, lower_clivus, dorsum, 4.0), MARROW, [BONE])
    for side in (-1, 1):  # occipital condyles on the lateral masses of C1 (atlanto-occipital joints)
        centre = [side * (transverse / 2 + 6), fm_y - 6, basion_z - 1]
        paint(labels, ellipsoid(grid, centre, [8, 12, 5]), BONE, SOFT)
    # The foramen magnum: open the bone between the posterior fossa and the spinal canal.
    hole = vertical_superellipse(grid, (fr.vertebrae["C1"][0] - 2, basion_z + 8), lambda z: 0 * z, lambda z: fm_y + 0 * z,
                                 lambda z: transverse / 2 + 0 * z, lambda z: sagittal / 2 + 0 * z)
    paint(labels, hole, LABEL["csf"], [BONE, MARROW, *SOFT])
    return {"basion": [0.0, round(basion_y, 2), round(basion_z, 2)],
            "foramen_magnum_mm": [transverse, sagittal]}


def paint_pharyngeal_airway(labels, grid: AxisGrid, fr: Frame, trachea_top) -> dict:
    """The air column nasopharynx → oropharynx → hypopharynx/larynx, ending in the trachea's top (x, y, z, radius)."""
    hs = fr.s**0.3
    levels = airway_levels(fr)
    zs = np.array([levels[name] for name, *_ in AIRWAY_SECTIONS] + [trachea_top[2]])
    front = np.array([float(spine_front(fr, z)) for z in zs[:-1]])
    gap, half_x = (np.array([row[i] for row in AIRWAY_SECTIONS], float) for i in (1, 2))
    back = front - gap
    choanae = CHOANAE_Y_MM * hs
    half_y = np.array([(b - choanae) / 2 if row[3] is None else row[3] * hs
                       for b, row in zip(back, AIRWAY_SECTIONS, strict=True)])
    half_x, half_y = np.append(half_x * hs, trachea_top[3]), np.append(half_y, trachea_top[3])
    centre_y = np.append(back - half_y[:-1], trachea_top[1])
    order = np.argsort(zs)  # np.interp needs increasing z

    def along(values):
        return lambda z: np.interp(z, zs[order], values[order])

    column = vertical_superellipse(grid, (zs[-1], zs[0]), lambda z: 0 * z, along(centre_y), along(half_x),
                                   along(half_y))
    paint(labels, column, LABEL["airway"], OPEN)
    eye_z = fr.z(0.064)  # the choanae: the back of the nasal cavity opens into the nasopharynx
    paint(labels, ellipsoid(grid, [0, choanae - 2, eye_z - 30 * hs], [9, 8, 13]), LABEL["airway"], OPEN)
    z_oro = levels["retroglossal"]
    oro_y = float(np.interp(z_oro, zs[order], centre_y[order]))
    oro_half = float(np.interp(z_oro, zs[order], half_x[order]))
    for side in (-1, 1):  # palatine tonsils in the lateral oropharyngeal walls
        paint(labels, ellipsoid(grid, [side * (oro_half + 6), oro_y, z_oro + 8], [6, 8, 10]), LABEL["tonsil"],
              [LABEL["muscle"], LABEL["visceral_fat"]])
    widest = float(np.max(half_x[(zs > z_oro - 30) & (zs < z_oro + 30)]))
    return {"pharynx": [0.0, round(oro_y, 2), round(z_oro, 2)], "pharynx_lumen_half_width": round(widest, 2)}
