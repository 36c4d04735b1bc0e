"""The trainer's callbacks (MedGANSynthLib.training.callbacks): what a user callback sees, a checkpoint writer alone
resumes exactly, and a failing callback stops training with a clear error and the last checkpoint kept."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest
import torch
from tiny_gan import BlobDataset, TinyDiscriminator, TinyGenerator, single_thread

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.gan.task import GANTask, GANTaskSettings
from MedGANSynthLib.training.callbacks import CallbackError, TrainerCallback, TrainingState
from MedGANSynthLib.training.checkpoint import checkpoint_path, load_checkpoint
from MedGANSynthLib.training.checkpoint_writer import CheckpointWriter
from MedGANSynthLib.training.engine import Trainer, TrainerConfig, default_callbacks, seed_everything
from MedGANSynthLib.training.optimizers import paper_settings

_one_thread = pytest.fixture(autouse=True)(single_thread)
IMAGES = 24  # BlobDataset's default size


def _task(seed: int = 5) -> GANTask:
    seed_everything(seed)
    return GANTask(TinyGenerator(num_classes=2), TinyDiscriminator(num_classes=2),
                   paper_settings("radiogan", lr=2e-3), GANTaskSettings(grid_samples=4))


def _fit(run: Path, epochs: int, callbacks=None, batch_size: int = 8, resume: bool = False, task=None,
         checkpoint_steps: int = 0):
    config = TrainerConfig(run_dir=run, epochs=epochs, batch_size=batch_size, seed=5, device="cpu", resume=resume,
                           checkpoint_steps=checkpoint_steps)
    task = task or _task()
    result = Trainer(config, callbacks=callbacks).fit(task, BlobDataset(count=IMAGES, num_classes=2))
    return task, result


def _weights(task: GANTask) -> dict[str, torch.Tensor]:
    return {f"{name}.{key}": value for name, module in task.modules().items()
            for key, value in module.state_dict().items()}


def _assert_same_weights(first: GANTask, second: GANTask) -> None:
    a, b = _weights(first), _weights(second)
    assert a.keys() == b.keys()
    assert [key for key in a if not torch.equal(a[key], b[key])] == []


class Recorder(TrainerCallback):
    """Writes down (hook, epochs completed, batches in the epoch, global step) at every hook."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []
        self.epoch_rows: list[dict] = []
        self.step_rows_at_epoch_end: list[list[dict]] = []

    def on_step_end(self, state: TrainingState) -> None:
        assert len(state.history["steps"]) == state.global_step and set(state.last_losses) >= {"d_loss", "g_loss"}
        self.calls.append(("step", state.epochs_completed, state.epoch_batches, state.global_step))

    def on_checkpoint(self, state: TrainingState) -> None:
        assert state.rng_states is not None  # taken for the checkpoint before any callback ran
        inside = state.partial_epoch is not None
        assert inside == (state.epoch_batches > 0)
        self.calls.append(("checkpoint", state.epochs_completed, state.epoch_batches, state.global_step))

    def on_epoch_end(self, state: TrainingState) -> None:
        self.calls.append(("epoch", state.epochs_completed, state.epoch_batches, state.global_step))
        self.epoch_rows.append(dict(state.history["epochs"][-1]))
        self.step_rows_at_epoch_end.append([dict(row) for row in state.history["steps"]])

    def on_train_end(self, state: TrainingState) -> None:
        self.calls.append(("end", state.epochs_completed, state.epoch_batches, state.global_step))


