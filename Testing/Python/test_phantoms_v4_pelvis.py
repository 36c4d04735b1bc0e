"""Version-4 bony pelvis measured on generated label maps against published anatomy (REFERENCE.md §6, pelvis).

Version 2 (and so 3) drew the pelvis as separate pieces: the sacrum a flat oval ~60 mm below L5, thin elliptic iliac
wings, pubic tubes without a symphysis, no acetabular cup. Each check runs on version 4 and, as a strict xfail, on
version 3, whose anatomy it corrects, and on version 5 (curved wings, S-shaped crests), which must keep it. Subjects
are the ICRP 89 reference man and woman (and a tall thin man and a short heavy woman); only the pelvic region is
generated, on 2 mm grids (1 mm for the lumbosacral disc). Two more checks keep organs out of the new bone, which is
painted last: the uterus over a full bladder and the iliac vessels.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest
from mask_box import around
from scipy import ndimage

from MedGANSynthLib.phantoms.anatomy_v2 import build_anatomy_v2
from MedGANSynthLib.phantoms.frame_v2 import SubjectV2
from MedGANSynthLib.phantoms.shapes import AxisGrid
from MedGANSynthLib.phantoms.tissues import LABEL

BONE = [LABEL["cortical_bone"], LABEL["cancellous_bone"], LABEL["yellow_marrow"]]
SUBJECTS = {  # sex, height cm, weight kg
    "man": ("M", 176.0, 73.0), "woman": ("F", 163.0, 60.0), "tall-thin-man": ("M", 190.0, 66.0),
    "short-heavy-woman": ("F", 152.0, 85.0),
}


def _subject(name: str, bladder_ml: float = 200.0) -> SubjectV2:
    sex, height, weight = SUBJECTS[name]
    return SubjectV2(sex, height, weight, 50.0, "up", bladder_ml, 0.0, {})  # arms out of the pelvic region


@cache  # 5 MB each, about 30 in all; test_phantoms_v5_pelvis reads them too; none writes to them
def _pelvis(name: str, version: int, voxel_mm: float = 2.0, x=(-200, 200), y=(-170, 170), z=(0.40, 0.56),
            bladder_ml: float = 200.0):
    """Label map of the region between z fractions of stature (below the vertex) and its grid."""
    subject = _subject(name, bladder_ml)
    h = subject.height_cm * 10.0
    grid = AxisGrid(np.arange(x[0], x[1], voxel_mm), np.arange(y[0], y[1], voxel_mm),
                    np.arange(-z[1] * h, -z[0] * h, voxel_mm))
    anatomy = build_anatomy_v2(grid, subject, np.random.default_rng(7), version)
    return anatomy, grid


def _differs_before_v4(reason):
    old = pytest.param(3, marks=pytest.mark.xfail(strict=True, reason=reason), id="v3")
    return pytest.mark.parametrize("version", [old, pytest.param(4, id="v4"), pytest.param(5, id="v5")])


def _bone(labels):
    return np.isin(labels, BONE)


def _xyz(grid, index):
    k, j, i = index
    return np.array([grid.x[i], grid.y[j], grid.z[k]])


def _femora(bone, grid):
    """The two femur components (right, left): the bone crossing the grid's lowest slice on each side."""
    parts, _ = ndimage.label(bone)
    femora = []
    for side in (-1, 1):
        column = parts[0] * (np.sign(grid.x)[None, :] == side)
        ids, counts = np.unique(column[column > 0], return_counts=True)
        femora.append(parts == ids[np.argmax(counts)])
    return femora


def _head(femur, grid):
    """Centre and radius of the femoral head: the deepest point of the femur (the head is its thickest part).
    Measured in the femur's box (one voxel of margin): the depths are the whole map's, found in a fraction of the
    time."""
    box = around(femur, 1)
    depth = ndimage.distance_transform_edt(femur[box], sampling=[grid.z[1] - grid.z[0]] * 3)
    index = np.unravel_index(int(np.argmax(depth)), depth.shape)
    return _xyz(grid, [i + s.start for i, s in zip(index, box, strict=True)]), float(depth[index])


