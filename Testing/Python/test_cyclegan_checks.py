"""Hallucination counts on hand-made volumes with known answers, the cycle error's rules, the side-by-side
evaluation on a real phantom, and the Slicer Logic's CycleGAN training job."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from cyclegan_data import write_unpaired_folders

from MedGANSynthLib.cyclegan.cycle_error import cycle_error
from MedGANSynthLib.cyclegan.training_run import train_cyclegan
from MedGANSynthLib.cyclegan.training_settings import CycleGANTrainingSettings
from MedGANSynthLib.cyclegan.weights import load_cyclegan
from MedGANSynthLib.errors import InputError
from MedGANSynthLib.io.volume_io import read_volume
from MedGANSynthLib.virtual_pet.hallucination import hallucination_counts
from MedGANSynthLib.volume import Volume

SPACING = (2.0, 2.0, 2.0)  # 0.008 ml per voxel: 0.5 ml is 62.5 voxels


def _suv(array: np.ndarray) -> Volume:
    return Volume(array.astype(np.float32), spacing=SPACING, modality="PT", units="SUV")


def _scene() -> tuple[Volume, Volume, Volume]:
    """True PET with two labelled 1 ml lesions (5^3 voxels, SUV 6) and a prediction that keeps lesion 1, erases
    lesion 2, invents a 4^3 = 64-voxel (0.512 ml) hot cube where the truth is cold, adds a 2^3-voxel speck
    (0.064 ml, below 0.5 ml) and draws lesion 1 larger than it is (touches the truth: not invented)."""
    truth = np.ones((30, 30, 30))
    labels = np.zeros((30, 30, 30), np.int16)
    truth[2:7, 2:7, 2:7] = 6.0
    labels[2:7, 2:7, 2:7] = 1
    truth[20:25, 20:25, 20:25] = 6.0
    labels[20:25, 20:25, 20:25] = 2
    predicted = np.ones((30, 30, 30))
    predicted[1:9, 1:9, 1:9] = 4.0          # lesion 1, drawn larger
    predicted[12:16, 2:6, 20:24] = 3.0      # invented, 64 voxels
    predicted[25:27, 2:4, 2:4] = 9.0        # a speck of 8 voxels
    return _suv(predicted), _suv(truth), Volume(labels, spacing=SPACING, modality="SEG", units="label")


def test_hallucination_counts_match_the_hand_made_scene():
    predicted, truth, labels = _scene()
    counts = hallucination_counts(predicted, truth, labels)
    assert counts == {"invented": 1, "invented_ml": pytest.approx(0.512), "erased": 1, "true_lesions": 2}
    # Without labels the true lesions are the true hot regions of >= 0.5 ml: the same two.
    assert hallucination_counts(predicted, truth) == counts
    # With the threshold above the invented cube (SUV 3) nothing is invented, and lesion 1 (4) is still found.
    assert hallucination_counts(predicted, truth, labels, threshold=3.5)["invented"] == 0
    # Every speck counts when the smallest finding is 0 ml.
    assert hallucination_counts(predicted, truth, labels, min_volume_ml=0.0)["invented"] == 2


def test_a_perfect_prediction_invents_and_erases_nothing():
    _, truth, labels = _scene()
    assert hallucination_counts(truth, truth, labels) == {"invented": 0, "invented_ml": 0.0, "erased": 0,
                                                          "true_lesions": 2}


def test_hallucination_counts_refuse_volumes_on_different_grids():
    predicted, truth, _ = _scene()
    with pytest.raises(InputError, match="different grids"):
        hallucination_counts(predicted, _suv(truth.array[:-1]))


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # module fixtures run before conftest's one_torch_thread; 2 threads crawl when busy
    root = tmp_path_factory.mktemp("cyclegan")
    folder_a, folder_b = write_unpaired_folders(root)
    train_cyclegan(CycleGANTrainingSettings(output=str(root / "run"), device="cpu", data_a=str(folder_a),
                                            data_b=str(folder_b), epochs=1, image_size=32, width=0.125,
                                            residual_blocks=1, batch_size=2))
    yield load_cyclegan(root / "run" / "weights" / "cyclegan.safetensors"), folder_a
    torch.set_num_threads(threads)


def test_cycle_error_is_measured_in_hu_inside_the_body(tiny_model):
    model, folder_a = tiny_model
    ct = read_volume(folder_a / "ct0.nrrd")
    score = cycle_error(model, ct)
    assert 0 < score["cycle_mae_hu"] < 2000 and score["slices"] == 6
    # The body (40 HU) and lung (-800 HU) are denser than -500 HU only where the body is not lung: the disc of
    # radius 14 of 40 pixels less the lung disc of radius 5, resized to 32 pixels: about (pi 14^2 - pi 5^2) * 0.64
    expected = (np.pi * 14**2 - np.pi * 5**2) * (32 / 40) ** 2 * 6
    assert score["body_pixels"] == pytest.approx(expected, rel=0.08)
    # Air only: no body to score.
    with pytest.raises(InputError, match="no body"):
        cycle_error(model, ct.with_array(np.full(ct.array.shape, -1000, np.int16)))


def test_cycle_error_needs_a_model_whose_domain_a_is_ct(tiny_model, tmp_path):
    model, _ = tiny_model
    model.card.config["domains"] = {"a": model.card.config["domains"]["b"], "b": model.card.config["domains"]["a"]}
    try:
        with pytest.raises(InputError, match="domain A is CT"):
            cycle_error(model, Volume(np.zeros((3, 8, 8))))
    finally:
        model.card.config["domains"] = {"a": model.card.config["domains"]["b"],
                                        "b": model.card.config["domains"]["a"]}


def test_side_by_side_evaluation_on_a_phantom_agrees_with_the_detection_rule(tiny_model, tmp_path):
    from MedGANSynthLib.cli.main import main
    from MedGANSynthLib.cyclegan.translate import translate_volume
    from MedGANSynthLib.virtual_pet.cases import discover_cases
    from MedGANSynthLib.virtual_pet.translation_evaluation import evaluate_translation

    model, _ = tiny_model
    assert main(["phantoms", "--kind", "wholebody", "--phantom-version", "1",
                 "--count", "1", "--seed", "5", "--classes", "lung",
                 "--voxel-mm", "8", "-o", str(tmp_path / "ph")]) == 0
    results = evaluate_translation({"cyclegan": lambda ct: translate_volume(model, ct, "ab")},
                                   discover_cases(tmp_path / "ph"))
    row = results["per_scan"]["cyclegan"][0]
    assert row["true_lesions"] == row["n_true"] >= 1
    # Two rules, two code paths: a lesion is found (lesion_detection) exactly when it is not erased.
    assert row["tp"] == row["true_lesions"] - row["erased"]
    assert 0.0 <= row["mae_suv"] <= 20.0 and -1.0 <= row["ssim"] <= 1.0
    overall = results["overall"]["cyclegan"]
    assert overall["invented_per_scan"] == row["invented"]
    assert overall["erased_fraction"] == pytest.approx(row["erased"] / row["true_lesions"])


def test_slices_keep_the_training_pixel_size_padded_or_cropped(tiny_model):
    from MedGANSynthLib.cyclegan.translate import _from_canvas, _to_canvas, model_slices, placement

    model, folder_a = tiny_model
    # Training CTs: 40 pixels of 4 mm = 160 mm resized to 32 pixels: 5 mm pixels.
    assert model.pixel_mm("a") == pytest.approx(5.0)
    ct = read_volume(folder_a / "ct0.nrrd")
    wide = ct.with_array(np.pad(ct.array, ((0, 0), (20, 20), (20, 20)), constant_values=-1000))  # 320 mm
    where = placement(model, wide, "a")
    assert where.native == (80, 80) and where.scaled == (64, 64)  # 320 mm / 5 mm, centre 32 of them kept
    narrow = ct.with_array(ct.array[:, 10:30, 10:30])  # 80 mm -> 16 pixels, padded with air to 32
    inner = placement(model, narrow, "a")
    assert inner.scaled == (16, 16)
    images = model_slices(model, narrow, "a")
    assert images.shape == (6, 1, 32, 32) and torch.all(images[:, :, :8] == -1.0)  # air around the 16 x 16 middle
    patch = torch.rand(2, 1, 16, 16)
    assert torch.equal(_from_canvas(_to_canvas(patch, inner, -1.0), inner, -1.0), patch)
    # the same anatomy at the same pixel size: the body of the wide CT's middle equals the original's
    same = model_slices(model, wide, "a")
    original = model_slices(model, ct, "a")
    assert torch.allclose(same[..., 8:24, 8:24], original[..., 8:24, 8:24], atol=0.02)
