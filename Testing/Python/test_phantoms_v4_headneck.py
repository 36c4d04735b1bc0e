"""Version-4 head and neck: the skull base sits on C1 around a foramen magnum, one air column runs from the nasal
cavity to the trachea with published pharyngeal sizes, and the head & neck primary grows in the pharyngeal wall
beside that air. Expected numbers are the literature's (REFERENCE.md §6), measured on generated label maps.

The anatomy is painted on a 2 mm grid around the head and neck only (the generator's own painting code, cropped),
so that millimetre-scale airway sizes can be measured; the same subjects as the whole-body tests (seeds 0, 3, 6, 8:
two women, two men).
"""

from __future__ import annotations

from itertools import groupby

import numpy as np
import pytest
from scipy import ndimage

from MedGANSynthLib.phantoms.anatomy_v2 import build_anatomy_v2
from MedGANSynthLib.phantoms.frame_v2 import random_subject_v2
from MedGANSynthLib.phantoms.lesions import place_lesions, render_lesions
from MedGANSynthLib.phantoms.shapes import AxisGrid
from MedGANSynthLib.phantoms.tissues import LABEL
from MedGANSynthLib.phantoms.wholebody_v2 import case_streams

VOXEL_MM = 2.0
BONE = [LABEL["cortical_bone"], LABEL["cancellous_bone"], LABEL["yellow_marrow"], LABEL["disc"]]
BRAIN = [LABEL["grey_matter"], LABEL["white_matter"], LABEL["cerebellum"]]

# Rojas et al., AJNR 2007 (MDCT, 200 adults): basion-dens interval < 8.5 mm in 95 %.
BASION_DENS_MAX_MM = 8.5
# Abdelaziz et al., Int J Biomed 2020 (CT): foramen magnum sagittal / transverse diameter, mean, SD (mm).
FORAMEN_MAGNUM = {"M": ((37.41, 3.27), (30.93, 2.95)), "F": ((35.80, 2.88), (28.80, 1.96))}
# Retroglossal airway on MSCT, 100 asymptomatic adults: depth 10.1 ± 1.95 mm, width 17.7 ± 3.8 mm; retropalatal
# depth 6.9 ± 1.4 mm (the narrowest part, which must stay open).
RETROGLOSSAL_DEPTH, RETROGLOSSAL_WIDTH, RETROPALATAL_DEPTH = (10.1, 1.95), (17.7, 3.8), (6.9, 1.4)


def _head_neck(seed: int, version: int = 4):
    grid = AxisGrid.from_geometry((int(300 / VOXEL_MM), int(240 / VOXEL_MM), int(180 / VOXEL_MM)),
                                  (VOXEL_MM,) * 3, (-90.0, -130.0, -380.0))
    rng = case_streams(seed)[0]  # the whole-body anatomy stream
    return build_anatomy_v2(grid, random_subject_v2(rng), rng, version)


@pytest.fixture(scope="module", params=[0, 3, 6, 8], ids=lambda s: f"seed{s}")
def anatomy(request):
    return _head_neck(request.param)


def _within(value, mean_sd, k=2.0):
    mean, sd = mean_sd
    return mean - k * sd <= value <= mean + k * sd


def _extent_mm(mask_2d, axis):
    index = np.nonzero(mask_2d.any(axis=1 - axis))[0]
    return (index.max() - index.min() + 1) * VOXEL_MM if index.size else 0.0


def _column_region(anatomy):
    """Axial region of the craniovertebral column: |x| < 25 mm, behind the face and in front of the neck's back."""
    g = anatomy.grid
    return (np.abs(g.x)[None, :] < 25) & (g.y[:, None] > -5) & (g.y[:, None] < 70)


def test_skull_base_sits_on_c1(anatomy):
    """Below the cerebellum, no axial slice of the craniovertebral column is without bone for more than the basion-
    dens interval: the occipital bone rests on C1 (versions 2-3 left ~40 mm of soft tissue there)."""
    labels, z = anatomy.labels, anatomy.grid.z
    cerebellum_bottom = z[np.nonzero((labels == LABEL["cerebellum"]).any(axis=(1, 2)))[0].min()]
    region = _column_region(anatomy)
    has_bone = np.array([np.isin(labels[k][region], BONE).any() for k in range(z.size)])
    span = (z < cerebellum_bottom) & (z > cerebellum_bottom - 100)
    runs = [len(list(group)) for value, group in groupby(has_bone[span].tolist()) if not value]
    assert max(runs, default=0) * VOXEL_MM < BASION_DENS_MAX_MM


