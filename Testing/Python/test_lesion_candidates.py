"""Lesion candidates and the paper's detection rule on hand-made volumes with hand-computed answers."""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest

from MedGANSynthLib.virtual_pet.detection_metrics import image_metrics, lesion_detection
from MedGANSynthLib.virtual_pet.lesions import find_lesion_candidates, write_lesion_csv, write_lesion_json
from MedGANSynthLib.volume import Volume

SPACING = (0.8, 1.0, 2.0)  # (i, j, k) mm: a voxel is 1.6 mm^3 = 0.0016 ml


@pytest.fixture
def two_blobs(oblique_volume) -> Volume:
    suv = np.full((10, 14, 16), 1.0, np.float32)       # liver-like background, below 2.5
    suv[2:4, 3:6, 4:8] = 5.0                             # blob A: 2 x 3 x 4 = 24 voxels
    suv[3, 5, 7] = 9.0                                   # its maximum
    suv[6:7, 10:12, 1:3] = 3.0                           # blob B: 1 x 2 x 2 = 4 voxels
    suv[9, 0, 15] = 4.0                                  # a single hot voxel (0.0016 ml)
    suv[0, 13, 0] = 2.5                                  # exactly at the threshold: not "> 2.5"
    return Volume(suv, spacing=SPACING, origin=oblique_volume.origin, direction=oblique_volume.direction,
                  modality="PT", units="SUV")


def _lps(volume: Volume, i: float, j: float, k: float) -> np.ndarray:
    return np.asarray(volume.origin) + volume.direction @ (np.asarray(SPACING) * np.array([i, j, k]))


def test_two_blobs_have_hand_computed_statistics(two_blobs):
    labels, lesions = find_lesion_candidates(two_blobs, threshold=2.5, min_volume_ml=0.005)
    assert len(lesions) == 2  # the one-voxel spot (0.0016 ml) is below 0.005 ml
    a, b = sorted(lesions, key=lambda lesion: -lesion["volume_ml"])
    assert math.isclose(a["volume_ml"], 24 * 0.0016) and math.isclose(b["volume_ml"], 4 * 0.0016)
    assert a["suv_max"] == 9.0 and math.isclose(a["suv_mean"], (23 * 5.0 + 9.0) / 24, rel_tol=1e-6)
    assert b["suv_max"] == 3.0 and math.isclose(b["suv_mean"], 3.0)
    # Centre of blob A: i = (4+7)/2 = 5.5, j = 4, k = 2.5; of blob B: i = 1.5, j = 10.5, k = 6.
    np.testing.assert_allclose(a["centroid_mm"], _lps(two_blobs, 5.5, 4.0, 2.5), atol=1e-6)
    np.testing.assert_allclose(b["centroid_mm"], _lps(two_blobs, 1.5, 10.5, 6.0), atol=1e-6)
    assert labels.same_grid(two_blobs) and labels.units == "label"
    assert sorted(np.unique(labels.array)) == [0, 1, 2]
    assert np.count_nonzero(labels.array == a["id"]) == 24 and np.count_nonzero(labels.array == b["id"]) == 4
    _, all_lesions = find_lesion_candidates(two_blobs, threshold=2.5, min_volume_ml=0.0)
    assert len(all_lesions) == 3  # without a minimum volume the single voxel counts, the 2.5 voxel never


def test_diagonal_neighbours_form_one_region():
    suv = np.zeros((3, 3, 3), np.float32)
    suv[0, 0, 0] = suv[1, 1, 1] = suv[2, 2, 2] = 6.0   # corner-touching only: 26-connectivity joins them
    _, lesions = find_lesion_candidates(Volume(suv), min_volume_ml=0.0)
    assert len(lesions) == 1 and math.isclose(lesions[0]["volume_ml"], 3 * 0.001)


def test_writers_are_readable_and_atomic(two_blobs, tmp_path):
    _, lesions = find_lesion_candidates(two_blobs, min_volume_ml=0.005)
    rows = list(csv.DictReader(open(write_lesion_csv(lesions, tmp_path / "lesions.csv"))))
    assert [float(r["suv_max"]) for r in rows] == [lesion["suv_max"] for lesion in lesions]
    assert math.isclose(float(rows[0]["x_mm"]), lesions[0]["centroid_mm"][0], abs_tol=1e-3)
    data = json.loads(write_lesion_json(lesions, tmp_path / "lesions.json").read_text())
    assert data["lesions"] == lesions and data["coordinate_system"] == "LPS"
    with pytest.raises(KeyError):
        write_lesion_csv([{"id": 1}], tmp_path / "broken.csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lesions.csv", "lesions.json"]