@pytest.mark.parametrize(("batch_size", "steps_per_epoch"), [
    (8, 3),    # 24 = 3 x 8
    (11, 3),   # 24 = 11 + 11 + 2: the short last batch is kept
    (23, 1),   # 24 = 23 + 1: a last batch of one image would break batch-norm, so it is dropped
])
def test_a_user_callback_sees_the_epoch_and_step_counts_of_the_data_and_batch_size(tmp_path, batch_size,
                                                                                    steps_per_epoch):
    assert steps_per_epoch == (IMAGES // batch_size if IMAGES % batch_size == 1 else math.ceil(IMAGES / batch_size))
    recorder = Recorder()
    epochs, every = 2, 2
    _fit(tmp_path / "run", epochs, [*default_callbacks(), recorder], batch_size=batch_size, checkpoint_steps=every)
    expected = []
    for epoch in range(epochs):
        for batch in range(1, steps_per_epoch + 1):
            step = epoch * steps_per_epoch + batch
            if step % every == 0 and batch < steps_per_epoch:  # a checkpoint inside the epoch, before the hook
                expected.append(("checkpoint", epoch, batch, step))
            expected.append(("step", epoch, batch, step))
        expected += [("checkpoint", epoch + 1, 0, (epoch + 1) * steps_per_epoch),
                     ("epoch", epoch + 1, 0, (epoch + 1) * steps_per_epoch)]
    expected.append(("end", epochs, 0, epochs * steps_per_epoch))
    assert recorder.calls == expected
    # The epoch row a callback gets holds the mean of that epoch's step losses.
    for epoch, (row, steps) in enumerate(zip(recorder.epoch_rows, recorder.step_rows_at_epoch_end, strict=True)):
        in_epoch = [step["d_loss"] for step in steps if step["epoch"] == epoch + 1]
        assert len(in_epoch) == steps_per_epoch
        assert row["d_loss"] == pytest.approx(sum(in_epoch) / steps_per_epoch, rel=1e-12)


class EpochLog(TrainerCallback):
    """What a user would add: one line per epoch in a log file of their own."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def on_epoch_end(self, state: TrainingState) -> None:
        row = state.history["epochs"][-1]
        with open(self.path, "a") as handle:
            handle.write(f"epoch {row['epoch']} step {row['step']} d_loss {row['d_loss']!r}\n")


def test_a_custom_log_added_to_the_default_callbacks_leaves_todays_files_as_they_were(tmp_path):
    log = tmp_path / "my_log.txt"
    plain, _ = _fit(tmp_path / "plain", 3)
    logged, _ = _fit(tmp_path / "logged", 3, [*default_callbacks(), EpochLog(log)])
    _assert_same_weights(plain, logged)
    files = sorted(path.relative_to(tmp_path / "plain") for path in (tmp_path / "plain").rglob("*"))
    assert files == sorted(path.relative_to(tmp_path / "logged") for path in (tmp_path / "logged").rglob("*"))
    with open(tmp_path / "logged" / "losses_epochs.csv") as handle:
        table = list(csv.DictReader(handle))
    assert log.read_text().splitlines() == [
        f"epoch {row['epoch']} step {row['step']} d_loss {float(row['d_loss'])!r}" for row in table]
    assert [line.split()[3] for line in log.read_text().splitlines()] == ["3", "6", "9"]


def test_the_checkpoint_writer_alone_writes_only_the_checkpoint_and_resumes_to_identical_weights(tmp_path):
    straight, _ = _fit(tmp_path / "straight", 4)
    run = tmp_path / "split"
    _fit(run, 2, [CheckpointWriter()], checkpoint_steps=2)
    assert sorted(path.relative_to(run).as_posix() for path in run.rglob("*") if path.is_file()) == [
        "checkpoints/checkpoint_last.pt"]
    state = load_checkpoint(checkpoint_path(run))
    assert (state["epoch"], state["global_step"]) == (2, 6)  # 24 images in batches of 8: 3 steps per epoch
    resumed, result = _fit(run, 4, [CheckpointWriter()], resume=True, task=_task(seed=999))
    _assert_same_weights(straight, resumed)
    assert result.global_step == 12 and result.checkpoint == checkpoint_path(run)


class Exploding(TrainerCallback):
    def __init__(self, at_step: int, error: Exception) -> None:
        self.at_step, self.error = at_step, error

    def on_step_end(self, state: TrainingState) -> None:
        if state.global_step == self.at_step:
            raise self.error


def test_a_failing_callback_stops_training_with_a_clear_error_and_keeps_the_last_checkpoint(tmp_path):
    straight, _ = _fit(tmp_path / "straight", 3)
    run = tmp_path / "run"
    # 3 steps per epoch: step 5 is the second of epoch 2, whose checkpoint is never written
    with pytest.raises(CallbackError) as raised:
        _fit(run, 3, [*default_callbacks(), Exploding(5, RuntimeError("disk quota of my logger"))])
    message = str(raised.value)
    assert "epoch 2, step 5" in message and "Exploding.on_step_end" in message
    assert "RuntimeError: disk quota of my logger" in message and str(checkpoint_path(run)) in message
    assert isinstance(raised.value.__cause__, RuntimeError)
    state = load_checkpoint(checkpoint_path(run))
    assert (state["epoch"], state["global_step"], state["partial_epoch"]) == (1, 3, None)
    assert sorted(path.name for path in (run / "samples").iterdir()) == ["epoch_0001.png"]
    assert not [path for path in run.rglob(".*") if path.is_file()], "temporary files left behind"
    resumed, _ = _fit(run, 3, resume=True, task=_task(seed=999))
    _assert_same_weights(straight, resumed)


def test_errors_the_cli_already_explains_pass_through_a_callback_unchanged(tmp_path):
    with pytest.raises(InputError, match="^--my-log must name a folder$"):
        _fit(tmp_path / "run", 1, [*default_callbacks(), Exploding(1, InputError("--my-log must name a folder"))])
    with pytest.raises(CallbackError, match="no checkpoint was written yet"):
        _fit(tmp_path / "other", 1, [Exploding(2, ValueError("bad"))])
