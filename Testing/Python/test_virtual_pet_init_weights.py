"""``train-virtual-pet --init-weights MODEL``: a fine-tune starts the FCN-4s and the pix2pix generator from the
model's tensors (read here by the safetensors library itself), takes the architecture from its card, records the
file's SHA-256, and refuses conflicting flags, --resume and bad files in one line with nothing written."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from test_virtual_pet_gan_loss import TINY, cases, default_run  # noqa: F401 (fixtures: two tiny cases, a 1-epoch run)

from MedGANSynthLib.cli.main import main
from MedGANSynthLib.training.checkpoint import checkpoint_path, load_checkpoint
from MedGANSynthLib.training.engine import seed_everything
from MedGANSynthLib.virtual_pet.init_weights import load_init_weights
from MedGANSynthLib.virtual_pet.training_run import resolve_virtual_pet_run
from MedGANSynthLib.virtual_pet.training_settings import VIRTUAL_PET_RECIPES, VirtualPETTrainingSettings
from MedGANSynthLib.virtual_pet.training_task import VirtualPETNetworkSettings, build_networks

# The tiny run's flags without the network and slice sizes (those come from the model's card) and another seed,
# so that freshly built networks differ from the model's.
FINE_TUNE = ["--epochs", "1", "--batch-size", "16", "--threads", "1", "--device", "cpu", "--seed", "5", "--quiet"]
BUNDLED = Path(__file__).resolve().parents[2] / "Resources" / "Models" / "virtual_pet_phantom.safetensors"


@pytest.fixture(scope="module")
def model(default_run) -> Path:  # noqa: F811
    return default_run / "weights" / "virtual_pet.safetensors"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _run(capsys, *argv) -> tuple[int, str]:
    capsys.readouterr()
    code = main([str(a) for a in argv])
    return code, capsys.readouterr().err.strip()


def test_before_any_step_the_networks_hold_the_files_tensors(cases, model, tmp_path):  # noqa: F811
    settings = VirtualPETTrainingSettings(data=str(cases), output=str(tmp_path / "run"), init_weights=str(model),
                                          seed=5)
    settings, stored = resolve_virtual_pet_run(settings)
    # The sizes are the tiny run's (TINY), not the defaults this settings object started with.
    assert (settings.width_fcn, settings.width_gan, settings.depth, settings.slice_size, settings.context_slices) == \
        (0.0625, 0.0625, 3, 32, 1)
    assert stored["init_weights"]["sha256"] == _sha256(model) and stored["init_weights"]["file"] == model.name
    # What train_virtual_pet does before its first step: build the networks of run.json, then load the file.
    seed_everything(settings.seed)
    fcn, generator, _ = build_networks(VirtualPETNetworkSettings(**stored["networks"]))
    tensors = load_file(str(model))
    parts = {"fcn": fcn, "gan": generator}
    assert any(not torch.equal(value, tensors[f"{name}.{key}"]) for name, network in parts.items()
               for key, value in network.state_dict().items())  # a fresh network is not the file's
    load_init_weights(settings.init_weights, stored["init_weights"], fcn, generator)
    for name, network in parts.items():
        state = network.state_dict()
        assert {f"{name}.{key}" for key in state} == {key for key in tensors if key.startswith(name + ".")}
        for key, value in state.items():
            assert torch.equal(value, tensors[f"{name}.{key}"]), f"{name}.{key}"


def test_a_fine_tune_through_the_cli_starts_from_the_file_records_it_and_resumes(cases, model, tmp_path):  # noqa: F811
    run = tmp_path / "fine_tune"
    # A learning rate of 1e-30 moves no weight of float32 size: the exported parameters must be the file's.
    assert main(["train-virtual-pet", "--data", str(cases), "-o", str(run), "--init-weights", str(model),
                 *FINE_TUNE, "--lr", "1e-30", "--overshoot-factor", "4"]) == 0
    card = json.loads((run / "weights" / "virtual_pet.json").read_text())
    assert card["metrics"]["training"]["init_weights"] == {"file": "virtual_pet.safetensors", "sha256": _sha256(model),
                                                           "epochs": 1}
    assert card["metrics"]["training"]["overshoot_factor"] == 4.0
    start, tuned = load_file(str(model)), load_file(str(run / "weights" / "virtual_pet.safetensors"))
    parameters = [key for key in start if "running_" not in key and "num_batches_tracked" not in key]
    assert tuned.keys() == start.keys() and parameters
    for key in parameters:
        torch.testing.assert_close(tuned[key], start[key], rtol=0, atol=1e-20)
    # The run is a run like any other: it resumes from its checkpoint with the card's architecture.
    assert main(["train-virtual-pet", "-o", str(run), "--resume", "--epochs", "2", "--threads", "1", "--quiet"]) == 0
    assert load_checkpoint(checkpoint_path(run))["epoch"] == 2
    card = json.loads((run / "weights" / "virtual_pet.json").read_text())
    assert card["metrics"]["training"]["init_weights"]["sha256"] == _sha256(model)
    assert (card["config"]["fcn"]["width"], card["config"]["gan"]["depth"]) == (0.0625, 3)


@pytest.mark.parametrize(("flags", "message"), [
    (["--width-fcn", "0.5"], "--width-fcn 0.5 does not match the --init-weights model's 0.0625; leave it out."),
    (["--depth", "5"], "--depth 5 does not match the --init-weights model's 3; leave it out."),
    (["--gan-upsampling", "resize"], "--gan-upsampling resize does not match the --init-weights model's transposed"),
    (["--context-slices", "2"], "--context-slices 2 does not match the --init-weights model's 1; leave it out."),
    (["--slice-size", "64"], "--slice-size 64 does not match the --init-weights model's 32; leave it out.")])
def test_a_conflicting_architecture_flag_is_refused_in_one_line(cases, model, tmp_path, capsys, flags,  # noqa: F811
                                                                message):
    code, error = _run(capsys, "train-virtual-pet", "--data", cases, "-o", tmp_path / "run", "--init-weights", model,
                       *FINE_TUNE, *flags)
    assert code == 2 and message in error and len(error.splitlines()) == 1
    assert not (tmp_path / "run").exists()


def test_a_flag_equal_to_the_cards_value_is_accepted(cases, model, tmp_path):  # noqa: F811
    settings = VirtualPETTrainingSettings(data=str(cases), output=str(tmp_path / "run"), init_weights=str(model),
                                          width_fcn=0.0625, depth=3, slice_size=32)
    settings, stored = resolve_virtual_pet_run(settings)
    assert stored["networks"]["width_fcn"] == 0.0625 and stored["dataset"]["slice_size"] == 32


def test_init_weights_with_resume_is_refused_in_one_line(default_run, model, tmp_path, capsys):  # noqa: F811
    run = tmp_path / "run"
    shutil.copytree(default_run, run)
    before = (run / "run.json").read_text()
    code, error = _run(capsys, "train-virtual-pet", "-o", run, "--resume", "--epochs", "2", "--init-weights", model)
    assert code == 2 and "--init-weights starts a new run" in error and "--resume" in error
    assert len(error.splitlines()) == 1
    assert (run / "run.json").read_text() == before and load_checkpoint(checkpoint_path(run))["epoch"] == 1


def test_missing_corrupt_and_other_models_are_refused_in_one_line(cases, model, tmp_path, capsys):  # noqa: F811
    damaged = tmp_path / "damaged.safetensors"
    data = bytearray(model.read_bytes())
    data[-10] ^= 0xFF
    damaged.write_bytes(bytes(data))
    shutil.copy(model.with_suffix(".json"), damaged.with_suffix(".json"))
    bad = [(tmp_path / "absent.safetensors", "does not exist"),
           (damaged, "does not match its model card's SHA-256"),
           ("radiogan-phantom", "is a gan model")]
    for source, message in bad:
        run = tmp_path / "run"
        code, error = _run(capsys, "train-virtual-pet", "--data", cases, "-o", run, "--init-weights", source,
                           *FINE_TUNE)
        assert code == 2 and message in error and len(error.splitlines()) == 1, (source, error)
        assert not run.exists()


@pytest.mark.skipif(not BUNDLED.is_file() or BUNDLED.stat().st_size < 1_000_000,
                    reason="the bundled virtual-PET weights are not in this checkout (git lfs)")
def test_the_bundled_model_gives_its_architecture_and_the_bundled_recipe_agrees(cases, tmp_path):  # noqa: F811
    card = json.loads(BUNDLED.with_suffix(".json").read_text())
    recipe = VirtualPETTrainingSettings(data=str(cases), output=str(tmp_path / "run"),
                                        **VIRTUAL_PET_RECIPES["virtual-pet-phantom"])
    settings, stored = resolve_virtual_pet_run(dataclasses.replace(recipe, init_weights="virtual-pet-phantom"))
    assert (settings.width_fcn, settings.width_gan, settings.depth, settings.gan_upsampling) == (
        card["config"]["fcn"]["width"], card["config"]["gan"]["width"], card["config"]["gan"]["depth"],
        card["config"]["gan"]["upsampling"])
    assert (settings.context_slices, settings.slice_size) == (card["config"]["context_slices"],
                                                              card["training_data"]["dataset"]["slice_size"])
    assert stored["init_weights"]["sha256"] == _sha256(BUNDLED) == card["tensor_sha256"]
    fcn, generator, _ = build_networks(VirtualPETNetworkSettings(**stored["networks"]))
    load_init_weights(settings.init_weights, stored["init_weights"], fcn, generator)
    tensors = load_file(str(BUNDLED))
    assert all(torch.equal(value, tensors[f"gan.{key}"]) for key, value in generator.state_dict().items())
    assert all(torch.equal(value, tensors[f"fcn.{key}"]) for key, value in fcn.state_dict().items())