def _sacrum_seed(anatomy, grid, bone):
    """A bone voxel on the midline 20-50 mm below the L5/S1 disc (where the S1-S2 bodies are)."""
    s1 = anatomy.landmarks["vertebrae"]["L5"][1]
    ks = np.nonzero((grid.z < s1 - 20) & (grid.z > s1 - 50))[0]
    i = int(np.argmin(np.abs(grid.x)))
    hits = np.argwhere(bone[ks, :, i])
    assert hits.size, "no bone on the midline below L5"
    k, j = hits[len(hits) // 2]
    return ks[k], j, i


def _hip_bones_and_sacrum(anatomy, grid):
    """Bone that is neither femur nor the lumbar spine, its sacral seed and the two femora."""
    bone = _bone(anatomy.labels)
    femora = _femora(bone, grid)
    pelvis = bone & ~femora[0] & ~femora[1]
    l5_bottom = anatomy.landmarks["vertebrae"]["L5"][1]
    return pelvis, _sacrum_seed(anatomy, grid, bone), femora, l5_bottom


@pytest.fixture(scope="module", params=list(SUBJECTS))
def subject_name(request):
    return request.param


@_differs_before_v4("version 3's sacrum, iliac wings and pubic bones are separate pieces")
def test_sacrum_and_both_hip_bones_are_one_ring_jointed_at_the_sacroiliac_joints_and_symphysis(subject_name,
                                                                                                  version):
    """With the joint gaps bridged by one voxel (2 mm) of dilation, the bone grown from the sacrum reaches both
    iliac crests, the symphysis and both ischial tuberosities (nearly all pelvic bone below L5); without it the
    sacroiliac joints (CT width 1.7-2.5 mm, Demir 2007) and the symphysis (3-5 mm, Alicioglu 2008) separate it."""
    anatomy, grid = _pelvis(subject_name, version)
    pelvis, seed, _, l5_bottom = _hip_bones_and_sacrum(anatomy, grid)
    below_l5 = pelvis & (grid.z < l5_bottom)[:, None, None]
    parts, _ = ndimage.label(ndimage.binary_dilation(pelvis))
    ring = (parts == parts[seed]) & below_l5
    assert ring.sum() > 0.97 * below_l5.sum()
    k, j, i = np.nonzero(ring)
    x, y, z = grid.x[i], grid.y[j], grid.z[k]
    assert x.min() < -100 and x.max() > 100  # both iliac wings
    front = y < np.percentile(y, 2)
    assert np.abs(x[front]).min() < 5  # the symphysis, across the midline in front
    bottom = z < np.percentile(z, 2)
    assert (x[bottom] < -20).any() and (x[bottom] > 20).any()  # both ischial tuberosities
    joints, _ = ndimage.label(pelvis)
    assert (joints == joints[seed]).sum() < 0.5 * below_l5.sum()  # the sacrum alone: joints are open


@_differs_before_v4("version 3's sacrum starts ~60 mm below L5")
def test_the_sacrum_starts_one_lumbosacral_disc_below_l5(subject_name, version):
    """On the midline, at the disc's own AP centre, the gap between the L5 body and the S1 endplate is a normal
    L5/S1 disc height: 7.1-13.1 mm (reference range of 169 asymptomatic adults, J Orthop Surg Res 2018); 1 mm
    of sampling tolerance above."""
    subject = _subject(subject_name)
    h = subject.height_cm * 10.0
    anatomy, grid = _pelvis(subject_name, version, voxel_mm=1.0, x=(-15, 15), y=(-40, 110), z=(0.41, 0.48))
    l5_top, l5_bottom = anatomy.landmarks["vertebrae"]["L5"]
    i = int(np.argmin(np.abs(grid.x)))
    labels = anatomy.labels[:, :, i]
    near = (grid.z > l5_bottom - 3) & (grid.z < l5_bottom + 15)
    disc_rows = np.nonzero((labels[near] == LABEL["disc"]).any(axis=0))[0]
    j = int(np.median(disc_rows))
    column = _bone(labels[:, j])
    k_l5 = int(np.argmin(np.abs(grid.z - 0.5 * (l5_top + l5_bottom))))
    assert column[k_l5], "no L5 body on the column"
    k = k_l5
    while column[k]:
        k -= 1  # down to the bottom of the L5 body
    bottom_of_l5 = grid.z[k + 1]
    below = np.nonzero(column[:k])[0]
    assert below.size, f"no bone below L5 down to {0.48 * h:.0f} mm below the vertex"
    gap = bottom_of_l5 - grid.z[below[-1]] - 1.0
    assert 7.1 <= gap <= 13.2, gap


@_differs_before_v4("version 3's femoral heads sit in a bone blob, with no joint space")
def test_the_femoral_head_sits_in_the_acetabulum_with_a_joint_space(subject_name, version):
    """Every ray from the head centre within 35° of vertical or medial meets the acetabulum (hip bone, not femur)
    within a few mm of the head's surface: the mean bone-to-bone gap is 2-7 mm around the published 4.5 mm joint
    space (Saikia 2008). The lateral rim stops at a centre-edge angle of 36 ± 14° (Fowkes 2011): a ray 70° from
    the vertical towards the side finds no bone over the head."""
    anatomy, grid = _pelvis(subject_name, version)
    pelvis, _, femora, _ = _hip_bones_and_sacrum(anatomy, grid)
    for side, femur in zip((-1, 1), femora, strict=True):
        centre, radius = _head(femur, grid)
        gaps = []
        for direction in _rays(side):
            gaps.append(_first_hit(pelvis, grid, centre, direction, radius + 25) - _first_miss(femur, grid, centre,
                                                                                            direction))
        assert np.isfinite(gaps).all(), gaps
        assert 2.0 <= np.mean(gaps) <= 7.0, gaps
        lateral = np.array([side * np.sin(np.radians(70)), 0.0, np.cos(np.radians(70))])
        assert not np.isfinite(_first_hit(pelvis, grid, centre, lateral, radius + 25))


def _rays(side: int) -> list[np.ndarray]:
    rays = []
    for tilt in (0, 20, 35):
        for azimuth in range(0, 360, 45):
            a, t = np.radians(azimuth), np.radians(tilt)
            rays.append(np.array([np.sin(t) * np.cos(a), np.sin(t) * np.sin(a), np.cos(t)]))
    rays.append(np.array([-side, 0.0, 0.0]))  # medial wall
    return rays


def _sample(mask, grid, point) -> bool:
    i, j, k = (int(np.argmin(np.abs(axis - value))) for axis, value in zip((grid.x, grid.y, grid.z), point,
                                                                            strict=True))
    return bool(mask[k, j, i])


def _first_hit(mask, grid, centre, direction, reach) -> float:
    for t in np.arange(0.0, reach, 0.5):
        if _sample(mask, grid, centre + t * direction):
            return float(t)
    return float("inf")


def _first_miss(mask, grid, centre, direction) -> float:
    for t in np.arange(0.0, 60.0, 0.5):
        if not _sample(mask, grid, centre + t * direction):
            return float(t)
    return float("inf")


@_differs_before_v4("version 3 has no hip joints: its femora and pelvis are one blob")
def test_pelvic_sizes_are_the_published_ones(subject_name, version):
    """Measured on the image: inter-femoral-head distance 160 ± 2×8 mm (CT of 200 adults, [IFD-CT-2010]);
    bi-iliac (crest) breadth between the CT inter-ASIS distance of 227 mm and 28 cm + 2 cm (the caliper breadth of
    the average woman, over skin); sacral width 104 ± 2×7 mm and height 107 ± 2×10 mm (30 dry sacra); femoral head
    diameter / pelvic height (crest to tuberosity) 0.173-0.249 (range of 187 adults, Eur J Orthop Surg Traumatol
    2014)."""
    anatomy, grid = _pelvis(subject_name, version)
    pelvis, seed, femora, _ = _hip_bones_and_sacrum(anatomy, grid)
    (right, radius), (left, _) = (_head(f, grid) for f in femora)
    assert 144 <= np.linalg.norm(left - right) <= 176
    parts, _ = ndimage.label(ndimage.binary_dilation(pelvis))
    k, _, i = np.nonzero((parts == parts[seed]) & pelvis)  # sacrum and hip bones, without the lumbar spine
    assert 227 <= np.ptp(grid.x[i]) <= 300
    ratio = 2 * radius / np.ptp(grid.z[k])
    assert 0.173 <= ratio <= 0.249, ratio
    parts, _ = ndimage.label(pelvis)
    k, _, i = np.nonzero(parts == parts[seed])
    assert 90 <= np.ptp(grid.x[i]) <= 118
    assert 87 <= np.ptp(grid.z[k]) <= 127


@pytest.mark.parametrize("version", [4, 5])
@pytest.mark.parametrize("name", ["woman", "short-heavy-woman"])
def test_the_uterus_lies_in_front_of_the_sacrum_even_over_a_full_bladder(name, version):
    """Bone is painted last, so an organ placed in the sacrum would be cut by it: with a 450 mL bladder lifting it,
    every uterus voxel lies in front of the sacral bone of its slice (midline ± 15 mm)."""
    anatomy, grid = _pelvis(name, version, bladder_ml=450.0)
    labels = anatomy.labels
    i = np.abs(grid.x) <= 15
    l5_bottom = anatomy.landmarks["vertebrae"]["L5"][1]
    slices = np.nonzero((labels == LABEL["uterus"]).any(axis=(1, 2)) & (grid.z < l5_bottom))[0]
    assert slices.size
    for k in slices:
        uterus_y = grid.y[(labels[k] == LABEL["uterus"]).any(axis=1)]
        bone_rows = _bone(labels[k][:, i]).any(axis=1) & (grid.y > 0)
        if bone_rows.any():
            assert uterus_y.max() < grid.y[bone_rows].min(), grid.z[k]


@pytest.mark.parametrize("version", [4, 5])
def test_the_iliac_vessels_pass_the_hip_bones_uncut(subject_name, version):
    """The external iliac vessels run on the pelvic brim, in front of the acetabulum: blood stays one tube on each
    side from the top of the region (aorta/IVC) down past the femoral head centres."""
    anatomy, grid = _pelvis(subject_name, version)
    bone = _bone(anatomy.labels)
    head_z = min(_head(f, grid)[0][2] for f in _femora(bone, grid))
    parts, _ = ndimage.label(anatomy.labels == LABEL["blood"])
    top = np.unique(parts[-1][parts[-1] > 0])
    for side in (-1, 1):
        low = parts[grid.z < head_z][..., np.sign(grid.x) == side]
        assert np.isin(np.unique(low[low > 0]), top).any(), side
