"""Version-5 liver and lung vessels measured on generated label maps and CTs against published anatomy
(MedGANSynthLib/phantoms/REFERENCE.md, "Version 5: liver and lung vessels").

* Hepatic veins: right and left 7-12 mm wide in most of 100 autopsy livers, joining the IVC just below the diaphragm;
  the middle and left vein share a trunk in 96 % (Indian J Gastroenterol 2001;20(4):136, PMID 11497170).
* Main portal vein on CT: 15.5 ± 1.9 mm in 191 healthy renal donors (Stamm et al., "Normal main portal vein
  diameter measured on CT is larger than the widely referenced upper limit of 13 mm").
* Pulmonary vessels (≥ 0.6 mm) on CT: 125 ± 32 mL of 3705 ± 857 mL lung and vessels in 12 normal volunteers
  (Sun et al., Chin J Appl Physiol 2015;31(4):326): 1.6-5.1 % of the lung (mean ± 2 SD of the vessel volume over the
  mean lung, derived). Lung parenchyma -850 to -910 HU at inspiration (radclass, REFERENCE.md §3).
* Thresholds that no source gives (marked † in REFERENCE.md): a vessel within 20 mm of most (the median) subpleural
  lung in every zone (on CT vessels are seen to within 1-2 cm of the pleura), within 15 mm of at least 45 % of the
  liver parenchyma (version 4: about a third).

* On unenhanced CT of a normal liver the intrahepatic vessels are darker than the liver (Hamer et al., RadioGraphics
  2006;26:1637, Fig. 2).

Version 4 is a strict xfail of the branching checks (its five straight liver tubes and 7-generation lung trees) and
of the unenhanced veins (its blood is drawn apart from the liver), a pass of the rest. Cases use 2 mm grids (vessel
calibres are a few voxels); measures run inside the liver's or the lungs' box, which gives the whole map's numbers in
a tenth of the time.
"""

from __future__ import annotations

import numpy as np
import pytest
from mask_box import around
from scipy import ndimage

from MedGANSynthLib.phantoms.anatomy_v2 import build_anatomy_v2
from MedGANSynthLib.phantoms.frame_v2 import random_subject_v2
from MedGANSynthLib.phantoms.shapes import AxisGrid
from MedGANSynthLib.phantoms.tissues import LABEL
from MedGANSynthLib.phantoms.wholebody import WholeBodyConfig, ct_grid, make_wholebody_case

FINE = WholeBodyConfig().with_voxel_mm(2.0)
VOXEL_MM = 2.0
SEEDS = (8, 3)
HEPATIC_VEIN_MM = (7.0, 12.0)  # autopsy, most livers (PMID 11497170)
MAIN_PORTAL_VEIN_MM = (15.5 - 2 * 1.9, 15.5 + 2 * 1.9)  # Stamm et al., CT: mean ± 2 SD
LUNG_VESSEL_FRACTION = ((125.0 - 2 * 32.0) / 3705.0, (125.0 + 2 * 32.0) / 3705.0)  # Sun 2015, derived
LUNG_PARENCHYMA_HU = (-910.0 - 15, -850.0 + 25)  # radclass; ± noise and partial volume, as test_phantoms_v2
LIVER_VESSEL_FRACTION = (0.01, 0.05)  # "a few percent at most" (†)
PLEURA_COVERAGE_MM = 20.0  # † vessels seen within 1-2 cm of the pleura
LIVER_COVERAGE_MM, LIVER_COVERAGE_SHARE = 15.0, 0.45  # † branches throughout the liver


def _v4_fails(reason):
    """Parametrise over versions 4 (a strict xfail: ``reason``) and 5."""
    return pytest.mark.parametrize("version", [
        pytest.param(4, marks=pytest.mark.xfail(strict=True, raises=AssertionError, reason=reason), id="v4"),
        pytest.param(5, id="v5")])


_ANATOMIES: dict = {}


def _anatomy(seed, version):
    """Label map, grid and landmarks of one subject drawn from ``seed`` on the 2 mm grid (cached for the file)."""
    if (seed, version) not in _ANATOMIES:
        shape, spacing, origin = ct_grid(FINE)
        grid = AxisGrid.from_geometry(shape, spacing, origin)
        rng = np.random.default_rng(seed)
        anatomy = build_anatomy_v2(grid, random_subject_v2(rng), rng, version)
        _ANATOMIES[seed, version] = (anatomy.labels, grid, anatomy.landmarks)
    return _ANATOMIES[seed, version]


