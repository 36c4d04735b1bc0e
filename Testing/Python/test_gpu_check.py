"""The GPU recipe (Testing/Training/gpu_check.py) end to end at toy sizes on the CPU, so a GPU session can trust it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
STEPS = ["device", "vpet_data", "train_radiogan", "train_brain_dcgan", "train_ct_gan", "vpet_inference",
         "sample_radiogan", "sample_brain_dcgan", "sample_ct_gan", "vpet_train", "vpet_eval_new", "vpet_eval_bundled"]


@pytest.mark.slow
def test_tiny_cpu_run_completes_every_step(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    env.pop("OUT", None)
    done = subprocess.run([sys.executable, str(REPO / "Testing" / "Training" / "gpu_check.py"), "--device", "cpu",
                           "--tiny", "--output", str(tmp_path / "out")], capture_output=True, text=True, env=env,
                          timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["complete"] and [step["name"] for step in summary["steps"]] == STEPS
    assert {step["name"]: step["status"] for step in summary["steps"]} == dict.fromkeys(STEPS, "ok")
    results = {step["name"]: step["result"] for step in summary["steps"]}
    # --tiny trains two epochs, the second by --resume, and the weights are the run's
    assert results["vpet_train"]["epochs"] == 2 and results["vpet_train"]["summary"]["epochs"] == 2
    assert (tmp_path / "out" / "vpet_run" / "weights" / "virtual_pet.safetensors").is_file()
    for name in ("vpet_eval_new", "vpet_eval_bundled"):  # two fresh phantoms, the second with lesions
        scored = json.loads((tmp_path / "out" / name / "results.json").read_text())
        assert scored["scans"] == 2 and scored["overall"]["blended"]["true_lesions"] > 0
        assert 0 < results[name]["blended"]["ssim"] <= 1
    for architecture in ("radiogan", "brain_dcgan", "ct_gan"):
        assert results[f"train_{architecture}"]["epochs"] == 1
        assert list((tmp_path / "out" / f"{architecture}_run" / "weights").glob(f"{architecture}*.safetensors"))
    assert [run["run"] for run in results["vpet_inference"]["runs"]] == ["cold", "warm"]
    assert (tmp_path / "out" / "vpet_inference" / "warm" / "virtual_pet.nrrd").is_file()
    for family in ("radiogan", "brain_dcgan", "ct_gan"):
        assert (tmp_path / "out" / f"sample_{family}" / "samples.nrrd").is_file()
    # the card's figures are printed beside the new ones
    assert summary["virtual_pet_comparison"]["bundled_card"]["heldout"]["blended"]["tpr"] > 0
    assert "bundled card, held-out" in done.stdout
