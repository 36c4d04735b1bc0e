"""``medgansynth train``: in-process runs with the real networks (tiny widths), bad inputs, kill and resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from tiny_gan import single_thread, write_mip_folder

from MedGANSynthLib.cli.main import main
from MedGANSynthLib.io.volume_io import write_volume
from MedGANSynthLib.jobs.progress import Progress
from MedGANSynthLib.training.checkpoint import checkpoint_path, load_checkpoint
from MedGANSynthLib.volume import Volume
from MedGANSynthLib.weights.safetensors_io import load_gan

REPO = Path(__file__).resolve().parents[2]
TINY_CT = ["--architecture", "ct_gan", "--image-size", "16", "--width", "0.0625", "--device", "cpu",
           "--threads", "1"]

_one_thread = pytest.fixture(autouse=True)(single_thread)


@pytest.fixture
def ct_folder(tmp_path) -> Path:
    """One CT volume: 12 axial slices with a soft-tissue disc of growing radius in air."""
    folder = tmp_path / "ct"
    folder.mkdir()
    hu = np.full((12, 32, 32), -1000.0, dtype=np.float32)
    rows, cols = np.mgrid[:32, :32]
    for k in range(12):
        hu[k][(rows - 16) ** 2 + (cols - 16) ** 2 < (6 + k // 2) ** 2] = 40.0
    write_volume(Volume(hu, spacing=(0.7, 0.7, 2.5), modality="CT", units="HU"), folder / "lung.nrrd")
    return folder


@pytest.fixture
def mip_folder(tmp_path) -> Path:
    """Six 20 x 12 grey PNG 'MIPs' in two free-form classes."""
    return write_mip_folder(tmp_path / "mips", ("normal", "lung cancer"))


def test_ct_gan_run_writes_checkpoint_tables_and_weights(tmp_path, ct_folder, capsys):
    run = tmp_path / "run"
    code = main(["train", *TINY_CT, "--data", str(ct_folder), "-o", str(run), "--epochs", "2",
                 "--batch-size", "4", "--json"])
    assert code == 0, capsys.readouterr().err
    summary = json.loads(capsys.readouterr().out)
    assert summary["images"] == 12 and summary["global_step"] == 6 and summary["epochs"] == 2
    card = json.loads((run / "weights" / "ct_gan.json").read_text())
    # seed 004: [0, 2] scaling; the HU window is the project's [-1000, 1000]
    assert card["normalisation"]["kind"] == "hu"
    assert (card["normalisation"]["low"], card["normalisation"]["high"]) == (-1000.0, 1000.0)
    assert card["normalisation"]["output_range"] == [0.0, 2.0]
    assert card["epochs"] == 2 and card["config"]["image_height"] == 16
    generator, discriminator, _ = load_gan(run / "weights" / "ct_gan.safetensors")
    assert generator.latent_dim == 4 * 4  # --width scales channels, never the latent
    state = load_checkpoint(checkpoint_path(run))
    for key, value in generator.state_dict().items():
        assert torch.equal(value, state["modules"]["generator"][key])
    assert discriminator is not None
    settings = json.loads((run / "run.json").read_text())
    assert settings["architecture"] == "ct_gan" and settings["epochs"] == 2


def test_radiogan_with_free_form_labels(tmp_path, mip_folder, capsys):
    run = tmp_path / "run"
    code = main(["train", "--architecture", "radiogan", "--data", str(mip_folder), "-o", str(run),
                 "--epochs", "1", "--batch-size", "3", "--image-size", "20x12", "--width", "0.125",
                 "--device", "cpu", "--threads", "1", "--loss", "hinge", "--json"])
    assert code == 0, capsys.readouterr().err
    summary = json.loads(capsys.readouterr().out)
    assert summary["classes"] == ["lung cancer", "normal"] and summary["global_step"] == 2
    generator, _, card = load_gan(run / "weights" / "radiogan.safetensors")
    assert generator.num_classes == 2 and card.class_names == ["lung cancer", "normal"]
    assert card.normalisation["high"] == 255.0  # PNG grey values


def test_radiogan_with_class_head_and_minibatch_std_keeps_them_in_the_card(tmp_path, mip_folder, capsys):
    run = tmp_path / "run"
    code = main(["train", "--architecture", "radiogan", "--data", str(mip_folder), "-o", str(run),
                 "--epochs", "1", "--batch-size", "3", "--image-size", "20x12", "--width", "0.125",
                 "--device", "cpu", "--threads", "1", "--auxiliary-classifier", "0.5", "--minibatch-std", "--class-projection",
                 "--discriminator-dropout", "0", "--generator-upsampling", "resize", "--class-batchnorm",
                 "--mismatched-labels", "--json"])
    assert code == 0, capsys.readouterr().err
    summary = json.loads(capsys.readouterr().out)
    assert {"d_class", "g_class", "d_mismatch"} <= set(summary["last_losses"])
    _, discriminator, card = load_gan(run / "weights" / "radiogan.safetensors")
    assert card.config["auxiliary_classifier"] and card.config["minibatch_std"] and card.config["class_projection"]
    assert card.config["generator_upsampling"] == "resize" and card.config["generator_class_norm"]
    assert discriminator.classify_class.out_features == 2
    assert json.loads((run / "run.json").read_text())["auxiliary_classifier"] == 0.5
    assert card.metrics["training"]["mismatched_labels"] is True


def test_generator_average_switched_on_when_resuming_is_what_gets_exported(tmp_path, mip_folder, capsys):
    run = tmp_path / "run"
    tiny = ["--batch-size", "3", "--image-size", "20x12", "--width", "0.125", "--device", "cpu", "--threads", "1"]
    assert main(["train", "--architecture", "radiogan", "--data", str(mip_folder), "-o", str(run), "--epochs", "1",
                 *tiny]) == 0
    assert main(["train", "-o", str(run), "--resume", "--epochs", "3", "--generator-ema", "0.5", "--threads", "1"]) == 0
    capsys.readouterr()
    assert json.loads((run / "run.json").read_text())["generator_ema"] == 0.5
    state = load_checkpoint(checkpoint_path(run))
    average, live = state["task"]["average_generator"], state["modules"]["generator"]
    generator, _, card = load_gan(run / "weights" / "radiogan.safetensors")
    exported = generator.state_dict()
    assert all(torch.equal(exported[key], average[key]) for key in average)
    assert any(not torch.equal(average[key], live[key]) for key in average if average[key].is_floating_point())
    assert card.metrics["training"]["generator_ema"] == 0.5


def test_resuming_at_a_new_learning_rate_trains_at_that_rate_and_records_it(tmp_path, ct_folder, capsys):
    import shutil

    run = tmp_path / "run"
    assert main(["train", *TINY_CT, "--data", str(ct_folder), "-o", str(run), "--epochs", "1",
                 "--batch-size", "4"]) == 0
    unchanged = tmp_path / "unchanged"
    shutil.copytree(run, unchanged)
    before = load_checkpoint(checkpoint_path(run))["modules"]
    # A rate of 1e-12 (both networks) barely moves a weight in an epoch; the saved rates move them by ~1e-4.
    assert main(["train", "-o", str(run), "--resume", "--epochs", "2", "--lr", "1e-12", "--threads", "1"]) == 0
    assert main(["train", "-o", str(unchanged), "--resume", "--epochs", "2", "--threads", "1"]) == 0
    capsys.readouterr()

    def largest_step(folder: Path) -> float:
        after = load_checkpoint(checkpoint_path(folder))["modules"]
        return max(float((after[net][key] - before[net][key]).abs().max())
                   for net in ("generator", "discriminator") for key in before[net] if key.endswith("weight"))

    assert largest_step(run) < 1e-9 < 1e-6 < largest_step(unchanged)
    change = {"after_epoch": 1, "lr_generator": 1e-12, "lr_discriminator": 1e-12}
    assert json.loads((run / "run.json").read_text())["learning_rate_changes"] == [change]
    _, _, card = load_gan(run / "weights" / "ct_gan.safetensors")
    assert card.metrics["training"]["learning_rate_changes"] == [change]
    # --lr-d alone changes the discriminator only; the CT GAN's paper rates are G 2e-4, D 1e-4.
    assert main(["train", "-o", str(unchanged), "--resume", "--epochs", "3", "--lr-d", "3e-5", "--threads", "1"]) == 0
    assert json.loads((unchanged / "run.json").read_text())["learning_rate_changes"] == [
        {"after_epoch": 2, "lr_generator": 2e-4, "lr_discriminator": 3e-5}]
    rates = {name: state["param_groups"][0]["lr"]
             for name, state in load_checkpoint(checkpoint_path(unchanged))["optimizers"].items()}
    assert rates == {"generator": 2e-4, "discriminator": 3e-5}
    assert main(["train", "-o", str(unchanged), "--resume", "--epochs", "4", "--lr", "-1"]) == 2
    assert "--lr must be positive (got -1.0)" in capsys.readouterr().err


def test_user_window_reaches_the_training_images_and_the_card(tmp_path, ct_folder, capsys):
    from MedGANSynthLib.gan.training_run import dataset_for_run

    run = tmp_path / "run"
    code = main(["train", *TINY_CT, "--data", str(ct_folder), "-o", str(run), "--epochs", "1", "--batch-size", "6",
                 "--window=-160,240", "--latent-coordinates", "--global-latent", "3", "--json"])
    assert code == 0, capsys.readouterr().err
    card = json.loads((run / "weights" / "ct_gan.json").read_text())
    assert (card["normalisation"]["low"], card["normalisation"]["high"]) == (-160.0, 240.0)
    assert card["normalisation"]["kind"] == "hu" and card["normalisation"]["output_range"] == [0.0, 2.0]
    generator, _, _ = load_gan(run / "weights" / "ct_gan.safetensors")
    assert generator.config.latent_coordinates and generator.latent_dim == 16 + 3
    # the resumed run rebuilds the same data: 40 HU tissue -> (40 + 160) / 400 * 2 = 1.0, air clipped to 0
    images = dataset_for_run("ct_gan", json.loads((run / "run.json").read_text())).images
    assert float(images.min()) == 0.0 and abs(float(images.max()) - 1.0) < 1e-6


def test_a_window_for_png_grey_values_is_refused(tmp_path, mip_folder, capsys):
    code = main(["train", "--architecture", "radiogan", "--data", str(mip_folder), "-o", str(tmp_path / "run"),
                 "--image-size", "20x12", "--window", "0,10"])
    error = capsys.readouterr().err
    assert code == 2 and "PNG" in error and error.count("\n") == 1
    assert not (tmp_path / "run" / "checkpoints").exists()


def test_checkpoint_steps_writes_checkpoints_inside_the_epoch(tmp_path, ct_folder, capsys):
    run = tmp_path / "run"
    code = main(["train", *TINY_CT, "--data", str(ct_folder), "-o", str(run), "--epochs", "1", "--batch-size", "4",
                 "--checkpoint-steps", "1", "--json"])
    steps = json.loads(capsys.readouterr().out)["global_step"]
    assert code == 0 and steps >= 2
    inside = sorted(path.name for path in (run / "samples").glob("epoch_0001_step_*.png"))
    assert inside == [f"epoch_0001_step_{step:07d}.png" for step in range(1, steps)]  # the last step ends the epoch
    assert (run / "samples" / "epoch_0001.png").is_file()


def test_batch_larger_than_the_data_set_is_one_short_batch(tmp_path, ct_folder, capsys):
    code = main(["train", *TINY_CT, "--data", str(ct_folder), "-o", str(tmp_path / "run"), "--epochs", "2",
                 "--batch-size", "64", "--json"])
    assert code == 0
    assert json.loads(capsys.readouterr().out)["global_step"] == 2


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--architecture", "stylegan"], "Unknown architecture 'stylegan'"),
        ([], "Pass --architecture"),
        (["--architecture", "ct_gan", "--epochs", "0"], "--epochs must be at least 1"),
        (["--architecture", "ct_gan", "--image-size", "big"], "--image-size must look like"),
        (["--architecture", "ct_gan", "--resume"], "holds no training run to resume"),
        (["--architecture", "ct_gan", "--auxiliary-classifier", "1"], "is a RadioGAN option"),
        (["--architecture", "radiogan", "--auxiliary-classifier", "0"], "--auxiliary-classifier must be positive"),
        (["--architecture", "radiogan", "--window", "10,0"], "--window needs LOW below HIGH"),
        (["--architecture", "ct_gan", "--class-projection"], "is a RadioGAN option"),
        (["--architecture", "brain_dcgan", "--class-batchnorm"], "is a RadioGAN option"),
        (["--architecture", "ct_gan", "--mismatched-labels"], "is a RadioGAN option"),
        (["--architecture", "radiogan", "--latent-coordinates"], "is a CT GAN option"),
        (["--architecture", "brain_dcgan", "--global-latent", "8"], "is a CT GAN option"),
        (["--architecture", "ct_gan", "--global-latent", "-1"], "--global-latent must be 0 or more"),
        (["--architecture", "ct_gan", "--checkpoint-steps", "-1"], "--checkpoint-steps must be 0 or more"),
        (["--architecture", "ct_gan", "--workers", "-2"], "--workers must be 0 or more"),
        (["--architecture", "ct_gan", "--minibatch-std"], "needs discriminator_dropout 0"),
        (["--architecture", "brain_dcgan", "--discriminator-dropout", "0"], "the brain DCGAN has no dropout"),
        (["--architecture", "radiogan", "--window", "ten"], "--window must look like LOW,HIGH"),
        (["--architecture", "radiogan", "--generator-ema", "1"], "--generator-ema is a decay per step in [0, 1)"),
    ],
)
def test_bad_arguments_give_one_line(tmp_path, ct_folder, capsys, extra, message):
    code = main(["train", "--data", str(ct_folder), "-o", str(tmp_path / "run"), *extra])
    error = capsys.readouterr().err
    assert code == 2 and message in error and error.count("\n") == 1


def test_bad_data_folders(tmp_path, mip_folder, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["train", *TINY_CT, "--data", str(empty), "-o", str(tmp_path / "a")]) == 2
    assert "no CT volumes" in capsys.readouterr().err
    (mip_folder / "m3.png").unlink()
    assert main(["train", "--architecture", "radiogan", "--data", str(mip_folder), "-o", str(tmp_path / "b"),
                 "--image-size", "20x12"]) == 2
    error = capsys.readouterr().err
    assert "missing" in error and "m3.png" in error and error.count("\n") == 1
    assert not (tmp_path / "b").exists()


def test_resume_without_checkpoint_and_refusing_to_overwrite(tmp_path, ct_folder, capsys):
    run = tmp_path / "run"
    run.mkdir()
    (run / "run.json").write_text(json.dumps({"architecture": "ct_gan", "data": str(ct_folder), "labels": None,
                                              "stage": None, "loss": "bce", "lr": None, "n_critic": None,
                                              "batch_size": 4, "seed": 0, "checkpoint_every": 1, "epochs": 1,
                                              "network_config": {"image_height": 16, "image_width": 16}}))
    assert main(["train", *TINY_CT, "-o", str(run), "--resume"]) == 2
    assert "No training checkpoint" in capsys.readouterr().err
    # A folder with a run.json but no checkpoint (a run that failed early) is an existing output: --overwrite.
    assert main(["train", *TINY_CT, "--data", str(ct_folder), "-o", str(run), "--epochs", "1"]) == 2
    assert "already exists; pass --overwrite" in capsys.readouterr().err
    assert main(["train", *TINY_CT, "--data", str(ct_folder), "-o", str(run), "--epochs", "1", "--overwrite"]) == 0
    capsys.readouterr()
    assert main(["train", "--architecture", "radiogan", "-o", str(run), "--resume"]) == 2
    assert "trains 'ct_gan', not 'radiogan'" in capsys.readouterr().err
    settings = (run / "run.json").read_text()
    assert main(["train", *TINY_CT, "--data", str(ct_folder), "-o", str(run), "--epochs", "3", "--seed", "4"]) == 2
    assert "pass --resume" in capsys.readouterr().err
    assert (run / "run.json").read_text() == settings  # the existing run's settings are untouched


def test_subprocess_bad_input_exits_2_without_traceback(tmp_path):
    done = subprocess.run([sys.executable, "-m", "MedGANSynthLib", "train", "--architecture", "nope", "--data",
                           str(tmp_path), "-o", str(tmp_path / "run")], capture_output=True, text=True,
                          cwd=REPO, timeout=120)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "Unknown architecture 'nope'" in done.stderr


def _default_sigint() -> None:
    """A job started with '&' by a non-interactive shell (a CI runner) ignores SIGINT, and so would every child
    and Python's Ctrl-C handling with it: the child then finished all its epochs and exited 0. Restore the
    default disposition in the child, as a terminal has it, before Python starts."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _signal_in_epoch_three(run: Path, data: Path, signal_number: int) -> tuple[subprocess.Popen, str]:
    """Train epochs of 6 steps (12 slices, batch 2) in a child; send the signal once it reports step 13 (epoch 3).

    The child is asked for far more epochs than it can finish before the signal lands: on a loaded machine the
    parent may read the step-13 line only after the child has run on for several more epochs.
    """
    command = [sys.executable, "-m", "MedGANSynthLib", "train", *TINY_CT, "--data", str(data), "-o", str(run),
               "--epochs", "500", "--batch-size", "2", "--progress-lines"]
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=dict(os.environ, OMP_NUM_THREADS="1"), preexec_fn=_default_sigint)
    signalled = False
    deadline = time.monotonic() + 120
    try:
        for line in process.stdout:
            event = Progress.from_line(line.strip())
            if event is not None and event.values.get("epoch") == 3 and event.done == 13:
                process.send_signal(signal_number)
                signalled = True
                break
            assert time.monotonic() < deadline, "training did not reach epoch 3 in time"
        # Keep draining both pipes: a child that ran ahead must be able to flush its output while it exits.
        _, error = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=30)
    assert signalled, error[-2000:]
    return process, error


