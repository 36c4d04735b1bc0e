"""The gain sweep reads an output at 2.5 / gain SUV while the truth stays at the rule's 2.5 (session 28)."""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "Training"))
from virtual_pet_gain_sweep import fp_at_tpr, gain_counts  # noqa: E402


def test_a_gain_moves_the_reading_threshold_of_the_output_only():
    shape = (20, 40, 40)
    lesions = np.zeros(shape, np.int16)
    true_suv = np.full(shape, 1.0, np.float32)
    image = np.full(shape, 1.0, np.float32)
    lesions[8:12, 5:9, 5:9] = 1
    true_suv[8:12, 5:9, 5:9] = 6.0  # a hot lesion the output draws at only 2.0 SUV
    image[8:12, 5:9, 5:9] = 2.0
    image[8:12, 25:35, 25:35] = 2.2  # 400 voxels (1.6 ml) drawn hot in normal tissue (true 1.0)
    counts = gain_counts(lesions, true_suv, image, voxel_ml=0.004, gains=(1.0, 1.2, 1.3))
    # the blob passes 2.5 once 2.2 g > 2.5 (g > 1.136), the lesion once 2.0 g > 2.5 (g > 1.25)
    assert counts == {1.0: (0, 1, 0), 1.2: (0, 1, 1), 1.3: (1, 1, 1)}


def test_a_blob_under_half_a_millilitre_is_not_a_false_positive_at_any_gain():
    shape = (20, 40, 40)
    image = np.full(shape, 1.0, np.float32)
    image[8:12, 25:30, 25:30] = 2.2  # 100 voxels, 0.4 ml
    counts = gain_counts(np.zeros(shape, np.int16), np.ones(shape, np.float32), image, voxel_ml=0.004,
                         gains=(1.0, 2.0))
    assert counts == {1.0: (0, 0, 0), 2.0: (0, 0, 0)}


def test_a_curve_is_read_between_the_two_gains_around_the_asked_tpr():
    # session 29's blend on its training phantoms at gains 0.7, 0.8, 0.9 (HISTORY.md)
    curve = [{"tpr_margin": 0.54, "fp_margin_per_scan": 3.2}, {"tpr_margin": 0.65, "fp_margin_per_scan": 5.2},
             {"tpr_margin": 0.76, "fp_margin_per_scan": 8.2}]
    assert fp_at_tpr(curve, 0.65) == 5.2  # on a row: that row
    assert fp_at_tpr(curve, 0.70) == round(5.2 + (0.05 / 0.11) * 3.0, 2)  # 5/11 of the way from 5.2 to 8.2
    assert fp_at_tpr(curve, 0.50) == 3.2  # below the first row: the first row, the best it reads
    assert fp_at_tpr(curve, 0.80) is None  # never reached
