"""``train-virtual-pet --overshoot-factor F --overshoot-threshold T``: a pixel whose truth is below T while the
prediction is above it weighs F times as much in the SUV-weighted L2 (virtual_pet/losses.py); checked against hand
arithmetic, then through a tiny real run that records F in its card and keeps it on --resume."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from test_virtual_pet_gan_loss import TINY, cases  # noqa: F401 (cases: the two tiny phantom cases, a fixture)

from MedGANSynthLib.cli.main import main
from MedGANSynthLib.training.checkpoint import checkpoint_path, load_checkpoint
from MedGANSynthLib.virtual_pet.lesions import PAPER_THRESHOLD_SUV
from MedGANSynthLib.virtual_pet.losses import suv_weighted_l2
from MedGANSynthLib.virtual_pet.training_settings import VirtualPETTrainingSettings

# Five pixels, T = 2.5: (truth, prediction in SUV) = a hot spot on cold tissue (the one overshoot), a lesion drawn
# hotter, a prediction exactly at T, a truth exactly at T drawn hot, and cold tissue drawn cold.
TRUE_SUV = [0.5, 3.0, 1.0, 2.5, 1.0]
PREDICTED_SUV = [4.0, 6.0, 2.5, 5.0, 1.0]
PRED = [0.30, 0.10, 0.20, 0.05, 0.00]
TARGET = [0.00, 0.40, 0.10, 0.25, 0.10]


def _by_hand(weights: list[float]) -> float:
    return sum(w * (p - t) ** 2 for w, p, t in zip(weights, PRED, TARGET, strict=True)) / sum(weights)


def _loss(**options) -> torch.Tensor:
    tensor = lambda values: torch.tensor(values, dtype=torch.float64)  # noqa: E731
    return suv_weighted_l2(tensor(PRED), tensor(TARGET), tensor(TRUE_SUV), predicted_suv=tensor(PREDICTED_SUV),
                           **options)


def test_the_default_threshold_is_the_papers_lesion_threshold():
    assert VirtualPETTrainingSettings.overshoot_threshold == PAPER_THRESHOLD_SUV == 2.5
    assert VirtualPETTrainingSettings.overshoot_factor == 1.0


def test_factor_one_is_the_old_loss_exactly():
    paper = [1 + s for s in TRUE_SUV]
    old = _loss(symmetric=False)
    assert float(old) == pytest.approx(_by_hand(paper), rel=1e-12)
    assert torch.equal(_loss(symmetric=False, overshoot_factor=1.0), old)
    assert torch.equal(_loss(symmetric=False, overshoot_factor=1.0, overshoot_threshold=0.7), old)
    assert torch.equal(_loss(overshoot_factor=1.0), _loss())  # the symmetric weight, unchanged as well


def test_only_a_cold_truth_drawn_above_the_threshold_weighs_factor_times_more():
    # Paper weight 1 + truth = 1.5, 4, 2, 3.5, 2; only the first pixel (0.5 < 2.5 < 4.0) is an overshoot.
    expected = _by_hand([1.5 * 4, 4.0, 2.0, 3.5, 2.0])
    assert float(_loss(symmetric=False, overshoot_factor=4.0)) == pytest.approx(expected, rel=1e-12)
    assert float(_loss(symmetric=False, overshoot_factor=4.0)) != pytest.approx(_by_hand([1.5, 4, 2, 3.5, 2]))
    # Symmetric weight 1 + max(truth, prediction) = 5, 7, 3.5, 6, 2, and power 2, then the factor on the first.
    expected = _by_hand([25 * 3, 49, 12.25, 36, 4])
    got = _loss(symmetric=True, weight_power=2.0, overshoot_factor=3.0)
    assert float(got) == pytest.approx(expected, rel=1e-12)


def test_the_threshold_decides_which_pixels_overshoot():
    # T = 0.8: truth below 0.8 only in pixel 0 (predicted 4.0 > 0.8); T = 4.5: truth 0.5, 3.0, 1.0, 2.5, 1.0 all
    # below, predictions above 4.5 in pixels 1 (6.0) and 3 (5.0).
    assert float(_loss(symmetric=False, overshoot_factor=2.0, overshoot_threshold=0.8)) == \
        pytest.approx(_by_hand([3.0, 4.0, 2.0, 3.5, 2.0]), rel=1e-12)
    assert float(_loss(symmetric=False, overshoot_factor=2.0, overshoot_threshold=4.5)) == \
        pytest.approx(_by_hand([1.5, 8.0, 2.0, 7.0, 2.0]), rel=1e-12)


def test_gradients_flow_to_the_prediction_only_through_the_squared_error():
    pred = torch.tensor(PRED, dtype=torch.float64, requires_grad=True)
    predicted_suv = torch.tensor(PREDICTED_SUV, dtype=torch.float64, requires_grad=True)
    loss = suv_weighted_l2(pred, torch.tensor(TARGET, dtype=torch.float64), torch.tensor(TRUE_SUV, dtype=torch.float64),
                           predicted_suv=predicted_suv, symmetric=False, overshoot_factor=4.0)
    loss.backward()
    weights = np.array([1.5 * 4, 4.0, 2.0, 3.5, 2.0])
    expected = 2 * weights * (np.array(PRED) - np.array(TARGET)) / weights.sum()
    np.testing.assert_allclose(pred.grad.numpy(), expected, rtol=1e-12)
    assert predicted_suv.grad is None  # the weight is a constant of the step (detached)


def test_an_overshoot_factor_needs_the_prediction():
    from MedGANSynthLib.errors import InputError

    tensor = torch.tensor(PRED)
    with pytest.raises(InputError, match="predicted_suv"):
        suv_weighted_l2(tensor, tensor, tensor, overshoot_factor=2.0)


# ---- through the command line ----------------------------------------------------------------------------------
@pytest.mark.parametrize(("flags", "message"), [
    (["--overshoot-factor", "0.5"], "--overshoot-factor must be a number of at least 1"),
    (["--overshoot-factor", "inf"], "--overshoot-factor must be a number of at least 1"),
    (["--overshoot-factor", "nan"], "--overshoot-factor must be a number of at least 1"),
    (["--overshoot-threshold", "0"], "--overshoot-threshold must be a positive SUV"),
    (["--overshoot-threshold", "-1"], "--overshoot-threshold must be a positive SUV")])
def test_bad_values_are_refused_in_one_line_before_anything_is_written(cases, tmp_path, capsys, flags,  # noqa: F811
                                                                       message):
    capsys.readouterr()
    assert main(["train-virtual-pet", "--data", str(cases), "-o", str(tmp_path / "run"), *TINY, *flags]) == 2
    error = capsys.readouterr().err.strip()
    assert message in error and len(error.splitlines()) == 1
    assert not (tmp_path / "run").exists()


def test_a_tiny_run_records_the_factor_and_a_resume_keeps_it(cases, tmp_path, capsys):  # noqa: F811
    run = tmp_path / "run"
    assert main(["train-virtual-pet", "--data", str(cases), "-o", str(run), *TINY, "--overshoot-factor", "4"]) == 0
    card = _training_card(run)
    assert (card["overshoot_factor"], card["overshoot_threshold"]) == (4.0, 2.5)
    assert json.loads((run / "run.json").read_text())["overshoot_factor"] == 4.0
    # A resume continues with the run's factor (no flag needed); asking for another one is refused in one line.
    capsys.readouterr()
    assert main(["train-virtual-pet", "-o", str(run), "--resume", "--epochs", "2", "--overshoot-factor", "2"]) == 2
    error = capsys.readouterr().err.strip()
    assert "leave out --overshoot-factor" in error and len(error.splitlines()) == 1
    assert main(["train-virtual-pet", "-o", str(run), "--resume", "--epochs", "2", "--threads", "1", "--quiet"]) == 0
    assert load_checkpoint(checkpoint_path(run))["epoch"] == 2
    card = _training_card(run)
    assert (card["overshoot_factor"], card["overshoot_threshold"], card["epochs"]) == (4.0, 2.5, 2)


def test_a_run_file_from_before_the_factor_resumes_with_the_factor_off(cases, tmp_path):  # noqa: F811
    run = tmp_path / "old"
    assert main(["train-virtual-pet", "--data", str(cases), "-o", str(run), *TINY]) == 0
    old = json.loads((run / "run.json").read_text())
    assert (old.pop("overshoot_factor"), old.pop("overshoot_threshold")) == (1.0, 2.5)
    (run / "run.json").write_text(json.dumps(old))
    assert main(["train-virtual-pet", "-o", str(run), "--resume", "--epochs", "2", "--overshoot-factor", "4"]) == 2
    assert main(["train-virtual-pet", "-o", str(run), "--resume", "--epochs", "2", "--threads", "1", "--quiet"]) == 0
    assert _training_card(run)["overshoot_factor"] == 1.0


def _training_card(run: Path) -> dict:
    return json.loads((run / "weights" / "virtual_pet.json").read_text())["metrics"]["training"]
