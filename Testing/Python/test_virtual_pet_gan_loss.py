"""``train-virtual-pet --gan-loss`` and ``--lr-d``: the defaults train bit for bit as before, LSGAN trains and is
recorded, the PatchGAN's own rate reaches its optimiser only (also on --resume, also of a run.json older than both)."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest
import torch

from MedGANSynthLib.cli.main import main
from MedGANSynthLib.training.checkpoint import checkpoint_path, load_checkpoint
from MedGANSynthLib.training.engine import seed_everything
from MedGANSynthLib.virtual_pet.training_task import Pix2PixTask, VirtualPETNetworkSettings, build_networks

FCN_DEFAULT_LR, PIX2PIX_DEFAULT_LR = 1e-4, 2e-4  # the module text of virtual_pet/training_task.py (paper, pix2pix)
TINY = ["--epochs", "1", "--batch-size", "16", "--threads", "1", "--width-fcn", "0.0625", "--width-gan", "0.0625",
        "--depth", "3", "--slice-size", "32", "--device", "cpu", "--seed", "4", "--quiet"]


@pytest.fixture(scope="module")
def cases(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("vpet_gan_loss")
    assert main(["phantoms", "--kind", "wholebody", "--phantom-version", "1", "--count", "2", "--seed", "5",
                 "--voxel-mm", "8", "--classes", "lymphoma,lung", "-o", str(root / "data"), "--quiet"]) == 0
    return root / "data"


@pytest.fixture(scope="module")
def default_run(cases, tmp_path_factory) -> Path:
    """One tiny epoch with neither flag: today's BCE pix2pix, one rate for the pair."""
    run = tmp_path_factory.mktemp("default") / "run"
    assert main(["train-virtual-pet", "--data", str(cases), "-o", str(run), *TINY]) == 0
    return run


def _checkpoint(run: Path) -> dict:
    return load_checkpoint(checkpoint_path(run))


def _rates(run: Path) -> dict[str, float]:
    """The learning rate of each optimiser as the checkpoint saved it (Adam's param_groups)."""
    return {name: state["param_groups"][0]["lr"] for name, state in _checkpoint(run)["optimizers"].items()}


def _same_weights(first: dict, second: dict, network: str) -> bool:
    a, b = first["modules"][network], second["modules"][network]
    return a.keys() == b.keys() and all(torch.equal(a[key], b[key]) for key in a)


def test_pix2pix_task_gives_lr_d_to_the_discriminator_optimiser_only():
    seed_everything(0)
    _, generator, discriminator = build_networks(VirtualPETNetworkSettings(width_gan=0.0625, depth=3))
    optimisers = Pix2PixTask(generator, discriminator, lr=3e-4, lr_d=1e-5).optimizers()
    assert [group["lr"] for group in optimisers["generator"].param_groups] == [3e-4]
    assert [group["lr"] for group in optimisers["discriminator"].param_groups] == [1e-5]
    same = Pix2PixTask(generator, discriminator, lr=3e-4).optimizers()  # no lr_d: the pair shares the rate
    assert [group["lr"] for group in same["discriminator"].param_groups] == [3e-4]


def test_the_defaults_given_explicitly_train_bit_for_bit_the_same(cases, default_run, tmp_path):
    run = tmp_path / "explicit"
    assert main(["train-virtual-pet", "--data", str(cases), "-o", str(run), *TINY, "--gan-loss", "bce",
                 "--lr-d", str(PIX2PIX_DEFAULT_LR)]) == 0
    default, explicit = _checkpoint(default_run), _checkpoint(run)
    for network in ("fcn", "generator", "discriminator"):
        assert _same_weights(default, explicit, network), network
    stored = json.loads((default_run / "run.json").read_text())
    assert stored["gan_loss"] == "bce" and stored["lr_d"] is None
    assert _rates(default_run) == {"fcn": FCN_DEFAULT_LR, "generator": PIX2PIX_DEFAULT_LR,
                                   "discriminator": PIX2PIX_DEFAULT_LR}


def test_an_lsgan_run_trains_is_recorded_and_a_new_lr_alone_resets_lr_d(cases, default_run, tmp_path):
    run = tmp_path / "lsgan"
    assert main(["train-virtual-pet", "--data", str(cases), "-o", str(run), *TINY, "--gan-loss", "lsgan",
                 "--lr-d", "5e-5"]) == 0
    steps = json.loads((run / "losses.json").read_text())["steps"]
    assert steps and all(math.isfinite(step[name]) for step in steps for name in ("d_loss", "g_loss", "gan_l2"))
    stored = json.loads((run / "run.json").read_text())
    assert (stored["gan_loss"], stored["lr_d"]) == ("lsgan", 5e-5)
    card = json.loads((run / "weights" / "virtual_pet.json").read_text())
    assert (card["metrics"]["training"]["gan_loss"], card["metrics"]["training"]["lr_d"]) == ("lsgan", 5e-5)
    assert _rates(run) == {"fcn": FCN_DEFAULT_LR, "generator": PIX2PIX_DEFAULT_LR, "discriminator": 5e-5}
    # Same seed and batches as the default run: the FCN (no adversarial term) is identical, the pix2pix pair not.
    default, lsgan = _checkpoint(default_run), _checkpoint(run)
    assert _same_weights(default, lsgan, "fcn")
    assert not _same_weights(default, lsgan, "generator") and not _same_weights(default, lsgan, "discriminator")
    # --lr alone on resume sets every network's rate, the PatchGAN's too (as at the start); LSGAN stays.
    assert main(["train-virtual-pet", "-o", str(run), "--resume", "--epochs", "2", "--lr", "3e-4", "--threads", "1",
                 "--quiet"]) == 0
    assert _rates(run) == {"fcn": 3e-4, "generator": 3e-4, "discriminator": 3e-4}
    stored = json.loads((run / "run.json").read_text())
    assert (stored["gan_loss"], stored["lr"], stored["lr_d"]) == ("lsgan", 3e-4, None)
    assert stored["learning_rate_changes"] == [{"after_epoch": 1, "lr": 3e-4}]


def test_a_run_file_from_before_the_options_resumes_and_takes_a_new_lr_d(default_run, tmp_path, capsys):
    run = tmp_path / "old"
    shutil.copytree(default_run, run)
    old = json.loads((run / "run.json").read_text())
    del old["gan_loss"], old["lr_d"]
    (run / "run.json").write_text(json.dumps(old))
    capsys.readouterr()
    # The run trained with BCE: asking for another loss on resume is refused in one line.
    assert main(["train-virtual-pet", "-o", str(run), "--resume", "--epochs", "2", "--gan-loss", "lsgan"]) == 2
    error = capsys.readouterr().err
    assert "leave out --gan-loss" in error and len(error.strip().splitlines()) == 1
    assert _checkpoint(run)["epoch"] == 1
    assert main(["train-virtual-pet", "-o", str(run), "--resume", "--epochs", "2", "--lr-d", "1e-5", "--threads", "1",
                 "--quiet"]) == 0
    assert _checkpoint(run)["epoch"] == 2
    assert _rates(run) == {"fcn": FCN_DEFAULT_LR, "generator": PIX2PIX_DEFAULT_LR, "discriminator": 1e-5}
    stored = json.loads((run / "run.json").read_text())
    assert stored["lr_d"] == 1e-5 and stored["learning_rate_changes"] == [{"after_epoch": 1, "lr": None, "lr_d": 1e-5}]
