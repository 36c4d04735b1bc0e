"""Session 22's RadioGAN rule (Testing/Training/radiogan_stage_choice.py) on hand-made evaluate-gan JSONs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "Testing" / "Training" / "radiogan_stage_choice.py"


def _scores(path: Path, accuracies, recalls, ratios, copies, specks=None) -> Path:
    """An evaluate-gan --json file holding only what the rule reads: two classes, each's accuracy, recall,
    pixel memorisation ratio and near-copy share, and the overall speck share (absent when ``specks`` is None)."""
    per_class = {name: {"class_accuracy": a, "precision_recall": {"generated": {"recall": r}},
                        "memorisation": {"ratio_pixel": m, "flagged_fraction": c}}
                 for name, a, r, m, c in zip(("lung", "normal"), accuracies, recalls, ratios, copies, strict=True)}
    overall = {} if specks is None else {"specks_outside_body": {"generated": {"images_with_specks": specks}}}
    path.write_text(json.dumps({"results": {"per_class": per_class, "overall": overall}}))
    return path


def _choose(*args) -> list[str]:
    done = subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True, check=True)
    return done.stdout.splitlines()


def test_each_criterion_fails_alone_and_the_best_worst_class_among_passing_stages_is_chosen(tmp_path):
    incumbent = _scores(tmp_path / "incumbent.json", (0.9, 0.5), (0.1, 0.3), (1.3, 1.5), (0, 0))  # worst 0.5, recall 0.2
    stages = [
        _scores(tmp_path / "worse_class.json", (0.49, 1.0), (0.9, 0.9), (1.0, 1.0), (0, 0), 0.1),
        _scores(tmp_path / "less_recall.json", (0.9, 0.9), (0.1, 0.29), (1.0, 1.0), (0, 0), 0.1),  # mean 0.195
        _scores(tmp_path / "copies.json", (0.9, 0.9), (0.9, 0.9), (1.0, 1.0), (0, 0.01), 0.1),
        _scores(tmp_path / "low_ratio.json", (0.9, 0.9), (0.9, 0.9), (0.89, 1.0), (0, 0), 0.1),
        _scores(tmp_path / "more_specks.json", (0.9, 0.9), (0.9, 0.9), (1.0, 1.0), (0, 0), 0.67),
        _scores(tmp_path / "passes.json", (0.6, 0.7), (0.2, 0.2), (0.9, 1.0), (0, 0), 0.66),  # every bound met exactly
        _scores(tmp_path / "passes_better.json", (0.8, 0.7), (0.3, 0.3), (1.0, 1.0), (0, 0), 0.2),
    ]
    lines = _choose(incumbent, *stages, "--incumbent-specks", 0.66)
    fails = {line.split("|")[1].strip(): line.split("|")[7].strip() for line in lines if line.startswith("| ")}
    assert fails["worse_class"] == "1 worst class" and fails["less_recall"] == "2 recall"
    assert fails["copies"] == fails["low_ratio"] == "3 memorisation" and fails["more_specks"] == "4 specks"
    assert fails["passes"] == fails["passes_better"] == "-"
    assert lines[-1] == "chosen: passes_better"


def test_the_incumbent_stays_when_no_stage_passes(tmp_path):
    incumbent = _scores(tmp_path / "incumbent.json", (0.9, 0.5), (0.1, 0.3), (1.3, 1.5), (0, 0), 0.5)
    stage = _scores(tmp_path / "stage.json", (0.9, 0.9), (0.9, 0.9), (1.0, 1.0), (0.06, 0), 0.1)
    assert _choose(incumbent, stage)[-1] == "chosen: the incumbent (no candidate passes)"
