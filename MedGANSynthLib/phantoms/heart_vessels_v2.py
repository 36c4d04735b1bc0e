"""Heart and great vessels of the version-2 to version-4 phantoms: the heart's chambers in their pericardial fat,
the aorta from its root to the iliac arteries, the venae cavae, the pulmonary trunk and arteries and the oesophagus,
and the mediastinal lymph-node stations placed around them.

The heart is a whole-heart ellipsoid of the ICRP 89 reference mass (840 g men, 620 g women, scaled by the subject's
organ factor; REFERENCE.md §6) on a long axis tilted to the left, forwards and down, with the four chambers carved
from it; vessels are smoothed tubes through the vertebral levels of :class:`~frame_v2.Frame`. Version 4 thins the
pericardial fat to 2.5 mm (intrathoracic fat near [Stojanovska-2017]'s 141 cm³), raises the aortic arch's crest
to T3/T4, lowers the pulmonary bifurcation to 2 cm below the carina and adds the mediastinal fat sheaths of
:func:`thorax_v4.paint_mediastinal_fat`; version 10 runs the arch in front of and left of the trachea and gives the
aorta its published calibres (:mod:`mediastinum_v10`).
Chamber sizes, offsets and the other vessel radii are †. :mod:`anatomy_v2` calls
this for every version; it lives here to keep that file to one concept.
"""

from __future__ import annotations

import numpy as np

from MedGANSynthLib.phantoms.frame_v2 import Frame, organ_radius_factor
from MedGANSynthLib.phantoms.head_neck_v4 import airway_levels
from MedGANSynthLib.phantoms.mediastinum_v10 import aortic_path
from MedGANSynthLib.phantoms.shapes import (
    ellipsoid,
    paint,
    polyline_tube,
    segment_tube,
    smooth_polyline,
    tapered_tube,
)
from MedGANSynthLib.phantoms.thorax_v4 import paint_mediastinal_fat
from MedGANSynthLib.phantoms.tissues import LABEL

PERICARDIAL_FAT_MM_V4 = 2.5  # thinner than version 3's 6 mm: intrathoracic fat near Stojanovska 2017's 141 mL


def heart_axes() -> np.ndarray:
    """Rotation whose columns are the heart's long axis (base to apex) and two axes across it, for ellipsoids."""
    u = np.array([0.62, -0.58, -0.52])  # base -> apex: to the left, anterior, down
    u /= np.linalg.norm(u)
    v = np.cross(u, [0.0, 0.0, 1.0])
    v /= np.linalg.norm(v)
    return np.column_stack([u, v, np.cross(u, v)])


