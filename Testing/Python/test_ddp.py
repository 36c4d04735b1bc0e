"""DistributedDataParallel through torchrun on the CPU (gloo), two processes, tiny networks and data."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from MedGANSynthLib.jobs.progress import Progress
from MedGANSynthLib.training.checkpoint import checkpoint_path, load_checkpoint

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parents[1]

RANK_SCRIPT = textwrap.dedent("""
    # argv: RUN LOSS CHECKPOINT_STEPS STOP_AFTER (0: run to the end) fresh|resume
    import os, sys
    sys.path.insert(0, {tests!r})
    import torch
    from tiny_gan import BlobDataset, TinyDiscriminator, TinyGenerator
    from MedGANSynthLib.training.engine import Trainer, TrainerConfig, seed_everything
    from MedGANSynthLib.gan.task import GANTask, GANTaskSettings
    from MedGANSynthLib.training.optimizers import paper_settings

    rank, run, loss = int(os.environ["RANK"]), sys.argv[1], sys.argv[2]
    checkpoint_steps, stop_after, resume = int(sys.argv[3]), int(sys.argv[4]), sys.argv[5] == "resume"
    seed_everything(100 + rank)  # different initial weights per rank: the trainer must broadcast rank 0's
    task = GANTask(TinyGenerator(num_classes=2), TinyDiscriminator(num_classes=2),
                   paper_settings("radiogan", lr=2e-3), GANTaskSettings(loss=loss, grid_samples=4))
    steps_done, train_step = [0], task.train_step

    def train_step_or_die(batch, ctx):  # with STOP_AFTER every rank exits where a killed job would
        if stop_after and steps_done[0] == stop_after:
            os._exit(0)
        steps_done[0] += 1
        return train_step(batch, ctx)

    task.train_step = train_step_or_die
    config = TrainerConfig(run_dir=run, epochs=2, batch_size=4, seed=7, device="cpu",
                           checkpoint_steps=checkpoint_steps, resume=resume)
    result = Trainer(config).fit(task, BlobDataset(count=20, num_classes=2))
    params = {{f"{{m}}.{{k}}": v.detach().clone() for m, net in task.modules().items()
              for k, v in net.named_parameters()}}
    torch.save(params, os.path.join(run, f"rank{{rank}}_params.pt"))
    with open(os.path.join(run, f"rank{{rank}}_steps.txt"), "w") as steps:  # not stdout: ranks interleave
        steps.write(str(result.global_step))
