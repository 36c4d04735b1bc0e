"""Phantom version 10: the trachea, the aortic arch and the aorta as CT shows them (REFERENCE.md, "Version 10").

Measured on the label map the generator paints, as a radiologist measures on an axial slice: the short axis of the
vessel's or the airway's section (an oblique tube cuts an ellipse whose short axis is its calibre), found here from
the section's second moments (a filled ellipse's variance along an axis is a quarter of the semi-axis squared).
Published, copied from REFERENCE.md: ascending / descending thoracic aorta, men 34.1 / 25.8 mm, women 31.9 / 23.1 mm
[Aorta-FHS-2013], SD 4 / 3 mm [Aorta-CAC-2008]; tracheal lumen, men 18.4-19.0 mm (SD 1.5-1.7), women 15.5-16.3 mm
(SD 1.1-1.3) at four levels from the inlet to the carina [Trachea-CT-China]; the trachea and the oesophagus are
the arch's posterior relations [Aortic-arch-relations], the thoracic aorta on the left of T5-T6 [Posterior-mediastinum].
The checks ask for one SD: the subjects are near the reference heights.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from MedGANSynthLib.phantoms.anatomy_v2 import build_anatomy_v2
from MedGANSynthLib.phantoms.frame_v2 import random_subject_v2
from MedGANSynthLib.phantoms.shapes import AxisGrid
from MedGANSynthLib.phantoms.tissues import LABEL
from MedGANSynthLib.phantoms.wholebody import WholeBodyConfig, ct_grid
from MedGANSynthLib.phantoms.wholebody_v2 import case_streams

PUBLISHED = {  # (mean, SD) in mm
    "M": {"ascending": (34.1, 4.0), "descending": (25.8, 3.0), "trachea": (18.8, 1.6)},
    "F": {"ascending": (31.9, 4.0), "descending": (23.1, 3.0), "trachea": (15.9, 1.3)},
}
SUBJECTS = {"M": 6, "F": 11}  # seeds: a man of 175.9 cm and a woman of 164.6 cm (references 176 and 163)
AORTA_ABOVE_CARINA_MM = 15.0  # below the arch, above the pulmonary arteries: both limbs are round sections


@pytest.fixture(scope="module")
def anatomies():
    grid = AxisGrid.from_geometry(*ct_grid(WholeBodyConfig()))
    built = {}
    for sex, seed in SUBJECTS.items():
        for version in (9, 10):
            rng = case_streams(seed)[0]
            subject = random_subject_v2(rng, "down")
            assert subject.sex == sex
            built[sex, version] = build_anatomy_v2(grid, subject, rng, version)
    return built


def section(anatomy, point, label: int) -> np.ndarray | None:
    """(n, 2) x, y in mm of the section of ``label`` through ``point`` on the axial slice nearest to it."""
    grid = anatomy.grid
    k = int(np.argmin(np.abs(grid.z - point[2])))
    components, _ = ndimage.label(anatomy.labels[k] == label)
    j, i = int(np.argmin(np.abs(grid.y - point[1]))), int(np.argmin(np.abs(grid.x - point[0])))
    if components[j, i] == 0:
        return None
    rows, cols = np.nonzero(components == components[j, i])
    return np.column_stack([grid.x[cols], grid.y[rows]])


def short_axis_mm(points: np.ndarray) -> float:
    return float(4.0 * np.sqrt(np.linalg.eigvalsh(np.cov(points.T))[0]))


def aorta_points(anatomy) -> dict[str, np.ndarray]:
    """The aorta's path on either side of its crest, nearest to the measuring level."""
    path = np.asarray(anatomy.landmarks["aorta"], float)
    level = anatomy.landmarks["carina"][2] + AORTA_ABOVE_CARINA_MM
    crest = int(np.argmax(path[:, 2]))
    limbs = {"ascending": path[:crest], "descending": path[crest:]}
    return {name: limb[np.argmin(np.abs(limb[:, 2] - level))] for name, limb in limbs.items()}


def trachea_sections(anatomy) -> list[np.ndarray | None]:
    """The airway's section on every slice from 5 mm above the carina up to the thoracic inlet, on the trachea's
    path (the path's points are the landmarks the generator drew it through)."""
    path = np.asarray(anatomy.landmarks["trachea"], float)[::-1]  # carina first, z rising
    grid, inlet = anatomy.grid, path[1, 2]
    levels = grid.z[(grid.z >= path[0, 2] + 5.0) & (grid.z <= inlet)]
    return [section(anatomy, [np.interp(z, path[:, 2], path[:, 0]), np.interp(z, path[:, 2], path[:, 1]), z],
                    LABEL["airway"]) for z in levels]


@pytest.mark.parametrize("sex", ["M", "F"])
def test_the_aorta_has_its_published_calibre(anatomies, sex):
    for part, point in aorta_points(anatomies[sex, 10]).items():
        mean, sd = PUBLISHED[sex][part]
        assert abs(short_axis_mm(section(anatomies[sex, 10], point, LABEL["blood"])) - mean) <= sd, part
    old = short_axis_mm(section(anatomies[sex, 9], aorta_points(anatomies[sex, 9])["ascending"], LABEL["blood"]))
    mean, sd = PUBLISHED[sex]["ascending"]
    assert old < mean - sd  # version 9's ascending aorta: more than a SD too narrow


@pytest.mark.parametrize("sex", ["M", "F"])
def test_the_trachea_is_one_open_tube_of_its_published_calibre(anatomies, sex):
    mean, sd = PUBLISHED[sex]["trachea"]
    sections = trachea_sections(anatomies[sex, 10])
    assert len(sections) > 15 and all(part is not None for part in sections)
    calibres = [short_axis_mm(part) for part in sections]
    assert all(abs(calibre - mean) <= sd for calibre in calibres), np.round(calibres, 1)
    # version 9's arch crossed the midline through the trachea: its air column is cut above the carina
    assert any(part is None for part in trachea_sections(anatomies[sex, 9]))


@pytest.mark.parametrize("sex", ["M", "F"])
def test_the_oesophagus_lies_behind_the_trachea_and_the_arch_to_their_left(anatomies, sex):
    anatomy = anatomies[sex, 10]
    carina = np.asarray(anatomy.landmarks["carina"], float)
    oesophagus = np.asarray(anatomy.landmarks["oesophagus"], float)
    behind = np.interp(carina[2], oesophagus[::-1, 2], oesophagus[::-1, 1])
    # from the trachea's centre to the oesophagus's front (its radius is 8 mm): the tracheal wall's radius (9-12 mm)
    # and a thin gap; version 9 left 35-39 mm of mediastinum there
    to_oesophagus = behind - 8.0 - carina[1]
    assert 0.0 < to_oesophagus < 15.0, to_oesophagus
    path = np.asarray(anatomy.landmarks["aorta"], float)
    crest = int(np.argmax(path[:, 2]))
    level = path[crest:][np.argmin(np.abs(path[crest:, 2] - (carina[2] + 35.0)))]  # the arch beside the trachea
    assert level[0] > 15.0  # on the patient's left (x > 0 in LPS) of the midline trachea (version 9: 5-10 mm)
