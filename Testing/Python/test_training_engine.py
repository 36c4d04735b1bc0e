"""The generic Trainer with the GAN task on tiny networks (CPU): learning, determinism, exact resume, files."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import torch
from tiny_gan import BlobDataset, TinyDiscriminator, TinyGenerator, single_thread

from MedGANSynthLib.errors import Cancelled, InputError
from MedGANSynthLib.gan.task import GANTask, GANTaskSettings
from MedGANSynthLib.jobs.progress import CancelToken
from MedGANSynthLib.training.checkpoint import checkpoint_path, load_checkpoint
from MedGANSynthLib.training.engine import Trainer, TrainerConfig, seed_everything
from MedGANSynthLib.training.optimizers import make_optimizer, paper_settings

_one_thread = pytest.fixture(autouse=True)(single_thread)


def _task(seed: int = 0, num_classes: int = 0, loss: str = "bce", lr: float = 2e-3,
          generator_ema: float = 0.0) -> GANTask:
    seed_everything(seed)
    generator = TinyGenerator(num_classes=num_classes)
    discriminator = TinyDiscriminator(num_classes=num_classes)
    return GANTask(generator, discriminator, paper_settings("radiogan", lr=lr),
                   GANTaskSettings(loss=loss, grid_samples=4, generator_ema=generator_ema))


def _train(run_dir: Path, epochs: int, seed: int = 0, resume: bool = False, task: GANTask | None = None,
           num_classes: int = 0, loss: str = "bce", cancel=None, progress=None, batch_size: int = 8,
           checkpoint_every: int = 1, checkpoint_steps: int = 0):
    task = task or _task(seed, num_classes, loss)
    config = TrainerConfig(run_dir=run_dir, epochs=epochs, batch_size=batch_size, seed=seed, device="cpu",
                           resume=resume, checkpoint_every=checkpoint_every, checkpoint_steps=checkpoint_steps)
    result = Trainer(config).fit(task, BlobDataset(num_classes=num_classes), progress=progress, cancel=cancel)
    return task, result


def _state(task: GANTask) -> dict[str, torch.Tensor]:
    return {f"{name}.{key}": value for name, module in task.modules().items()
            for key, value in module.state_dict().items()}


def _assert_identical(first: dict, second: dict) -> None:
    assert first.keys() == second.keys()
    different = [key for key in first if not torch.equal(first[key], second[key])]
    assert not different, f"differ: {different}"


def test_discriminator_learns_real_from_a_frozen_generator(tmp_path):
    # lr 0 for the generator freezes it; D alone must then separate blobs from the untrained G's output.
    seed_everything(3)
    task = GANTask(TinyGenerator(), TinyDiscriminator(dropout=0.0),
                   paper_settings("radiogan", lr_generator=1e-12, lr_discriminator=5e-3), GANTaskSettings("bce"))
    _, result = _train(tmp_path / "run", epochs=20, seed=3, task=task, checkpoint_every=20)
    steps = json.loads((tmp_path / "run" / "losses.json").read_text())["steps"]
    first = sum(row["d_loss"] for row in steps[:3]) / 3
    last = sum(row["d_loss"] for row in steps[-3:]) / 3
    assert first > 1.2  # about 2 ln 2 = 1.386 for an undecided discriminator
    assert last < 0.5 * first
    assert result.global_step == 20 * 3


@pytest.mark.parametrize("loss", ["bce", "wgan-gp", "hinge"])
def test_same_seed_gives_the_same_weights(tmp_path, loss):
    first, _ = _train(tmp_path / "a", epochs=1, seed=11, num_classes=3, loss=loss)
    second, _ = _train(tmp_path / "b", epochs=1, seed=11, num_classes=3, loss=loss)
    third, _ = _train(tmp_path / "c", epochs=1, seed=12, num_classes=3, loss=loss)
    _assert_identical(_state(first), _state(second))
    assert not torch.equal(first.generator.body[0].weight, third.generator.body[0].weight)


def test_resume_equals_uninterrupted_training_bit_for_bit(tmp_path):
    straight, _ = _train(tmp_path / "straight", epochs=4, seed=5, num_classes=2)
    _train(tmp_path / "split", epochs=2, seed=5, num_classes=2)
    # A fresh process would build fresh networks: do the same with a different seed; the checkpoint decides.
    resumed, result = _train(tmp_path / "split", epochs=4, seed=5, num_classes=2, resume=True,
                             task=_task(seed=999, num_classes=2))
    _assert_identical(_state(straight), _state(resumed))
    for name in ("generator", "discriminator"):
        first, second = straight.optimizers()[name].state_dict(), resumed.optimizers()[name].state_dict()
        for index, values in first["state"].items():
            for key, tensor in values.items():
                assert torch.equal(tensor, second["state"][index][key])
    assert result.epochs_completed == 4 and result.global_step == 12
    history = json.loads((tmp_path / "split" / "losses.json").read_text())
    reference = json.loads((tmp_path / "straight" / "losses.json").read_text())
    assert [row["g_loss"] for row in history["steps"]] == [row["g_loss"] for row in reference["steps"]]


def test_a_run_killed_inside_an_epoch_resumes_from_its_step_checkpoint_bit_for_bit(tmp_path):
    straight, _ = _train(tmp_path / "straight", epochs=4, seed=5, num_classes=2)
    token = CancelToken()

    def stop_after_step_eight(event):  # 3 steps per epoch: step 8 is the second of epoch 3, checkpointed
        if event.done >= 8:
            token.cancel()

    run = tmp_path / "split"
    with pytest.raises(Cancelled):
        _train(run, epochs=4, seed=5, num_classes=2, checkpoint_steps=2, cancel=token, progress=stop_after_step_eight)
    state = load_checkpoint(checkpoint_path(run))
    assert (state["epoch"], state["global_step"], state["partial_epoch"]["batches"]) == (2, 8, 2)
    assert (run / "samples" / "epoch_0003_step_0000008.png").is_file()
    resumed, result = _train(run, epochs=4, seed=5, num_classes=2, resume=True, checkpoint_steps=2,
                             task=_task(seed=999, num_classes=2))
    _assert_identical(_state(straight), _state(resumed))
    assert result.global_step == 12
    history = json.loads((run / "losses.json").read_text())
    reference = json.loads((tmp_path / "straight" / "losses.json").read_text())
    assert [row["g_loss"] for row in history["steps"]] == [row["g_loss"] for row in reference["steps"]]
    assert [row["d_loss"] for row in history["epochs"]] == [row["d_loss"] for row in reference["epochs"]]


def test_generator_average_is_the_running_mean_of_the_live_weights(tmp_path):
    decay = 0.6
    task = _task(seed=2, num_classes=2, generator_ema=decay)
    after_each_step = []
    step = task.train_step

    def recording_step(batch, ctx):
        losses = step(batch, ctx)
        after_each_step.append({key: value.double().clone() for key, value in task.generator.state_dict().items()})
        return losses

    task.train_step = recording_step
    exported = []
    task.export_function = lambda generator, discriminator, run_dir, summary: exported.append(generator) or []
    _train(tmp_path / "run", epochs=2, seed=2, num_classes=2, task=task)
    assert len(after_each_step) == 6
    parameters = {name for name, _ in task.generator.named_parameters()}
    expected = dict(after_each_step[0])  # the average starts from the weights after the first step
    for weights in after_each_step[1:]:
        expected = {key: decay * expected[key] + (1 - decay) * weights[key] if key in parameters else weights[key]
                    for key in weights}
    average = task.average_generator.state_dict()
    for key, value in expected.items():
        torch.testing.assert_close(average[key].double(), value, rtol=0, atol=1e-6)
    assert not torch.allclose(average["body.0.weight"], task.generator.state_dict()["body.0.weight"])
    assert exported == [task.average_generator]  # the weights a user gets are the average


def test_resume_keeps_the_generator_average_exactly(tmp_path):
    straight, _ = _train(tmp_path / "straight", epochs=4, seed=5, num_classes=2,
                         task=_task(seed=5, num_classes=2, generator_ema=0.9))
    _train(tmp_path / "split", epochs=2, seed=5, num_classes=2, task=_task(seed=5, num_classes=2, generator_ema=0.9))
    resumed, _ = _train(tmp_path / "split", epochs=4, seed=5, num_classes=2, resume=True,
                        task=_task(seed=999, num_classes=2, generator_ema=0.9))
    _assert_identical(straight.average_generator.state_dict(), resumed.average_generator.state_dict())
    _assert_identical(_state(straight), _state(resumed))


def test_history_files_match_steps_and_epochs(tmp_path):
    run = tmp_path / "run"
    # 24 images, batch 8 -> 3 steps per epoch
    _, result = _train(run, epochs=3, num_classes=2)
    with open(run / "losses_steps.csv") as handle:
        steps = list(csv.DictReader(handle))
    with open(run / "losses_epochs.csv") as handle:
        epochs = list(csv.DictReader(handle))
    assert len(steps) == 9 and [int(row["step"]) for row in steps] == list(range(1, 10))
    assert [int(row["epoch"]) for row in epochs] == [1, 2, 3]
    for index, row in enumerate(epochs):
        in_epoch = [float(step["d_loss"]) for step in steps[3 * index: 3 * index + 3]]
        assert float(row["d_loss"]) == pytest.approx(sum(in_epoch) / 3, rel=1e-9)
        assert float(row["images_per_second"]) > 0
    data = json.loads((run / "losses.json").read_text())
    assert len(data["steps"]) == 9 and len(data["epochs"]) == 3
    for epoch in (1, 2, 3):
        assert (run / "samples" / f"epoch_{epoch:04d}.png").stat().st_size > 100
    assert (run / "loss_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert result.images_per_second > 0 and result.seconds_per_epoch > 0
    assert not [p for p in run.rglob(".*") if p.is_file()], "temporary files left behind"


def test_sample_grid_png_shows_the_fixed_latents(tmp_path):
    import matplotlib.image

    task, _ = _train(tmp_path / "run", epochs=1)
    picture = matplotlib.image.imread(tmp_path / "run" / "samples" / "epoch_0001.png")
    # 4 samples of 8x8, enlarged 8 times -> 2x2 tiles of 64 px with 2-pixel borders: 2 * 66 + 2 pixels square
    assert picture.shape[:2] == (134, 134)
    # the first tile is the trained generator's image for the first fixed latent, tanh range mapped to grey
    task.generator.eval()
    with torch.no_grad():
        latent = task.generator.sample_latent(4, generator=torch.Generator().manual_seed(task.settings.grid_seed))
        image = (task.generator(latent)[0, 0] + 1.0) / 2.0
    tile = torch.from_numpy(picture[2:66:8, 2:66:8, 0].copy())
    assert torch.allclose(tile, image, atol=2.5 / 255)  # 8-bit PNG through the grey colour map


def test_checkpoint_every_n_epochs_and_progress_events(tmp_path):
    events = []
    task = _task()
    config = TrainerConfig(run_dir=tmp_path / "run", epochs=3, batch_size=8, seed=0, device="cpu",
                           checkpoint_every=2)
    Trainer(config).fit(task, BlobDataset(), progress=events.append)
    state = load_checkpoint(checkpoint_path(tmp_path / "run"))
    assert state["epoch"] == 3  # the last epoch always checkpoints
    assert sorted(p.name for p in (tmp_path / "run" / "samples").iterdir()) == ["epoch_0002.png", "epoch_0003.png"]
    finished = [event for event in events if "g_loss" in event.values]
    assert [event.done for event in finished] == list(range(1, 10))
    assert all(event.total == 9 and event.stage == "train" for event in events)


def test_cancel_stops_and_keeps_the_last_complete_checkpoint(tmp_path):
    run = tmp_path / "run"
    _train(run, epochs=2)
    before = checkpoint_path(run).read_bytes()
    token = CancelToken()

    def cancel_in_epoch_four(event):
        if event.values.get("epoch") == 4 and event.done >= 10:
            token.cancel()

    with pytest.raises(Cancelled):
        _train(run, epochs=6, resume=True, cancel=token, progress=cancel_in_epoch_four)
    state = load_checkpoint(checkpoint_path(run))
    assert state["epoch"] == 3 and state["global_step"] == 9  # epoch 3 completed, epoch 4 lost
    assert checkpoint_path(run).read_bytes() != before
    assert not [p for p in run.rglob(".*") if p.is_file()]


def test_odd_batch_sizes(tmp_path):
    # larger than the data set: one (short) batch per epoch
    _, result = _train(tmp_path / "big", epochs=2, batch_size=100)
    assert result.global_step == 2
    # 24 = 2*11 + 2 -> trailing batch of 2 is kept; 24 = 23 + 1 -> the single leftover image is dropped
    assert _train(tmp_path / "eleven", epochs=1, batch_size=11)[1].global_step == 3
    assert _train(tmp_path / "twentythree", epochs=1, batch_size=23)[1].global_step == 1


def test_bad_inputs_raise_clear_messages(tmp_path):
    with pytest.raises(InputError, match="No training checkpoint"):
        _train(tmp_path / "none", epochs=1, resume=True)
    _train(tmp_path / "done", epochs=1)
    with pytest.raises(InputError, match="already holds a training run"):
        _train(tmp_path / "done", epochs=1)
    checkpoint_path(tmp_path / "done").write_bytes(b"not a checkpoint at all")
    with pytest.raises(InputError, match="damaged"):
        _train(tmp_path / "done", epochs=2, resume=True)
    with pytest.raises(InputError, match="empty"):
        Trainer(TrainerConfig(tmp_path / "empty", 1, 4, device="cpu")).fit(_task(), BlobDataset(count=0))
    with pytest.raises(InputError, match="at least 2 images"):
        Trainer(TrainerConfig(tmp_path / "one", 1, 4, device="cpu")).fit(_task(), BlobDataset(count=1))
    with pytest.raises(InputError, match="epochs"):
        TrainerConfig(tmp_path / "x", epochs=0, batch_size=4).validate()


def test_resume_into_a_different_network_is_refused(tmp_path):
    _train(tmp_path / "run", epochs=1)
    seed_everything(0)
    other = GANTask(TinyGenerator(latent_dim=5), TinyDiscriminator(), paper_settings("radiogan"))
    with pytest.raises(InputError, match="do not fit"):
        _train(tmp_path / "run", epochs=2, resume=True, task=other)


def test_truncated_checkpoint_is_a_clear_input_error(tmp_path):
    _train(tmp_path / "run", epochs=1)
    path = checkpoint_path(tmp_path / "run")
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(InputError, match="damaged"):
        load_checkpoint(path)


def test_resume_removes_temporaries_a_killed_run_left(tmp_path):
    run = tmp_path / "run"
    _train(run, epochs=1)
    leftovers = [run / "checkpoints" / ".checkpoint_last.pt.x1y2.pt", run / "samples" / ".epoch_0002.png.abc.png",
                 run / ".losses.json.q.json"]
    for path in leftovers:
        path.write_bytes(b"half")
    unrelated = run / ".my_notes"
    unrelated.write_text("keep me")
    _train(run, epochs=2, resume=True)
    assert not any(path.exists() for path in leftovers)
    assert unrelated.read_text() == "keep me"


def test_fused_adam_updates_like_the_textbook_rule():
    # make_optimizer uses torch's fused Adam on the CPU; the weights must follow Adam's update, written out here.
    torch.manual_seed(0)
    module = torch.nn.Linear(6, 4)
    settings = paper_settings("radiogan")
    optimizer = make_optimizer(module, settings, 1e-2)
    assert optimizer.defaults["fused"]
    (beta1, beta2), eps = settings.betas, 1e-8
    weights = [parameter.detach().double().clone() for parameter in module.parameters()]
    first = [torch.zeros_like(weight) for weight in weights]
    second = [torch.zeros_like(weight) for weight in weights]
    for step in range(1, 6):
        gradients = [torch.randn(parameter.shape) for parameter in module.parameters()]
        for parameter, gradient in zip(module.parameters(), gradients, strict=True):
            parameter.grad = gradient.clone()
        optimizer.step()
        for weight, m, v, gradient in zip(weights, first, second, gradients, strict=True):
            m.mul_(beta1).add_((1 - beta1) * gradient.double())
            v.mul_(beta2).add_((1 - beta2) * gradient.double() ** 2)
            weight -= 1e-2 * (m / (1 - beta1**step)) / ((v / (1 - beta2**step)).sqrt() + eps)
    for parameter, weight in zip(module.parameters(), weights, strict=True):
        assert torch.allclose(parameter.detach().double(), weight, atol=1e-6)


def test_the_generator_update_computes_no_discriminator_gradients():
    """The generator's step back-propagates through a frozen discriminator: the discriminator's gradients stay those
    of its own update (before, the generator's step added its weight gradients, computed for nothing)."""
    from tiny_gan import assert_generator_update_leaves_discriminator_gradients_alone

    from MedGANSynthLib.networks import build_gan

    torch.manual_seed(0)
    generator, discriminator, _ = build_gan("radiogan", {
        "image_height": 20, "image_width": 12, "generator_base_channels": 16, "discriminator_channels": [4] * 8,
        "embedding_dim": 6, "discriminator_norm": "spectral", "discriminator_dropout": 0.0})
    task = GANTask(generator, discriminator, paper_settings("radiogan"), GANTaskSettings(mismatched_labels=True))
    batch = {"image": torch.rand(6, 1, 20, 12) * 2 - 1, "label": torch.arange(6) % 5}
    assert_generator_update_leaves_discriminator_gradients_alone(task, batch)
