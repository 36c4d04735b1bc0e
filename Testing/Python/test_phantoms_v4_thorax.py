"""Version-4 thorax anatomy measured on generated cases against published anatomy (REFERENCE.md §6).

* Diaphragm domes: the right dome above the left by 0.9-2.2 cm (Mishra et al., Eur J Biomed Pharm Sci: 72 normal
  radiographs, right higher in 98.6 %); each dome's apex above its lateral costophrenic angle by 51.3 ± 10.6 mm (right) and
  38.4 ± 9.2 mm (left) (Alghamdi, Int J Biomed 2021;11(2):206, 45 PA radiographs).
* Mediastinum: fat (-50 to -250 HU) around the great vessels; intrathoracic fat from the pulmonary-artery
  bifurcation to the heart's apex 141 ± 72 cm³ (Stojanovska, Tomography 2017;3(1):33, 62 subjects free of
  cardiovascular disease). Mediastinal nodes are soft-tissue ovals in that fat.

Cases use a 4 mm grid, the lung vessels one 2 mm case (the whole file runs in about 30 s). Measurements use the organ label map, so the expected
numbers are the sources', never the generator's own tables.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from MedGANSynthLib.phantoms.tissues import LABEL
from MedGANSynthLib.phantoms.wholebody import WholeBodyConfig, make_wholebody_case

SMALL = WholeBodyConfig().with_voxel_mm(4.0)
FAT = [LABEL["visceral_fat"], LABEL["subcutaneous_fat"]]
VESSEL = [LABEL["blood"], LABEL["myocardium"]]
BELOW_DIAPHRAGM = [LABEL[n] for n in ("liver", "visceral_fat", "stomach", "spleen", "bowel_content", "bowel_gas",
                                      "gallbladder", "colon", "colon_content", "bowel", "kidney", "pancreas")]
DOME_DIFFERENCE_MM = (9.0, 22.0)  # Mishra et al. (EJBPS), min-max of 72 normals
DOME_HEIGHT_MM = {-1: (51.3, 10.6), 1: (38.4, 9.2)}  # Alghamdi 2021, right (-x) and left (+x): mean, SD
INTRATHORACIC_FAT_ML = (141.0, 72.0)  # Stojanovska 2017, mean, SD


@pytest.fixture(scope="module")
def cases():
    """Two women and two men (seeds as test_phantoms_v2's fixture), lung and oesophagus cancer with nodes."""
    return [make_wholebody_case(seed, lesion_class, SMALL, version=4)
            for seed, lesion_class in ((0, "oesophagus"), (6, "lung"), (8, "lung"), (3, "oesophagus"))]


def _axes(case):
    grid = case.ct
    return [grid.origin[i] + grid.spacing[i] * np.arange(grid.array.shape[2 - i]) for i in range(3)]  # x, y, z


def _lung_base(case, side):
    """(apex z, costophrenic z) of one hemidiaphragm on the coronal slices through the dome: per column the lowest
    lung voxel that lies on an abdominal organ (not on the heart); apex = highest such base, angle = the base of
    the outermost lung column."""
    labels = case.organs.array
    x, y, z = _axes(case)
    lung = labels == LABEL["lung"]
    below = np.zeros_like(lung)
    below[1:] = np.isin(labels[:-1], BELOW_DIAPHRAGM)  # voxel under each voxel (z grows upwards)
    on_diaphragm = lung & below & (z < _level(case, "T8", 0.0))[:, None, None]  # not the mediastinal fat above
    half = (x < 0) if side < 0 else (x > 0)
    apexes, angles = [], []
    middle = np.mean(np.nonzero(on_diaphragm)[1])  # coronal slices through the middle of the lung base
    for j in range(int(middle) - 3, int(middle) + 4):
        section = on_diaphragm[:, j, :] & half[None, :]
        columns = np.nonzero(section.any(axis=0))[0]
        if columns.size < 5:
            continue
        base = np.array([z[np.nonzero(section[:, i])[0].min()] for i in columns])
        apexes.append(base.max())
        outer = columns[np.argmax(np.abs(x[columns]))]
        lung_column = np.nonzero(lung[:, j, outer])[0]
        angles.append(z[lung_column.min()])
    return float(np.median(apexes)), float(np.median(angles))


def test_right_dome_above_left_by_published_amount(cases):
    for case in cases:
        right, left = _lung_base(case, -1)[0], _lung_base(case, 1)[0]
        assert DOME_DIFFERENCE_MM[0] - 4 <= right - left <= DOME_DIFFERENCE_MM[1] + 4, (right, left)  # ± a voxel


def test_domes_rise_above_costophrenic_angles(cases):
    """Not a flat lung base: each apex above its lateral costophrenic angle within mean ± 2 SD (Alghamdi 2021),
    and the women/men average within mean ± 1 SD."""
    heights = {-1: [], 1: []}
    for case in cases:
        for side in (-1, 1):
            apex, angle = _lung_base(case, side)
            mean, sd = DOME_HEIGHT_MM[side]
            assert mean - 2 * sd <= apex - angle <= mean + 2 * sd, (side, apex, angle)
            heights[side].append(apex - angle)
    for side, values in heights.items():
        mean, sd = DOME_HEIGHT_MM[side]
        assert mean - sd <= np.mean(values) <= mean + sd, (side, values)


def _level(case, vertebra, where):
    """z inside a vertebra from the manifest (0 its top, 1 the bottom of the disc below), as the generator's Frame."""
    top, bottom = case.manifest["landmarks"][vertebra]
    return top + where * (bottom - top)


def _mediastinum_at_carina(case):
    """Labels of the mediastinum on the axial slice through the carina: between the two lungs, on every row."""
    labels = case.organs.array
    x, y, z = _axes(case)
    k = int(np.argmin(np.abs(z - _level(case, "T5", 0.3))))
    section = labels[k]
    lung = section == LABEL["lung"]
    inside = np.zeros_like(lung)
    for j in range(section.shape[0]):
        columns = np.nonzero(lung[j])[0]
        right, left = columns[x[columns] < 0], columns[x[columns] > 0]
        if right.size and left.size:
            inside[j, right.max() + 1:left.min()] = True
    bone = np.isin(section, [LABEL["cortical_bone"], LABEL["cancellous_bone"], LABEL["disc"]])
    return section[inside & ~bone]


def test_mediastinum_at_carina_is_fat_around_distinct_vessels(cases):
    """Fat between the lungs at the carina, with the great vessels as separate soft-tissue islands in it."""
    for case in cases:
        tissue = _mediastinum_at_carina(case)
        assert np.isin(tissue, FAT).mean() >= 0.15
        labels = case.organs.array
        x, y, z = _axes(case)
        k = int(np.argmin(np.abs(z - _level(case, "T5", 0.3))))
        vessels, count = ndimage.label(np.isin(labels[k], VESSEL) & (np.abs(x)[None, :] < 70))
        sizes = ndimage.sum(np.ones_like(vessels), vessels, range(1, count + 1))
        assert np.sum(sizes * 16 >= 50) >= 3, sizes  # ascending and descending aorta, SVC/pulmonary artery: ≥ 0.5 cm²


def test_intrathoracic_fat_volume_near_published(cases):
    """Fat between the lungs from the pulmonary-artery bifurcation (T5/T6) down to the right dome's apex (below it
    the abdomen's fat would count): the four cases' mean within Stojanovska 2017's mean ± 1 SD (their slab reaches
    the heart's apex, a little lower)."""
    volumes = []
    for case in cases:
        labels = case.organs.array
        x, y, z = _axes(case)
        slab = np.nonzero((z <= _level(case, "T5", 0.6)) & (z >= _lung_base(case, -1)[0]))[0]
        fat = 0
        for k in slab:
            lung = labels[k] == LABEL["lung"]
            for j in np.nonzero(lung.any(axis=1))[0]:
                columns = np.nonzero(lung[j])[0]
                fat += int((labels[k, j, columns.min():columns.max() + 1] == LABEL["visceral_fat"]).sum())
        volumes.append(fat * float(np.prod(case.ct.spacing)) / 1000.0)
    mean, sd = INTRATHORACIC_FAT_ML
    assert mean - sd <= np.mean(volumes) <= mean + sd, volumes


@pytest.fixture(scope="module")
def more_node_cases():
    """Four more lung-cancer cases (1-3 mediastinal nodes each), so that the nodes' check rests on a dozen nodes."""
    return [make_wholebody_case(seed, "lung", SMALL, version=4) for seed in (1, 5, 7, 9)]


def test_mediastinal_nodes_lie_in_fat(cases, more_node_cases):
    """A node is an oval of soft tissue in mediastinal fat: none lies inside a vessel or out in the lung (every
    node's 4 mm shell partly fat), and fat is most of all the shells together."""
    fat, total, each = 0, 0, []
    for case in cases + more_node_cases:
        labels = case.organs.array
        lesions = case.lesions.array
        for lesion in case.manifest["lesions"]:
            if lesion["site"] != "mediastinal_node":
                continue
            node = lesions == lesion["id"]
            shell = labels[ndimage.binary_dilation(node, iterations=1) & ~node & (lesions == 0)]
            fat, total = fat + int(np.isin(shell, FAT).sum()), total + shell.size
            each.append(np.isin(shell, FAT).mean())
    assert len(each) >= 8
    assert min(each) >= 0.15 and fat / total >= 0.55, (each, fat / total)


def _lung_vessels(case):
    """(relative lateral position, local radius mm) of every blood voxel inside a lung, T3 to T9: 0 at the lung's
    medial edge on its row, 1 at the chest wall; the radius from the distance to the vessel's edge."""
    labels = case.organs.array
    x, y, z = _axes(case)
    blood = labels == LABEL["blood"]
    slices = np.nonzero((z <= _level(case, "T3", 0.0)) & (z >= _level(case, "T9", 0.0)))[0]
    # Radii from the slab T3-T9 with 60 mm above and below: every vessel's edge lies nearer than that (the widest
    # blood, the heart's chambers, is under 40 mm in radius), so they are the whole map's, in a third of the time.
    margin = int(60.0 / case.ct.spacing[2])
    slab = slice(max(slices[0] - margin, 0), slices[-1] + margin + 1)
    radius = np.zeros(blood.shape)
    radius[slab] = ndimage.distance_transform_edt(blood[slab], sampling=case.ct.spacing[::-1])
    positions, radii = [], []
    for k in slices:
        lung = labels[k] == LABEL["lung"]
        for j in np.nonzero(lung.any(axis=1))[0]:
            for half in (x < 0, x > 0):
                columns = np.nonzero(lung[j] & half)[0]
                if columns.size < 5:
                    continue
                inner, outer = np.sort(np.abs(x[columns]))[[0, -1]]
                inside = np.nonzero(blood[k, j] & half & (np.abs(x) > inner) & (np.abs(x) < outer))[0]
                positions.extend((np.abs(x[inside]) - inner) / (outer - inner))
                radii.extend(radius[k, j, inside])
    return np.asarray(positions), np.asarray(radii)


@pytest.fixture(scope="module")
def fine_case():
    return make_wholebody_case(8, "normal", WholeBodyConfig().with_voxel_mm(2.0), version=4)


def test_lung_vessels_reach_the_periphery_and_taper(fine_case):
    """Pulmonary vessels branch out to the outer third of the lung and get thinner on the way (†: on CT they are
    seen to within 1-2 cm of the pleura)."""
    position, radius = _lung_vessels(fine_case)
    outer, inner = position > 2 / 3, position < 1 / 3
    assert outer.mean() >= 0.15, outer.mean()
    assert np.mean(radius[outer]) < np.mean(radius[inner]), (np.mean(radius[outer]), np.mean(radius[inner]))