""")


GLOO_ABORT = "terminate called without an active exception"


def _torchrun(*args: str, cwd: Path, run: Path) -> subprocess.CompletedProcess:
    """Two CPU ranks under torchrun; one fresh retry when a rank died in a C++ abort inside torch.

    Why the retry: once in many CI runs (2026-11-22) rank 1 aborted with GLOO_ABORT, with no Python error before
    it; about 30 runs here, most under load, did not repeat it. Any other failure, or the abort twice, still fails the test,
    and the retry is reported as a warning.
    """
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", *args]
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=240)
    if done.returncode != 0 and GLOO_ABORT in done.stderr:
        warnings.warn(f"torchrun: a rank aborted inside torch ({GLOO_ABORT!r}); retried once", stacklevel=2)
        shutil.rmtree(run, ignore_errors=True)
        done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=240)
    return done


@pytest.mark.parametrize("loss", ["bce", "wgan-gp"])
def test_two_ranks_end_with_identical_parameters(tmp_path, loss):
    script = tmp_path / "rank_script.py"
    script.write_text(RANK_SCRIPT.format(tests=str(TESTS)))
    run = tmp_path / "run"
    done = _torchrun(str(script), str(run), loss, "0", "0", "fresh", cwd=tmp_path, run=run)
    assert done.returncode == 0, done.stderr[-3000:]
    # 20 images over 2 ranks = 10 per rank, batch 4 -> 3 steps per epoch (4, 4, 2), 2 epochs
    assert [(run / f"rank{rank}_steps.txt").read_text() for rank in (0, 1)] == ["6", "6"]
    first = torch.load(run / "rank0_params.pt", weights_only=True)
    second = torch.load(run / "rank1_params.pt", weights_only=True)
    assert first.keys() == second.keys()
    assert all(torch.equal(first[key], second[key]) for key in first)
    state = load_checkpoint(checkpoint_path(run))
    assert state["epoch"] == 2 and state["global_step"] == 6
    assert len(state["history"]["steps"]) == 6  # rank 0's steps only
    for key, value in state["modules"]["generator"].items():
        if f"generator.{key}" in first:
            assert torch.equal(value, first[f"generator.{key}"])
    assert sorted(p.name for p in (run / "samples").iterdir()) == ["epoch_0001.png", "epoch_0002.png"]
    assert not [p for p in run.rglob(".*") if p.is_file()]


def test_cli_under_torchrun(tmp_path):
    from MedGANSynthLib.io.volume_io import write_volume
    from MedGANSynthLib.volume import Volume

    data = tmp_path / "ct"
    data.mkdir()
    hu = np.full((10, 24, 24), -1000.0, dtype=np.float32)
    hu[:, 6:18, 6:18] = 40.0
    write_volume(Volume(hu, modality="CT", units="HU"), data / "ct.nrrd")
    run = tmp_path / "run"
    done = _torchrun("-m", "MedGANSynthLib", "train", "--architecture", "ct_gan", "--data", str(data),
                     "-o", str(run), "--epochs", "2", "--batch-size", "2", "--image-size", "16", "--width", "0.0625",
                     "--device", "cpu", "--progress-lines", "--json", cwd=tmp_path, run=run)
    assert done.returncode == 0, done.stderr[-3000:]
    events = [Progress.from_line(line) for line in done.stdout.splitlines()]
    events = [event for event in events if event is not None]
    # 10 slices / 2 ranks = 5 each, batch 2 -> 2 steps per epoch (the lone 5th image would be a batch of one,
    # which batch-norm cannot train on, so it is dropped); only rank 0 reports, once per step
    assert [event.done for event in events] == [1, 2, 3, 4]
    rest = "\n".join(line for line in done.stdout.splitlines() if Progress.from_line(line) is None)
    summary = json.loads(rest)  # printed once (rank 0), so the rest of stdout is one JSON document
    assert summary["world_size"] == 2 and summary["global_step"] == 4
    assert (run / "weights" / "ct_gan.safetensors").is_file()
    assert load_checkpoint(checkpoint_path(run))["epoch"] == 2


def test_two_ranks_resume_from_a_checkpoint_inside_an_epoch(tmp_path):
    script = tmp_path / "rank_script.py"
    script.write_text(RANK_SCRIPT.format(tests=str(TESTS)))
    run = tmp_path / "run"
    # 10 images per rank, batch 4 -> 3 steps per epoch; stopped after step 5, the step-4 checkpoint is the
    # first step of epoch 2
    stopped = _torchrun(str(script), str(run), "bce", "2", "5", "fresh", cwd=tmp_path, run=run)
    assert stopped.returncode == 0, stopped.stderr[-3000:]
    state = load_checkpoint(checkpoint_path(run))
    assert (state["epoch"], state["global_step"], state["partial_epoch"]["batches"]) == (1, 4, 1)
    resumed = _torchrun(str(script), str(run), "bce", "2", "0", "resume", cwd=tmp_path, run=run)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    # both ranks skip the epoch's finished batch and finish the run together, with identical weights
    assert [(run / f"rank{rank}_steps.txt").read_text() for rank in (0, 1)] == ["6", "6"]
    first = torch.load(run / "rank0_params.pt", weights_only=True)
    second = torch.load(run / "rank1_params.pt", weights_only=True)
    assert all(torch.equal(first[key], second[key]) for key in first)
    final = load_checkpoint(checkpoint_path(run))
    assert final["epoch"] == 2 and final["global_step"] == 6 and not final.get("partial_epoch")
    assert [row["step"] for row in final["history"]["steps"]] == [1, 2, 3, 4, 5, 6]
