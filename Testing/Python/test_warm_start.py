"""``medgansynth train --init-weights``: a new run that starts from saved weights (fine-tuning), and its refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from tiny_gan import single_thread, write_mip_folder

from MedGANSynthLib.cli.main import main
from MedGANSynthLib.training.checkpoint import checkpoint_path, load_checkpoint
from MedGANSynthLib.weights.safetensors_io import file_sha256, load_gan

TINY = ["--batch-size", "3", "--image-size", "20x12", "--width", "0.125", "--device", "cpu", "--threads", "1"]
RUN_ONLY = ["--batch-size", "3", "--device", "cpu", "--threads", "1"]

_one_thread = pytest.fixture(autouse=True)(single_thread)


@pytest.fixture
def trained(tmp_path) -> tuple[Path, Path]:
    """(data folder, weights) of a tiny RadioGAN trained for two epochs, at a high rate so its weights move far
    from their initial values."""
    data = write_mip_folder(tmp_path / "mips", ("lung", "normal"))
    run = tmp_path / "first"
    assert main(["train", "--architecture", "radiogan", "--data", str(data), "-o", str(run), "--epochs", "2",
                 "--lr", "2e-2", "--class-projection", "--discriminator-dropout", "0", *TINY]) == 0
    return data, run / "weights" / "radiogan.safetensors"


def _parameters(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {name: value.detach().clone() for name, value in module.named_parameters()}


def test_a_fine_tune_starts_from_the_saved_networks(tmp_path, trained, capsys):
    data, weights = trained
    saved_generator, saved_discriminator, _ = load_gan(weights)
    # At a learning rate of 1e-12 Adam moves no weight by more than ~1e-11 per step, so after training the networks
    # still equal the saved ones; a run from fresh weights (the first run's seed and initial weights) ends far from them.
    for name, extra in (("fine_tune", ["--init-weights", str(weights)]),
                        ("fresh", ["--architecture", "radiogan", "--image-size", "20x12", "--width", "0.125",
                                   "--class-projection", "--discriminator-dropout", "0"])):
        assert main(["train", *extra, "--data", str(data), "-o", str(tmp_path / name), "--epochs", "1",
                     "--lr", "1e-12", *RUN_ONLY]) == 0, capsys.readouterr().err
    distances = {}
    for name in ("fine_tune", "fresh"):
        state = load_checkpoint(checkpoint_path(tmp_path / name))["modules"]
        distances[name] = max(
            float((state[module][key] - saved[key]).abs().max())
            for module, saved in (("generator", _parameters(saved_generator)),
                                  ("discriminator", _parameters(saved_discriminator)))
            for key in saved)
    assert distances["fine_tune"] < 1e-6 and distances["fresh"] > 1e-2, distances


def test_the_run_and_the_card_record_what_it_started_from(tmp_path, trained, capsys):
    data, weights = trained
    run = tmp_path / "second"
    assert main(["train", "--init-weights", str(weights), "--data", str(data), "-o", str(run), "--epochs", "1",
                 "--lr", "2e-5", "--mismatched-labels", "--hardest-mismatch", "--json", *RUN_ONLY]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert "d_mismatch" in summary["last_losses"]
    expected = {"path": str(weights), "sha256": file_sha256(weights), "epochs": 2, "discriminator": True}
    assert json.loads((run / "run.json").read_text())["init_weights"] == expected
    _, _, card = load_gan(run / "weights" / "radiogan.safetensors")
    assert card.metrics["training"]["init_weights"] == expected
    assert card.metrics["training"]["hardest_mismatch"] is True
    assert card.config == load_gan(weights)[2].config  # the networks came from the first card, not from defaults
    # A fine-tune resumes like any run, without the starting weights being read again.
    weights.unlink()
    assert main(["train", "-o", str(run), "--resume", "--epochs", "2", "--threads", "1"]) == 0


@pytest.mark.parametrize("extra, message", [
    (["--width", "0.25"], "takes the networks from the model card; leave out --width"),
    (["--minibatch-std"], "leave out --minibatch-std"),
    (["--architecture", "ct_gan"], "is a 'radiogan' model, not 'ct_gan'"),
    (["--resume"], "Pass one of them"),
])
def test_options_that_contradict_the_saved_weights_are_refused(tmp_path, trained, capsys, extra, message):
    data, weights = trained
    code = main(["train", "--init-weights", str(weights), "--data", str(data), "-o", str(tmp_path / "x"),
                 "--epochs", "1", *extra, *RUN_ONLY])
    error = capsys.readouterr().err
    assert code == 2 and message in error and "Traceback" not in error, error
    assert not (tmp_path / "x" / "run.json").exists()


def test_data_with_other_classes_are_refused_before_anything_is_written(tmp_path, trained, capsys):
    _, weights = trained
    other = write_mip_folder(tmp_path / "other", ("lung", "lymphoma"))
    code = main(["train", "--init-weights", str(weights), "--data", str(other), "-o", str(tmp_path / "x"),
                 "--epochs", "1", *RUN_ONLY])
    error = capsys.readouterr().err
    assert code == 2 and "differ from the model's ['lung', 'normal']" in error, error
    assert not (tmp_path / "x" / "run.json").exists()


def test_a_bundled_model_needs_data_in_its_window_and_classes(tmp_path, capsys):
    data = write_mip_folder(tmp_path / "mips", ("lung", "normal"))
    code = main(["train", "--init-weights", "radiogan-phantom", "--data", str(data), "-o", str(tmp_path / "x"),
                 "--epochs", "1", *RUN_ONLY])
    error = capsys.readouterr().err
    # The bundled RadioGAN learned SUV MIPs (window 0-10); grey PNGs cannot continue it.
    assert code == 2 and "PNG grey values" in error and "Traceback" not in error, error