def test_ctrl_c_stops_cleanly_and_keeps_the_last_checkpoint(tmp_path, ct_folder):
    run = tmp_path / "run"
    process, error = _signal_in_epoch_three(run, ct_folder, signal.SIGINT)
    assert process.returncode == 130 and "interrupted" in error and "Traceback" not in error
    state = load_checkpoint(checkpoint_path(run))
    assert 2 <= state["epoch"] < 500 and state["global_step"] == 6 * state["epoch"]
    assert not (run / "weights").exists()  # nothing exported for an unfinished run
    assert not [p for p in run.rglob(".*") if p.is_file()], "temporary files left behind"


def test_killed_mid_epoch_then_resumed_finishes(tmp_path, ct_folder, capsys):
    run = tmp_path / "run"
    _signal_in_epoch_three(run, ct_folder, signal.SIGKILL)
    state = load_checkpoint(checkpoint_path(run))
    assert 2 <= state["epoch"] < 500 and state["global_step"] == 6 * state["epoch"]
    final = state["epoch"] + 2  # resume and finish two more epochs than the checkpoint holds
    # a resume needs only the run folder: architecture, data and networks come from run.json
    code = main(["train", "-o", str(run), "--resume", "--epochs", str(final), "--device", "cpu", "--threads", "1",
                 "--json"])
    assert code == 0, capsys.readouterr().err
    summary = json.loads(capsys.readouterr().out)
    assert summary["epochs"] == final and summary["global_step"] == 6 * final
    history = json.loads((run / "losses.json").read_text())
    assert [row["step"] for row in history["steps"]] == list(range(1, 6 * final + 1))
    assert [row["epoch"] for row in history["epochs"]] == list(range(1, final + 1))
    assert not [p for p in run.rglob(".*") if p.is_file()], "temporary files left behind"
    assert (run / "weights" / "ct_gan.safetensors").is_file()