def paint_heart_and_vessels(labels, grid, fr: Frame, marks, version: int = 2) -> None:
    """Heart, aorta, venae cavae, pulmonary trunk and oesophagus; version 4 adds the arch's branches, the
    brachiocephalic veins and the mediastinal fat around them all
    (:func:`thorax_v4.paint_mediastinal_fat`)."""
    k = organ_radius_factor(fr, "heart") * fr.s
    axes = heart_axes()
    base_z = fr.diaphragm_top(1)
    z_c = base_z + 50 * k
    cy = float(fr.cage(z_c)[0])
    centre = np.array([18.0, cy - 18.0, z_c])
    myo, blood = LABEL["myocardium"], LABEL["blood"]
    pericardial_fat = np.array([66, 52, 50]) if version < 4 else np.array([60, 47, 45]) + PERICARDIAL_FAT_MM_V4
    paint(labels, ellipsoid(grid, centre, pericardial_fat * k, axes), LABEL["visceral_fat"],
          [LABEL["lung"]])  # pericardial fat
    paint(labels, ellipsoid(grid, centre, np.array([60, 47, 45]) * k, axes), myo)
    chambers = (  # (offset in heart axes, radii) of RV, RA, LA cavities; LV painted with its own wall below
        ([-4, -22, 4], [44, 20, 30]), ([-40, -6, 18], [24, 24, 28]), ([-30, 26, 16], [24, 20, 20]))
    for offset, radii in chambers:
        paint(labels, ellipsoid(grid, centre + axes @ (np.array(offset) * k), np.array(radii) * k, axes), blood,
              [myo])
    lv = centre + axes @ (np.array([10, 14, -4]) * k)
    paint(labels, ellipsoid(grid, lv, np.array([50, 35, 35]) * k, axes), myo)
    paint(labels, ellipsoid(grid, lv, np.array([34, 18, 18]) * k, axes), blood)
    # Aorta: root, ascending, arch at T4, descending beside the spine, abdominal, bifurcation at L4; iliacs.
    def spine_front(z, dx=0.0, gap=12.0):
        return fr.spine_y(z) - fr.spine_half(z)[1] - gap

    root = centre + axes @ (np.array([-38, 10, 30]) * k)
    arch_z = fr.level("T4", 0.0)
    aorta = [root, (root[0] - 4, root[1] - 6, arch_z - 30), (2, cy - 10, arch_z), (18, fr.spine_y(arch_z) - 20, arch_z - 8)]
    if version >= 4:  # the crest at T3/T4 after smoothing, the arch ending lower behind: at the carina the
        # ascending and descending aorta are two round vessels, the arch above them (†)
        aorta[2:] = [(4, cy - 4, arch_z + 14), (20, fr.spine_y(arch_z) - 18, arch_z - 6)]
    for level in ("T7", "T10", "L1", "L3", "L4"):
        zl = fr.level(level, 0.5)
        aorta.append((np.interp(fr.frac(zl), [0.25, 0.4], [22, 6]), spine_front(zl), zl))
    if version >= 10:  # the arch in front of and left of the trachea, published calibres (mediastinum_v10)
        points, control_radii = aortic_path(fr, aorta[0], aorta[1], aorta[3], marks["trachea"], aorta[4:])
        path = smooth_polyline(np.column_stack([points, control_radii]), 2)
        aorta, radii = path[:, :3], path[:, 3]
    else:
        aorta = smooth_polyline(aorta, 2)
        radii = np.linspace(14, 9, len(aorta)) * fr.s
    for shape in tapered_tube(grid, aorta, radii):
        paint(labels, shape, blood)
    bifurcation = aorta[-1]
    for side in (-1, 1):
        # Version 4's acetabulum reaches up there: the external iliacs run on the pelvic brim in front of it.
        brim = ((side * 60 * fr.s * fr.hip, -46 * fr.s, fr.z(0.48)) if fr.version >= 4
                else (side * 75 * fr.hip, bifurcation[1] - 10, fr.z(0.48)))
        iliac = smooth_polyline([bifurcation, (side * 40, bifurcation[1] + 10, fr.z(0.45)), brim,
                                 (side * 80 * fr.hip, -fr.half_ap(fr.z(0.5)) + fr.fat_at(fr.z(0.5)) + 30, fr.z(0.515))])
        for shape in polyline_tube(grid, iliac, 6.5):
            paint(labels, shape, blood)
        for shape in polyline_tube(grid, iliac + [side * 14, 6, 0], 7.5):
            paint(labels, shape, blood)  # iliac veins beside the arteries
    # Veins: SVC to the right atrium, IVC from the pelvis through the liver.
    ra = centre + axes @ (np.array([-40, -6, 18]) * k)
    paint(labels, segment_tube(grid, ra, (-26, cy - 8, fr.level("T2")), 9.0), blood)  # SVC
    ivc = [ra, (-22, spine_front(fr.level("T11"), gap=30), fr.level("T11"))]
    for level in ("L1", "L3", "L4"):
        zl = fr.level(level, 0.5)
        ivc.append((-24, spine_front(zl, gap=16), zl))
    ivc = smooth_polyline(ivc)
    for shape in polyline_tube(grid, ivc, 10.5 * fr.s):
        paint(labels, shape, blood)
    # Pulmonary trunk from the right ventricle to its bifurcation under the arch, branches to the hila.
    trunk_top = np.array([0.0, cy + 5, fr.level("T5", 0.6) if version < 4 else fr.level("T6", 0.1)])  # v4: 2 cm below the carina (†)
    rvot = centre + axes @ (np.array([-20, -38, 30]) * k)
    paint(labels, segment_tube(grid, rvot, trunk_top, 12.0 * fr.s), blood)
    hila, pulmonary_arteries = [], []
    for side in (-1, 1):
        hilum = np.array([side * 44 * fr.lat, cy + 10, fr.level("T6", 0.2)])
        if version >= 4:  # the left artery arches up over its bronchus, the right runs under the arch; both taper
            bend = trunk_top + [side * (24 if side > 0 else 28), 12, 5 if side > 0 else -2]
            pulmonary_arteries.append(smooth_polyline([trunk_top, bend, hilum], 2))
            artery = pulmonary_arteries[-1]
            for shape in tapered_tube(grid, artery, np.linspace(11.0, 7.0, len(artery)) * fr.s):
                paint(labels, shape, blood)
        else:
            paint(labels, segment_tube(grid, trunk_top, hilum, 9.0 * fr.s), blood)
        hila.append(hilum.tolist())
    # Version 4: the oesophagus starts at the cricoid, below the pharynx (head_neck_v4), not at the chin.
    top = airway_levels(fr)["cricoid"] if fr.version >= 4 else fr.z(0.125)
    oesophagus = [(0, 4, top), (2, fr.spine_y(fr.level("T1")) - 22, fr.level("T1"))]
    for level in ("T4", "T7", "T9"):
        zl = fr.level(level, 0.5)
        oesophagus.append((6 if level != "T9" else 14, fr.spine_y(zl) - fr.spine_half(zl)[1] - 12, zl))
    oesophagus.append((40, fr.cage(fr.level("T11"))[0] + 10, fr.level("T11", 0.5)))
    for shape in polyline_tube(grid, smooth_polyline(oesophagus, 1), 8.0):
        paint(labels, shape, LABEL["oesophagus"])
    svc_top = np.array([-26.0, cy - 8, fr.level("T2")])
    marks.update(
        heart_centre=centre.tolist(), hila=hila, ivc=ivc.tolist(), aorta=[list(map(float, p)) for p in aorta],
        oesophagus=[list(map(float, p)) for p in oesophagus],
        lung_range_z=[float(fr.diaphragm_top(1) - 60), fr.z(0.165)],
        # Stations: right paratracheal (4R), aortopulmonary window (5), subcarinal (7), hilar (10R, 10L).
        mediastinal_nodes=[[-20, fr.spine_y(fr.level("T3")) - 38, fr.level("T3")],
                           [18, cy, fr.level("T4", 0.8)], [0, cy + 14, fr.level("T5", 0.3) - 22],
                           [hila[0][0] * 0.75, hila[0][1] - 6, hila[0][2] + 12],
                           [hila[1][0] * 0.75, hila[1][1] - 6, hila[1][2] + 12]],
        axillary_nodes=[[side * (fr.half_lat(fr.level("T3")) - fr.fat - 25), 5, fr.level("T3")] for side in (-1, 1)],
    )

    if version >= 4:
        paint_mediastinal_fat(labels, grid, fr, marks, aorta, [(ra, svc_top), (rvot, trunk_top)]
                              + pulmonary_arteries, svc_top)
