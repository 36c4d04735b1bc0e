"""``medgansynth evaluate-virtual-pet`` end to end on tiny phantom cases (counting itself: test_lesion_candidates)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import SimpleITK as sitk
from conftest import REPO_ROOT
from tiny_models import phantoms_with_untrained_virtual_pet

from MedGANSynthLib.cli.main import main

METHODS = ("fcn", "gan", "blended")


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    return phantoms_with_untrained_virtual_pet(tmp_path_factory.mktemp("eval_vpet"))


def test_evaluation_writes_per_scan_and_overall_entries_for_fcn_gan_blended(setup, tmp_path):
    root, model = setup
    code = main(["evaluate-virtual-pet", "--data", str(root / "data"), "--model", str(model), "-o",
                 str(tmp_path / "eval"), "--device", "cpu", "--threads", "1", "--write-card-metrics"])
    assert code == 0
    results = json.loads((tmp_path / "eval" / "results.json").read_text())
    assert results["scans"] == 2 and len(results["per_scan"]) == 2
    for scan in results["per_scan"]:
        case = root / "data" / scan["case_id"]
        true_ids = np.unique(sitk.GetArrayFromImage(sitk.ReadImage(str(case / "lesions.nrrd"))))
        assert scan["true_lesions"] == int((true_ids > 0).sum())
        for method in METHODS:
            entry = scan[method]
            assert {"tp", "fn", "fp", "ssim", "psnr_db", "mae_suv"} <= set(entry)
            assert entry["tp"] + entry["fn"] == scan["true_lesions"]
            assert -1.0 <= entry["ssim"] <= 1.0 and entry["mae_suv"] >= 0.0
    for method in METHODS:
        overall = results["overall"][method]
        tp = sum(scan[method]["tp"] for scan in results["per_scan"])
        fp = sum(scan[method]["fp"] for scan in results["per_scan"])
        true = sum(scan["true_lesions"] for scan in results["per_scan"])
        assert overall["tp"] == tp and overall["true_lesions"] == true
        assert overall["tpr"] == pytest.approx(tp / true) and overall["fp_per_scan"] == pytest.approx(fp / 2)
        assert overall["ssim"] == pytest.approx(np.mean([s[method]["ssim"] for s in results["per_scan"]]))
    ceiling = results["overall"]["true_pet"]
    assert ceiling["true_lesions"] == true and ceiling["tpr"] == pytest.approx(ceiling["tp"] / true)
    for name in ("report.md", "report.html"):
        text = (tmp_path / "eval" / name).read_text()
        assert "blended" in text and f"reaches TPR {ceiling['tpr']:.3f} ({ceiling['tp']}/{true})" in text
    for picture in results["pictures"].values():
        assert (tmp_path / "eval" / picture).stat().st_size > 0
    card = json.loads(model.with_suffix(".json").read_text())
    assert card["metrics"]["heldout"]["blended"]["tp"] == results["overall"]["blended"]["tp"]


def test_card_metrics_carry_the_blending_they_were_measured_with(setup, tmp_path):
    from MedGANSynthLib.virtual_pet.weights import load_virtual_pet

    root, model = setup
    copy = tmp_path / "model"
    copy.mkdir()
    for path in (model, model.with_suffix(".json")):
        (copy / path.name).write_bytes(path.read_bytes())
    code = main(["evaluate-virtual-pet", "--data", str(root / "data"), "--model", str(copy / model.name), "-o",
                 str(tmp_path / "eval"), "--device", "cpu", "--threads", "1", "--write-card-metrics",
                 "--blend-levels", "2", "--blend-dilation", "32", "--blend-veto", "1.5", "--blend-base-levels", "1",
                 "--slice-smoothing", "12"])
    assert code == 0
    results = json.loads((tmp_path / "eval" / "results.json").read_text())
    assert (results["blend_levels"], results["blend_dilation_mm"], results["blend_veto_suv"],
            results["blend_base_levels"], results["slice_smoothing_mm"]) == (2, 32.0, 1.5, 1, 12.0)
    loaded = load_virtual_pet(copy / model.name)
    assert loaded.card.metrics["heldout"]["blend_dilation_mm"] == 32.0
    assert loaded.card.metrics["heldout"]["slice_smoothing_mm"] == 12.0
    config = loaded.inference_config()
    # later runs post-process as measured
    assert (config.blend_levels, config.blend_dilation_mm, config.blend_veto_suv, config.blend_base_levels,
            config.slice_smoothing_mm) == (2, 32.0, 1.5, 1, 12.0)
    paper = load_virtual_pet(model).inference_config()  # the paper's, when a card is silent
    assert (paper.blend_dilation_mm, paper.blend_veto_suv, paper.blend_base_levels,
            paper.slice_smoothing_mm) == (0.0, 0.0, 0, 0.0)


def test_evaluate_subprocess_with_a_missing_model_is_one_line(setup, tmp_path):
    root, _ = setup
    result = subprocess.run([sys.executable, "-m", "MedGANSynthLib", "evaluate-virtual-pet", "--data",
                             str(root / "data"), "--model", str(tmp_path / "none.safetensors"), "-o",
                             str(tmp_path / "eval")], capture_output=True, text=True, cwd=REPO_ROOT, timeout=120)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert not (tmp_path / "eval").exists()


def test_detection_scores_split_false_positives_on_a_hand_made_case():
    from MedGANSynthLib.virtual_pet.evaluation import detection_scores
    from MedGANSynthLib.volume import Volume

    grid = dict(spacing=(10.0, 10.0, 10.0))  # 1 ml voxels
    truth = np.zeros((10, 10, 10), np.int32)
    truth[1:3, 1:3, 1:3] = 1          # lesion 1: found
    truth[6:8, 1:3, 1:3] = 2          # lesion 2: missed
    true_suv = np.ones((10, 10, 10), np.float32)
    true_suv[1:3, 1:3, 1:3] = 8.0
    true_suv[1:3, 6:9, 6:9] = 6.0     # real physiological uptake (e.g. a kidney)
    predicted = np.ones((10, 10, 10), np.float32)
    predicted[2, 2, 2] = 5.0          # one voxel on lesion 1: 1 ml, kept
    predicted[1:3, 7:9, 7:9] = 4.0    # on the physiological uptake: not a false positive
    predicted[7:9, 7:9, 7:9] = 4.0    # nothing there in truth: a false positive
    predicted[5, 5, 0] = 9.0          # a speck of 1 ml, below the 1.5 ml size rule of this test
    scores = detection_scores(Volume(truth, **grid), Volume(predicted, **grid), Volume(true_suv, **grid), 2.5, 1.5)
    # The lesion-1 voxel is 1 ml, below 1.5 ml: not a candidate either -> nothing detected.
    assert scores == {"tp": 0, "fn": 2, "fp": 1, "fp_physiological": 1, "n_true": 2, "tpr": 0.0, "tp_focal": 0,
                      "tpr_focal": 0.0}
    scores = detection_scores(Volume(truth, **grid), Volume(predicted, **grid), Volume(true_suv, **grid), 2.5, 0.5)
    assert scores == {"tp": 1, "fn": 1, "fp": 2, "fp_physiological": 1, "n_true": 2, "tpr": 0.5, "tp_focal": 1,
                      "tpr_focal": 0.5}


def test_a_lesion_inside_an_organ_sized_hot_region_is_found_but_not_focally():
    from MedGANSynthLib.virtual_pet.evaluation import detection_scores
    from MedGANSynthLib.volume import Volume

    grid = dict(spacing=(10.0, 10.0, 10.0))  # 1 ml voxels
    truth = np.zeros((10, 10, 10), np.int32)
    truth[1:3, 1:3, 1:3] = 1          # lesion 1: 8 ml
    truth[6:8, 6:8, 6:8] = 2          # lesion 2: 8 ml
    true_suv = np.where(truth > 0, 8.0, 1.0).astype(np.float32)
    predicted = np.ones((10, 10, 10), np.float32)
    predicted[0:4, 0:4, 0:2] = 5.0    # 32 ml = 4 lesion volumes over lesion 1: focal (the limit is inclusive)
    predicted[5:10, 5:10, 5:10] = 5.0  # 125 ml around lesion 2: overlaps it, but organ-sized
    scores = detection_scores(Volume(truth, **grid), Volume(predicted, **grid), Volume(true_suv, **grid), 2.5, 0.5)
    assert (scores["tp"], scores["tpr"]) == (2, 1.0)  # the paper's overlap rule credits both
    assert (scores["tp_focal"], scores["tpr_focal"]) == (1, 0.5)
    predicted[0:4, 0:4, 2] = 5.0      # 48 ml: 6 lesion volumes, no longer focal
    scores = detection_scores(Volume(truth, **grid), Volume(predicted, **grid), Volume(true_suv, **grid), 2.5, 0.5)
    assert (scores["tp"], scores["tp_focal"]) == (2, 0)


def test_the_true_pet_sets_the_ceiling_faint_and_merged_lesions_are_missed_even_by_it():
    from MedGANSynthLib.virtual_pet.evaluation import overall_metrics, score_case
    from MedGANSynthLib.volume import Volume

    grid = dict(spacing=(10.0, 10.0, 10.0))  # 1 ml voxels
    truth = np.zeros((10, 10, 10), np.int32)
    truth[1:3, 1:3, 1:3] = 1          # 8 ml, SUV 8: found, focally
    truth[6:8, 1:3, 1:3] = 2          # 8 ml, SUV 2.2 after blur: below 2.5, missed even by the truth
    truth[6:8, 6:8, 6:8] = 3          # 8 ml beside a 100 ml hot organ: found, but not focally
    true_suv = np.ones((10, 10, 10), np.float32)
    true_suv[1:3, 1:3, 1:3] = 8.0
    true_suv[6:8, 1:3, 1:3] = 2.2
    true_suv[5:10, 5:10, 5:10] = 4.0  # the organ, which holds lesion 3
    true_suv[6:8, 6:8, 6:8] = 9.0
    ct = Volume(np.zeros((10, 10, 10), np.float32), **grid)
    scans = [score_case(f"case{i}", ct, Volume(true_suv, **grid), Volume(truth, **grid), {}, 2.5) for i in (1, 2)]
    # The margin rule finds the same two: the faint lesion has no voxel above 2.5 within one voxel of it.
    assert scans[0]["true_pet"] == {"tp": 2, "fn": 1, "fp": 0, "fp_physiological": 0, "n_true": 3, "tpr": 2 / 3,
                                    "tp_focal": 1, "tpr_focal": 1 / 3, "margin_tp": 2}
    ceiling = overall_metrics(scans)["true_pet"]
    assert ceiling == {"tpr": 4 / 6, "tp": 4, "true_lesions": 6, "tpr_focal": 2 / 6, "tp_focal": 2,
                       "tpr_margin": 4 / 6}


def test_margin_rule_counts_near_misses_as_found_and_hot_spots_far_from_uptake_as_false():
    """The issue-29 rule on a hand-made case: one voxel of margin for finds, two for false positives."""
    from MedGANSynthLib.virtual_pet.detection_metrics import margin_detection

    truth = np.zeros((12, 12, 12), np.int32)
    truth[2:4, 2:4, 2:4] = 1            # lesion 1: the hot spot sits one voxel beside it -> found
    truth[8:10, 2:4, 2:4] = 2           # lesion 2: the nearest hot voxel is two voxels away -> missed
    true_suv = np.ones(truth.shape, np.float32)
    true_suv[truth > 0] = 6.0
    true_suv[2:4, 8:10, 8:10] = 6.0     # physiological uptake
    predicted = np.ones(truth.shape, np.float32)
    predicted[4, 2, 2] = 5.0            # touches lesion 1's one-voxel margin
    predicted[8:10, 5, 2] = 5.0         # two voxels from lesion 2 (columns 3 -> 5): not a find, but near a lesion
    predicted[2:4, 6, 8:10] = 5.0       # two voxels from the uptake (columns 8 -> 6): not false
    predicted[9:11, 9:11, 9:11] = 5.0   # 8 voxels far from everything: false
    predicted[6, 9, 0] = 5.0            # 1 voxel far from everything: below the size rule
    scores = margin_detection(truth, predicted, true_suv, voxel_ml=1.0, min_volume_ml=2.0)
    # Lesion 1 found, lesion 2 missed. Regions: [4,2,2] touches lesion 1 (1 voxel, also small); [8:10,5,2] lies
    # two voxels from lesion 2 but lesions only excuse one voxel, and true uptake >2.5 at lesion 2 excuses two, so
    # it is allowed; [2:4,6,8:10] within two of the uptake: allowed; the 8-voxel cube: false; the speck: too small.
    false = scores.pop("false_positives")
    assert scores == {"tp": 1, "n_true": 2, "fp": 1, "tpr": 0.5, "missed": [2]}
    cube = np.zeros(truth.shape, bool)
    cube[9:11, 9:11, 9:11] = True
    assert np.array_equal(np.isin(false.components, false.ids), cube)  # the counted region is the cube, kept for reuse
    predicted[2:4, 6, 8:10] = 1.0
    predicted[2:4, 5, 8:10] = 5.0       # one voxel further: three voxels from the uptake -> false
    assert margin_detection(truth, predicted, true_suv, voxel_ml=1.0, min_volume_ml=2.0)["fp"] == 2