def test_brain_dcgan_trains_one_stage(tmp_path, capsys):
    folder = tmp_path / "brains"
    folder.mkdir()
    rows, cols = np.mgrid[:24, :24]
    head = ((rows - 12) ** 2 + (cols - 12) ** 2 < 81).astype(np.float32)
    for name, uptake in (("nc", 9.0), ("ad", 6.0)):
        suv = np.stack([head * uptake * (0.5 + k / 10) for k in range(8)])
        write_volume(Volume(suv, spacing=(2.0, 2.0, 2.0), modality="PT", units="SUV"), folder / f"{name}.nrrd")
    (folder / "labels.csv").write_text("file,stage\nnc.nrrd,NC\nad.nrrd,AD\n")
    common = ["train", "--architecture", "brain_dcgan", "--data", str(folder), "--image-size", "32",
              "--width", "0.125", "--device", "cpu", "--threads", "1", "--epochs", "1", "--batch-size", "4"]
    assert main([*common, "-o", str(tmp_path / "both")]) == 2
    assert "--stage" in capsys.readouterr().err
    assert main([*common, "-o", str(tmp_path / "ad"), "--stage", "AD", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["images"] == 6 and summary["classes"] == []  # centres 1..6 of 8 slices, one GAN per stage
    card = json.loads((tmp_path / "ad" / "weights" / "brain_dcgan_AD.json").read_text())
    assert card["class_names"] == ["AD"] and card["normalisation"]["kind"] == "suv"
    assert card["normalisation"]["high"] == 15.0 and card["normalisation"]["output_range"] == [-1.0, 1.0]