def _liver_region(labels):
    """The liver with the vessels inside it: closing fills the tubes the veins cut into the liver label (done in
    the liver's box, 8 voxels wider than the closing's reach of 3)."""
    liver = labels == LABEL["liver"]
    box = around(liver, 8)
    region = np.zeros_like(liver)
    region[box] = ndimage.binary_fill_holes(ndimage.binary_closing(liver[box], iterations=3)) | liver[box]
    return region


def _distance_to(points, grid, centre):
    z, y, x = (axis[index] for axis, index in zip((grid.z, grid.y, grid.x), points, strict=True))
    return np.sqrt((x - centre[0]) ** 2 + (y - centre[1]) ** 2 + (z - centre[2]) ** 2)


def _calibres_near(labels, grid, centre, shell_mm, keep):
    """Diameters (mm) of the separate blood vessels crossing a spherical shell around ``centre``, among the voxels
    ``keep`` allows: twice each vessel's largest distance to non-blood, less one voxel (voxel centres)."""
    blood = labels == LABEL["blood"]
    box = grid.box(np.subtract(centre, shell_mm[1] + 20), np.add(centre, shell_mm[1] + 20))
    sub = blood[box]
    radius = ndimage.distance_transform_edt(sub, sampling=VOXEL_MM)
    points = np.nonzero(sub)
    offset = [s.start for s in box]
    distance = _distance_to(tuple(p + o for p, o in zip(points, offset, strict=True)), grid, centre)
    shell = np.zeros_like(sub)
    chosen = (distance >= shell_mm[0]) & (distance <= shell_mm[1]) & keep[box][points]
    shell[tuple(p[chosen] for p in points)] = True
    parts, count = ndimage.label(shell, structure=np.ones((3, 3, 3)))
    sizes = ndimage.sum(shell, parts, range(1, count + 1))
    largest = ndimage.maximum(radius, parts, range(1, count + 1))
    return [2 * r - VOXEL_MM for r, n in zip(largest, sizes, strict=True) if n >= 4]


def _ivc_tube(labels, grid, marks):
    """Voxels within the IVC's radius (+ 1 voxel) of its axis (the landmark polyline), to tell veins from it."""
    axis = np.asarray(marks["ivc"], float)
    z = grid.z[:, None, None]
    order = np.argsort(axis[:, 2])
    cx = np.interp(grid.z, axis[order, 2], axis[order, 0])[:, None, None]
    cy = np.interp(grid.z, axis[order, 2], axis[order, 1])[:, None, None]
    inside_z = (z >= axis[:, 2].min()) & (z <= axis[:, 2].max())
    return ((grid.x[None, None, :] - cx) ** 2 + (grid.y[None, :, None] - cy) ** 2 <= 12.0**2) & inside_z


# --- liver ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", SEEDS)
def test_three_hepatic_veins_of_published_calibre_join_the_ivc(seed):
    """15-25 mm from where they join the IVC, at least three veins leave it inside the liver, the two widest 7-12 mm
    (± one voxel; a vein running along the liver's edge is cut thinner by it), all connected to the IVC through
    blood."""
    labels, grid, marks = _anatomy(seed, 5)
    confluence = marks["hepatic_confluence"]
    region = _liver_region(labels)
    ivc = _ivc_tube(labels, grid, marks)
    calibres = _calibres_near(labels, grid, confluence, (15.0, 25.0), region & ~ivc)
    assert len(calibres) >= 3, calibres
    low, high = HEPATIC_VEIN_MM
    assert all(low - VOXEL_MM <= d <= high + VOXEL_MM for d in sorted(calibres)[-2:]), calibres
    blood = labels == LABEL["blood"]
    near_liver = np.zeros_like(region)
    box = around(region, 4)  # the dilation reaches 3 voxels
    near_liver[box] = ndimage.binary_dilation(region[box], iterations=3)
    parts, _ = ndimage.label(blood & (near_liver | ivc))
    k, j, i = (int(np.argmin(np.abs(axis - c))) for axis, c in zip((grid.z, grid.y, grid.x), confluence[::-1],
                                                                    strict=True))
    assert parts[k, j, i] > 0  # the confluence lies in blood (the IVC)
    veins = _calibres_near(np.where(parts == parts[k, j, i], labels, 0), grid, confluence, (15.0, 25.0),
                           region & ~ivc)
    assert len(veins) == len(calibres), veins  # the same veins, counted through blood connected to the IVC


