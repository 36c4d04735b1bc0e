"""The Slicer Logic starts a CycleGAN training job (train-cyclegan in a child process) and plots its losses."""

from __future__ import annotations

import json

import pytest
from cyclegan_data import write_unpaired_folders
from mrml_support import new_mrml_context

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.mrml.logic import MedGANSynthLogic


@pytest.fixture(scope="module")
def logic():
    return MedGANSynthLogic(new_mrml_context().scene)


def test_train_model_runs_a_cyclegan_on_two_folders(logic, tmp_path):
    folder_a, folder_b = write_unpaired_folders(tmp_path)
    result = logic.trainModel("cyclegan", (folder_a, folder_b), tmp_path / "run", epochs=1, batchSize=4,
                              device="cpu", wait=True,
                              extraArgs=["--image-size", "32", "--width", "0.125", "--residual-blocks", "1",
                                         "--threads", "1"])
    steps = json.loads((tmp_path / "run" / "losses.json").read_text())["steps"]
    assert len(steps) == 3 and len(result["history"]) == 3  # 12 CT slices / batch 4
    assert {"cycle_a", "cycle_b", "d_a", "d_b"} <= set(steps[0])
    assert (tmp_path / "run" / "weights" / "cyclegan.safetensors").is_file()
    # resumed to 2 epochs: the run keeps its batch of 4 (the panel's batch size is not passed on)
    logic.trainModel("cyclegan", None, tmp_path / "run", epochs=2, batchSize=1, resume=True, device="cpu", wait=True,
                     extraArgs=["--threads", "1"])
    steps = json.loads((tmp_path / "run" / "losses.json").read_text())["steps"]
    assert [step["step"] for step in steps] == [1, 2, 3, 4, 5, 6]
    with pytest.raises(InputError, match="two unpaired folders"):
        logic.trainModel("cyclegan", folder_a, tmp_path / "other", epochs=1, batchSize=1)
