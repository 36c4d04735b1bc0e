"""Testing/Training/train_cyclegan.sh --tiny: every command of the bundled CycleGAN's recipe at toy size, so the
lead's 90-minute run does not find the script's own bugs (phantoms, unpaired split, train-cyclegan with the band,
card text, held-out evaluation beside the paired model, cycle-error scores, install into a catalogue)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from conftest import REPO_ROOT

from MedGANSynthLib.cyclegan.input_check import BAND_KEY, default_input_check, load_input_check
from MedGANSynthLib.weights.catalogue import load_catalogue

pytestmark = pytest.mark.slow


def test_the_recipe_runs_end_to_end_at_toy_size(tmp_path):
    script = REPO_ROOT / "Testing" / "Training" / "train_cyclegan.sh"
    bundled = REPO_ROOT / "Resources" / "Models"
    before = {path.name: path.read_bytes() for path in bundled.iterdir() if path.is_file()}
    done = subprocess.run(["bash", str(script), str(tmp_path), "--tiny"], capture_output=True, text=True,
                          env={**os.environ, "PYTHON": sys.executable}, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    card = json.loads((tmp_path / "cyclegan_ct_pet_v1" / "weights" / "cyclegan.json").read_text())
    assert card["metrics"][BAND_KEY]["band_hu"] > 0 and card["training_data"]["source"] == "MedGANSynth phantoms"
    assert card["metrics"]["heldout"]["scans"] == 2 and "invented_per_scan" in card["metrics"]["heldout"]
    evaluation = json.loads((tmp_path / "cyclegan_eval_v1.json").read_text())
    assert set(evaluation["overall"]) == {"cyclegan (unpaired)", "pix2pix GAN (paired)",
                                          "virtual PET blended (paired)"}
    scores = json.loads((tmp_path / "cycle_error_v1" / "cycle_error_scores.json").read_text())
    assert sum(row["group"] == "phantom CT" for row in scores) == 2
    card = json.loads((tmp_path / "cyclegan_ct_pet_v1" / "weights" / "cyclegan.json").read_text())
    groups = card["metrics"]["input_check"]["groups"]  # what the check did, counted here from the scores themselves
    assert {name: group["scored"] for name, group in groups.items()} == {
        name: sum(row["group"] == name for row in scores) for name in {row["group"] for row in scores}}
    assert groups["phantom CT"]["warned"] == sum(row["input_check_warns"] for row in scores if row["group"] == "phantom CT")
    assert all(row["input_check_warns"] in (True, False) for row in scores)
    models = tmp_path / "models"
    assert [entry.task for entry in load_catalogue(models)] == ["cyclegan"]
    assert default_input_check(models) == "cyclegan-phantom"
    assert load_input_check("cyclegan-phantom", models) is not None
    assert {path.name: path.read_bytes() for path in bundled.iterdir() if path.is_file()} == before  # never bundles