def test_foramen_magnum_opens_the_skull_base_onto_the_canal(anatomy):
    """Some slice of the skull base has a hole ringed by bone whose sagittal and transverse diameters are within
    ± 2 SD of the published CT means for the subject's sex, and the hole joins the posterior fossa's CSF to the
    spinal canal's."""
    labels, z = anatomy.labels, anatomy.grid.z
    region = _column_region(anatomy)
    cerebellum_bottom = z[np.nonzero((labels == LABEL["cerebellum"]).any(axis=(1, 2)))[0].min()]
    sagittal_sd, transverse_sd = FORAMEN_MAGNUM[anatomy.subject.sex]
    found = []
    for k in np.nonzero((z < cerebellum_bottom) & (z > cerebellum_bottom - 30))[0]:
        bone = np.isin(labels[k], BONE) & region
        holes, count = ndimage.label(ndimage.binary_fill_holes(bone) & ~bone)
        if count:
            largest = holes == 1 + int(np.argmax(ndimage.sum(holes > 0, holes, range(1, count + 1))))
            found.append((_extent_mm(largest, 0), _extent_mm(largest, 1)))  # (AP along y, transverse along x)
    assert any(_within(ap, sagittal_sd) and _within(tr, transverse_sd) for ap, tr in found), found


def _airway_component(anatomy):
    """The 6-connected air component holding the nasal cavity (air in front of y = -40 mm above the palate)."""
    labels, g = anatomy.labels, anatomy.grid
    air, _ = ndimage.label(labels == LABEL["airway"])
    in_front = (g.z > -170)[:, None, None] & (g.y < -40)[None, :, None]
    nasal = air[np.broadcast_to(in_front, air.shape) & (air > 0)]
    assert nasal.size, "no air in the nasal cavity"
    return air == np.bincount(nasal).argmax()


def test_one_air_column_runs_from_the_nasal_cavity_to_the_trachea(anatomy):
    """The nasal cavity's air reaches the trachea at the thoracic inlet (T1) through every slice between."""
    nasal = _airway_component(anatomy)
    t1_top = anatomy.landmarks["vertebrae"]["T1"][0]
    k = int(np.argmin(np.abs(anatomy.grid.z - t1_top)))
    assert nasal[k].any(), "the nasal cavity's air does not reach the trachea at T1"


def test_oropharyngeal_airway_has_published_size(anatomy):
    """In front of C2-C3 (retroglossal oropharynx) the median air depth and width lie within ± 2 SD of the MSCT
    means; from C1 to C4 the narrowest depth stays above the retropalatal mean - 2 SD (the airway is open)."""
    air = _airway_component(anatomy)
    z = anatomy.grid.z
    vertebrae = anatomy.landmarks["vertebrae"]

    def sizes(top, bottom):
        return np.array([(_extent_mm(air[k], 0), _extent_mm(air[k], 1))
                         for k in np.nonzero((z <= top) & (z >= bottom))[0]])

    oro = sizes(vertebrae["C2"][0], vertebrae["C4"][0])
    assert _within(float(np.median(oro[:, 0])), RETROGLOSSAL_DEPTH), oro[:, 0]
    assert _within(float(np.median(oro[:, 1])), RETROGLOSSAL_WIDTH), oro[:, 1]
    whole = sizes(vertebrae["C1"][0], vertebrae["C4"][0])
    assert whole[:, 0].min() >= RETROPALATAL_DEPTH[0] - 2 * RETROPALATAL_DEPTH[1]


@pytest.mark.parametrize("seed", [0, 6])
def test_pharyngeal_primary_sits_in_the_wall_beside_the_air(seed):
    """Head & neck primaries (several lesion draws on one subject): almost none of the tumour lies in the air, and
    the tumour abuts the airway (at most one voxel of wall between)."""
    anatomy = _head_neck(seed)
    labels = anatomy.labels
    distance_to_air = ndimage.distance_transform_edt(labels != LABEL["airway"], sampling=VOXEL_MM)
    primaries = 0
    for lesion_seed in range(6):
        lesions, _ = place_lesions(anatomy, "head_neck", np.random.default_rng(lesion_seed))
        lesion_map = render_lesions(anatomy.grid, lesions, np.zeros(labels.shape, np.float32),
                                    np.zeros(labels.shape, np.float32))
        for lesion in lesions:
            if lesion.site != "pharynx":
                continue
            primaries += 1
            inside = lesion_map == lesion.id
            assert np.mean(labels[inside] == LABEL["airway"]) < 0.05
            assert distance_to_air[inside].min() <= 2 * VOXEL_MM  # at most one voxel of mucosa between
    assert primaries >= 3