@pytest.mark.parametrize("seed", SEEDS)
def test_portal_vein_of_published_calibre_forks_at_the_hilum(seed):
    """The main portal vein, 10-20 mm below the porta hepatis outside the liver, is 15.5 ± 2 × 1.9 mm wide (± one
    voxel); inside the liver at least two branches (right and left) leave the porta."""
    labels, grid, marks = _anatomy(seed, 5)
    porta = np.asarray(marks["porta"])
    region = _liver_region(labels)
    ivc = _ivc_tube(labels, grid, marks)
    below = np.zeros(labels.shape, bool)
    below[grid.z < porta[2] - 5.0] = True
    trunk = _calibres_near(labels, grid, porta, (10.0, 20.0), below & ~region & ~ivc)
    low, high = MAIN_PORTAL_VEIN_MM
    assert len(trunk) >= 1 and low - VOXEL_MM <= max(trunk) <= high + VOXEL_MM, trunk
    branches = _calibres_near(labels, grid, porta, (12.0, 24.0), region & ~ivc)
    assert len(branches) >= 2, branches


def _liver_vessel_share_and_coverage(labels):
    region = _liver_region(labels)
    box = around(region, 1)  # every vessel counted lies in the region, so inside the box
    region, labels = region[box], labels[box]
    vessels = region & (labels == LABEL["blood"])
    parenchyma = ndimage.binary_erosion(labels == LABEL["liver"], iterations=2)
    distance = ndimage.distance_transform_edt(~vessels, sampling=VOXEL_MM)
    return vessels.sum() / region.sum(), float(np.mean(distance[parenchyma] <= LIVER_COVERAGE_MM))


@_v4_fails("version 4 draws five straight, unbranched tubes: most of the liver lies far from any vessel")
def test_liver_veins_branch_through_the_whole_liver(version):
    """Vessels take 1-5 % of the liver (†: a few percent) and lie within 15 mm of at least 45 % of its parenchyma
    (†: on a portal-venous CT branches are seen throughout the liver)."""
    for seed in SEEDS:
        share, coverage = _liver_vessel_share_and_coverage(_anatomy(seed, version)[0])
        assert LIVER_VESSEL_FRACTION[0] <= share <= LIVER_VESSEL_FRACTION[1], (seed, share)
        assert coverage >= LIVER_COVERAGE_SHARE, (seed, coverage)


# --- lung -----------------------------------------------------------------------------------------------
def _lung_box(seed, version):
    """Label map and grid of the lungs' box, one voxel of margin around them: the lung region, its vessels and
    the distances measured to them are the whole map's."""
    labels, grid, _ = _anatomy(seed, version)
    k, j, i = around(labels == LABEL["lung"], 1)
    return labels[k, j, i], AxisGrid(grid.x[i], grid.y[j], grid.z[k])


def _lung_region(labels):
    """Each axial slice's lung with the vessels and bronchi it encloses."""
    lung = labels == LABEL["lung"]
    region = np.zeros_like(lung)
    for k in np.nonzero(lung.any(axis=(1, 2)))[0]:
        region[k] = ndimage.binary_fill_holes(lung[k])
    return region


def _lung_zones(region, grid):
    """Right and left lung, each cut at the heights that split its volume in thirds (lower, middle, upper: the
    lobes' rough stacking)."""
    zones = {}
    for side, half in (("right", grid.x < 0), ("left", grid.x > 0)):
        lung = region & half[None, None, :]
        cumulative = np.cumsum(lung.sum(axis=(1, 2))) / lung.sum()
        cuts = [0, int(np.searchsorted(cumulative, 1 / 3)), int(np.searchsorted(cumulative, 2 / 3)), len(grid.z)]
        for name, lo, hi in zip(("lower", "middle", "upper"), cuts[:-1], cuts[1:], strict=True):
            zone = np.zeros_like(lung)
            zone[lo:hi] = lung[lo:hi]
            zones[f"{side} {name}"] = zone
    return zones