def test_detection_counts_one_covered_one_missed_one_false_positive():
    truth = np.zeros((8, 20, 20), np.int16)
    truth[2:5, 2:6, 2:6] = 1            # covered by a hot prediction
    truth[2:5, 12:16, 12:16] = 2        # missed (prediction below threshold there)
    predicted = np.full(truth.shape, 1.0, np.float32)
    predicted[3:4, 4:8, 4:8] = 4.0      # overlaps lesion 1 partly
    predicted[3:5, 13:15, 13:15] = 2.4  # warm but not > 2.5: lesion 2 missed
    predicted[6:8, 16:19, 1:4] = 6.0    # hot where there is no lesion: a false positive
    counts = lesion_detection(truth, predicted, threshold=2.5)
    assert (counts["tp"], counts["fn"], counts["fp"], counts["n_true"]) == (1, 1, 1, 2)
    assert counts["tpr"] == 0.5
    # One hot component bridging both lesions detects both and is no false positive.
    predicted[3, 4:15, 4:15] = 5.0
    predicted[6:8, 16:19, 1:4] = 1.0
    assert lesion_detection(truth, predicted) == {"tp": 2, "fn": 0, "fp": 0, "tpr": 1.0, "n_true": 2}


def test_image_metrics_inside_the_body_mask_match_hand_arithmetic(rng):
    truth = rng.uniform(0.0, 10.0, size=(8, 24, 24))
    mask = np.zeros(truth.shape, bool)
    mask[:, 4:20, 4:20] = True
    predicted = truth + 0.5
    predicted[~mask] = 19.0              # errors outside the body do not count
    metrics = image_metrics(predicted, truth, body_mask=mask, data_range=20.0)
    assert math.isclose(metrics["mae_suv"], 0.5, rel_tol=1e-9)
    assert math.isclose(metrics["psnr_db"], 10 * math.log10(20.0**2 / 0.25), rel_tol=1e-9)
    assert image_metrics(truth, truth.copy(), body_mask=mask)["ssim"] == pytest.approx(1.0)
    # Values above the paper's SUV 20 are clipped before comparison.
    assert image_metrics(np.full(truth.shape, 25.0), np.full(truth.shape, 20.0))["mae_suv"] == 0.0


def test_statistics_match_scipy_per_region_reference(rng):
    """Random specks and blobs: every candidate's size, max, mean and centre equal scipy.ndimage's own per-label
    functions run on the full label map (the straightforward whole-volume computation the hot-voxel one replaces)."""
    from scipy import ndimage

    suv = rng.gamma(2.0, 0.6, size=(12, 20, 24)).astype(np.float32)
    suv[3:6, 4:9, 5:11] += 4.0
    volume = Volume(suv, spacing=SPACING, modality="PT", units="SUV")
    min_ml = 3 * 0.0016  # drops the one- and two-voxel regions
    labels, lesions = find_lesion_candidates(volume, threshold=2.5, min_volume_ml=min_ml)
    reference, count = ndimage.label(suv > 2.5, structure=np.ones((3, 3, 3), bool))
    all_ids = np.arange(1, count + 1)
    sizes = ndimage.sum_labels(np.ones_like(reference), reference, all_ids)
    kept = all_ids[sizes >= 3]
    assert len(lesions) == kept.size > 1
    for lesion, reference_id in zip(lesions, kept, strict=True):  # ids follow scipy's scan order
        region = reference == reference_id
        assert np.array_equal(labels.array == lesion["id"], region)
        assert math.isclose(lesion["volume_ml"], region.sum() * 0.0016, rel_tol=1e-9)
        assert lesion["suv_max"] == float(suv[region].max())
        assert math.isclose(lesion["suv_mean"], float(suv[region].astype(np.float64).mean()), rel_tol=1e-9)
        k, j, i = ndimage.center_of_mass(region)
        np.testing.assert_allclose(lesion["centroid_mm"], volume.physical_point((i, j, k)), atol=1e-9)
    assert not np.any(labels.array[~np.isin(reference, kept)])  # dropped regions are background
