"""The CT body mask (preprocessing/body_mask.py) on a real thorax CT and on a phantom with its arms raised.

Independent references: rows and boxes of the real CT picked by looking at its slices once (reasons beside
them), the phantom generator's own label map (every labelled voxel is body, the couch is not), and scipy's
binary_fill_holes for the mask the out-of-distribution statistics use.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import shared_data_path
from scipy import ndimage

from MedGANSynthLib.io.volume_io import read_volume
from MedGANSynthLib.preprocessing.body_mask import axial_body_masks, body_mask_slice


@pytest.fixture(scope="module")
def thorax():
    ct = read_volume(shared_data_path("ct-dicom-thorax"))
    assert ct.array.shape == (20, 512, 512) and ct.axis_along(2) == 0  # axial slices along k, rows anterior first
    return ct, np.stack([mask for _, mask in axial_body_masks(ct)])


def test_the_thorax_table_is_outside_and_the_body_arms_and_stomach_gas_inside(thorax):
    ct, body = thorax
    hu = ct.array
    # Looking at the slices once: the patient's back ends at row 418-419 under the spine in every slice; below it
    # lie only the table's two curved carbon shells (rows 446-454 and 484-489 under the spine, 3-5 rows thick,
    # rising at the sides to row ~400 beside the arms). Every dense voxel from row 430 down is table.
    table = np.zeros_like(body)
    table[:, 430:] = hu[:, 430:] > -500
    assert table.sum() > 3000 * 20  # ~3,600 table voxels per slice
    assert not (body & table).any()
    # The arms hang beside the trunk, cut by the field of view: columns < 60 and >= 452 hold only arm from row
    # 250 to 380 (the trunk starts at column ~75 and ends at ~430; the table's sides rise there below row 390).
    # The opening rounds the skin's corners by a few voxels (0.6 % of the arm voxels, none deeper than 3 voxels).
    for columns in (slice(0, 60), slice(452, 512)):
        arm = hu[:, 250:380, columns] > -500
        depth = np.stack([ndimage.distance_transform_edt(plane) for plane in arm])
        kept = body[:, 250:380, columns]
        assert arm.sum() > 3500 * 20 and kept[arm].mean() > 0.99 and kept[depth > 3].all()
    # Stomach gas (< -500 HU) in slice 0, rows 180-235 and columns 245-345, all inside the abdomen's wall: filled.
    gas = hu[0, 180:235, 245:345] < -500
    assert gas.sum() > 1500 and body[0, 180:235, 245:345].all()
    # Tissue 7 mm or more from any air (a 15 x 15 erosion) is body wherever it lies: the blankets and the table
    # shells are thinner, so this is the trunk and the arms.
    deep = np.stack([ndimage.binary_erosion(plane > -500, structure=np.ones((15, 15), bool)) for plane in hu])
    assert deep.sum() > 60_000 * 20 and body[deep].all()


def test_without_table_and_speck_steps_the_mask_is_the_filled_threshold(thorax):
    """What the out-of-distribution statistics use (the model cards' statistics were measured so)."""
    ct, _ = thorax
    for plane in ct.array[::4]:
        np.testing.assert_array_equal(body_mask_slice(plane, (0.98, 0.98), thin_mm=0, min_area_mm2=0),
                                      ndimage.binary_fill_holes(plane > -500))


def test_raised_arms_stay_in_the_body_and_the_couch_does_not():
    from MedGANSynthLib.phantoms import WholeBodyConfig, make_wholebody_case

    case = make_wholebody_case(6, "normal", WholeBodyConfig().with_voxel_mm(6.0), version=2, arms="up")
    assert case.manifest["subject"]["arms"] == "up"
    truth = case.organs.array > 0  # the generator's labels: body wherever a tissue is painted
    body = np.stack([mask for _, mask in axial_body_masks(case.ct)])
    # The slices where the upper arms lie beside the head: three pieces of the labelled body over 10 cm² each.
    arms_kept = []
    for k in range(truth.shape[0]):
        pieces, count = ndimage.label(truth[k])
        areas = np.bincount(pieces.ravel())[1:] * 36.0  # mm² per 6 mm voxel
        if (areas > 1000).sum() < 3:
            continue
        for piece in np.argsort(areas)[::-1][1:3] + 1:  # the two arms: the 2nd and 3rd largest pieces
            inner = ndimage.binary_erosion(pieces == piece)  # one voxel in: the CT's blur softens the skin
            arms_kept.append(body[k][inner].mean())
    assert len(arms_kept) >= 2 * 20 and min(arms_kept) == 1.0
    # The couch: dense CT voxels no label covers, beyond one voxel of the labelled body (partial volume).
    near_body = np.stack([ndimage.binary_dilation(plane) for plane in truth])
    couch = (case.ct.array > -500) & ~near_body
    assert couch.sum() > 5000 and not (body & couch).any()
    inner_body = np.stack([ndimage.binary_erosion(plane) for plane in truth])
    # 99.8 %: what is lost lies in the face, where the opening removes the thin walls of the nasal cavity
    assert body[inner_body].mean() > 0.998