@_v4_fails("version 4's trees stop after 7 generations: parts of the subpleural lung lie 2-4 cm from any vessel")
def test_lung_vessels_reach_within_20_mm_of_the_pleura_in_every_zone(version):
    """In each lung's lower, middle and upper third, vessel voxels lie within 20 mm of the pleura, and most (the
    median) of the subpleural lung 10-20 mm deep has a vessel within 20 mm (†: vessels seen to within 1-2 cm of
    the pleura on CT)."""
    for seed in SEEDS:
        labels, grid = _lung_box(seed, version)
        region = _lung_region(labels)
        vessels = region & (labels == LABEL["blood"])
        depth = ndimage.distance_transform_edt(region, sampling=VOXEL_MM)
        near = ndimage.distance_transform_edt(~vessels, sampling=VOXEL_MM)
        for name, zone in _lung_zones(region, grid).items():
            assert (vessels & zone & (depth <= 20.0)).any(), (seed, name)
            shell = zone & (depth > 10.0) & (depth <= 20.0) & ~vessels
            assert np.median(near[shell]) <= PLEURA_COVERAGE_MM, (seed, name, float(np.median(near[shell])))


@_v4_fails("version 4's pulmonary vessels take 1.3 % of the lung, below the 1.6 % of Sun 2015's mean - 2 SD")
def test_lung_vessel_fraction_is_published(version):
    for seed in SEEDS:
        labels, _ = _lung_box(seed, version)
        region = _lung_region(labels)
        share = (region & (labels == LABEL["blood"])).sum() / region.sum()
        assert LUNG_VESSEL_FRACTION[0] <= share <= LUNG_VESSEL_FRACTION[1], (seed, share)


# --- CT values --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def phases():
    """Seed 8 (version 5) in the portal-venous phase and unenhanced, 2 mm grid."""
    return {contrast: make_wholebody_case(8, "normal", FINE, version=5, contrast=contrast)
            for contrast in ("portal-venous", "none")}


def _vessel_blood_and_liver_hu(case):
    """Mean CT of the liver veins' cores (one voxel in from their edge, inside the liver), of the blood pool's
    cores (heart and great vessels, two voxels in) and of the eroded, lesion-free liver."""
    labels = case.organs.array
    blood = labels == LABEL["blood"]
    region = _liver_region(labels)
    box = around(region, 3)  # the region holds the liver and its veins; the erosions reach 1 and 2 voxels
    veins, liver = np.zeros_like(region), np.zeros_like(region)
    veins[box] = region[box] & ndimage.binary_erosion(blood[box], iterations=1)
    liver[box] = ndimage.binary_erosion(labels[box] == LABEL["liver"], iterations=2) & (case.lesions.array[box] == 0)
    pool = ndimage.binary_erosion(blood, iterations=2) & ~region
    return tuple(float(case.ct.array[mask].mean()) for mask in (veins, pool, liver))


def test_liver_veins_carry_the_blood_pool_and_are_bright_on_portal_venous_ct(phases):
    """The veins are blood: their HU is the blood pool's (± 10 HU: noise, partial volume of thin veins) in both
    phases, and on the portal-venous CT (enhanced blood) they lie well above the liver."""
    for contrast, case in phases.items():
        veins, pool, liver = _vessel_blood_and_liver_hu(case)
        assert abs(veins - pool) <= 10.0, (contrast, veins, pool)
        if contrast == "portal-venous":
            assert veins > liver + 20.0, (veins, liver)


@_v4_fails("seed 8's unenhanced blood (57 HU) lies above its liver (49 HU): version 4 draws blood 45-60 HU "
           "(radclass) independently of the liver")
def test_liver_veins_are_darker_than_the_liver_on_unenhanced_ct(version, phases):
    """On unenhanced CT of a normal liver the intrahepatic vessels are darker than the liver (Hamer et al.,
    RadioGraphics 2006;26:1637, Fig. 2)."""
    case = phases["none"] if version == 5 else make_wholebody_case(8, "normal", FINE, version=4, contrast="none")
    veins, _, liver = _vessel_blood_and_liver_hu(case)
    assert veins < liver, (veins, liver)


def test_lung_parenchyma_keeps_its_published_hu(phases):
    for case in phases.values():
        lung = ndimage.binary_erosion(case.organs.array == LABEL["lung"], iterations=2)
        assert LUNG_PARENCHYMA_HU[0] <= float(case.ct.array[lung].mean()) <= LUNG_PARENCHYMA_HU[1]
