"""Differentiable augmentation (``medgansynth train --augment``): the transforms against numpy arithmetic, the
gradient they pass to the generator, what the discriminator sees, the policy text, and real tiny runs (run.json,
model card, exact resume, bad values)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from tiny_gan import (
    BlobDataset,
    TinyDiscriminator,
    TinyGenerator,
    recording_step_context,
    single_thread,
    write_mip_folder,
)

from MedGANSynthLib.cli.main import main
from MedGANSynthLib.errors import Cancelled, InputError
from MedGANSynthLib.gan.task import GANTask, GANTaskSettings
from MedGANSynthLib.jobs.progress import CancelToken
from MedGANSynthLib.networks import build_gan
from MedGANSynthLib.training.augmentation_policy import augment_policy_names, parse_augment_policy
from MedGANSynthLib.training.checkpoint import checkpoint_path, load_checkpoint
from MedGANSynthLib.training.differentiable_augmentation import (
    augment,
    cut_out,
    cutout_size,
    draw_augmentation,
    largest_shift,
    translate,
)
from MedGANSynthLib.training.engine import Trainer, TrainerConfig, seed_everything
from MedGANSynthLib.training.optimizers import paper_settings
from MedGANSynthLib.weights.safetensors_io import load_gan

_one_thread = pytest.fixture(autouse=True)(single_thread)
TINY_RADIOGAN = ["--architecture", "radiogan", "--batch-size", "3", "--image-size", "20x12", "--width", "0.125",
                 "--device", "cpu", "--threads", "1"]


# ---- the transforms against numpy -----------------------------------------------------------------------------------
def _numpy_translation(image: np.ndarray, rows: int, columns: int, fill: float) -> np.ndarray:
    """np.roll moves the content; what wrapped round is then overwritten with the fill."""
    moved = np.roll(image, (rows, columns), axis=(-2, -1))
    if rows > 0:
        moved[..., :rows, :] = fill
    elif rows < 0:
        moved[..., rows:, :] = fill
    if columns > 0:
        moved[..., :, :columns] = fill
    elif columns < 0:
        moved[..., :, columns:] = fill
    return moved


@pytest.mark.parametrize("fill", [0.0, -1.0])
def test_translation_moves_the_content_by_exactly_the_drawn_shift(fill):
    images = torch.rand(6, 2, 10, 7, generator=torch.Generator().manual_seed(1)) * 2 - 1
    shifts = torch.tensor([[0, 0], [1, 0], [0, -1], [-2, 3], [3, -3], [-1, 1]])
    moved = translate(images, shifts, fill)
    for index, (rows, columns) in enumerate(shifts.tolist()):
        expected = _numpy_translation(images[index].numpy(), rows, columns, fill)
        np.testing.assert_array_equal(moved[index].numpy(), expected)
    # and against padding arithmetic: pad with the fill, then cut the window the shift points at
    padded = np.pad(images[3].numpy(), ((0, 0), (2, 2), (3, 3)), constant_values=fill)
    np.testing.assert_array_equal(moved[3].numpy(), padded[:, 2 + 2: 2 + 2 + 10, 3 - 3: 3 - 3 + 7])


def test_cutout_blanks_exactly_the_drawn_rectangle_clipped_at_the_border():
    images = torch.rand(4, 1, 10, 8, generator=torch.Generator().manual_seed(2)) + 1.0  # never 0 or -1 before
    corners = torch.tensor([[2, 3], [-3, -2], [7, 6], [0, 0]])
    size = (5, 4)
    blanked = cut_out(images, corners, size, -1.0)
    for index, (top, left) in enumerate(corners.tolist()):
        expected = images[index].numpy().copy()
        expected[:, max(top, 0): top + size[0], max(left, 0): left + size[1]] = -1.0
        np.testing.assert_array_equal(blanked[index].numpy(), expected)
    assert [int((blanked[i] == -1).sum()) for i in range(4)] == [5 * 4, 2 * 2, 3 * 2, 5 * 4]


def test_the_papers_fractions_of_the_image():
    # Zhao et al. 2020: shifts up to 1/8 of each side, cut-outs of half of each side (RadioGAN's 160 x 96 MIPs).
    assert largest_shift(160, 96) == (20, 12) and cutout_size(160, 96) == (80, 48)
    assert largest_shift(20, 12) == (3, 2) and cutout_size(20, 12) == (10, 6)  # 2.5 and 1.5 rounded half up


def test_each_image_of_a_batch_gets_its_own_draw_applied_element_wise():
    images = torch.rand(16, 1, 20, 12, generator=torch.Generator().manual_seed(3))
    names = ("translation", "cutout")
    batched = augment(images, names, torch.Generator().manual_seed(7), background=-1.0)
    draw = draw_augmentation(names, 16, 20, 12, torch.Generator().manual_seed(7))
    for index in range(16):
        one = translate(images[index:index + 1], draw.shifts[index:index + 1], -1.0)
        one = cut_out(one, draw.cutout_corners[index:index + 1], draw.cutout_size, -1.0)
        assert torch.equal(batched[index:index + 1], one)
    assert len({tuple(shift) for shift in draw.shifts.tolist()}) > 1  # not one draw for the whole batch
    assert len({tuple(corner) for corner in draw.cutout_corners.tolist()}) > 1


def test_draws_cover_the_range_of_the_paper_and_no_more():
    draw = draw_augmentation(("translation", "cutout"), 4000, 20, 12, torch.Generator().manual_seed(4))
    assert set(draw.shifts[:, 0].tolist()) == set(range(-3, 4)) and set(draw.shifts[:, 1].tolist()) == set(range(-2, 3))
    centres = draw.cutout_corners + torch.tensor([10 // 2, 6 // 2])
    assert set(centres[:, 0].tolist()) == set(range(20)) and set(centres[:, 1].tolist()) == set(range(12))


def test_gradients_pass_through_kept_pixels_and_stop_at_blanked_ones():
    images = torch.rand(2, 1, 6, 5, requires_grad=True)
    weights = torch.rand(2, 1, 6, 5)
    (translate(images, torch.tensor([[1, -2], [0, 0]]), -1.0) * weights).sum().backward()
    # d(sum w * moved)/d(image) = w moved back by the shift, 0 where the content left the image
    expected = _numpy_translation(weights[0].numpy(), -1, 2, 0.0)
    np.testing.assert_array_equal(images.grad[0].numpy(), expected)
    assert torch.equal(images.grad[1], weights[1])
    images.grad = None
    cut_out(images, torch.tensor([[1, 1], [4, 3]]), (2, 3), -1.0).sum().backward()
    assert int((images.grad == 0).sum()) == 2 * 3 + 2 * 2 and int((images.grad == 1).sum()) == 2 * 30 - 10


def test_the_generator_gets_a_gradient_through_the_augmentation():
    torch.manual_seed(0)
    generator, discriminator, _ = build_gan("radiogan", {
        "image_height": 20, "image_width": 12, "generator_base_channels": 16, "discriminator_channels": [4] * 8,
        "embedding_dim": 6, "discriminator_norm": "spectral", "discriminator_dropout": 0.0, "num_classes": 2})
    latent = generator.sample_latent(4).requires_grad_(True)
    labels = torch.tensor([0, 1, 0, 1])
    seen = augment(generator(latent, labels), ("translation", "cutout"), torch.Generator().manual_seed(5), -1.0)
    discriminator(seen, labels).sum().backward()
    assert latent.grad is not None and bool((latent.grad.abs().sum(dim=1) > 0).all())


# ---- in the GAN task ------------------------------------------------------------------------------------------------
def _blob_task(augment_names: tuple[str, ...], loss: str = "bce", mismatched: bool = False) -> GANTask:
    seed_everything(0)
    return GANTask(TinyGenerator(num_classes=2), TinyDiscriminator(num_classes=2, dropout=0.0),
                   paper_settings("radiogan", lr=2e-3),
                   GANTaskSettings(loss=loss, grid_samples=4, augment=augment_names, mismatched_labels=mismatched))


@pytest.mark.parametrize(("loss", "mismatched"), [("bce", False), ("hinge", True), ("wgan-gp", False)])
def test_the_discriminator_sees_only_augmented_images_in_both_updates(loss, mismatched):
    """Cut-out only: every image the discriminator is shown (real, generated, real with a wrong label; in its update,
    the penalty's and the generator's) holds a blanked rectangle. The blob data and a tanh generator are never
    exactly -1, so each -1 pixel is a cut-out one."""
    task = _blob_task(("cutout",), loss, mismatched)
    seen: list[tuple[torch.Tensor, bool]] = []  # (images, whether they are the penalty's interpolates: a leaf)
    task.discriminator.register_forward_pre_hook(
        lambda module, inputs: seen.append((inputs[0].detach().clone(), inputs[0].is_leaf and inputs[0].requires_grad)))
    data = BlobDataset(num_classes=2)
    batch = {"image": data.images[:6], "label": data.labels[:6]}
    assert not bool((batch["image"] == -1).any())
    task.train_step(batch, recording_step_context(task, {}))
    calls = {"bce": 3, "hinge": 4, "wgan-gp": 5 * 3 + 1}[loss]  # wgan-gp: 5 critic steps, each with the penalty's
    assert len(seen) == calls
    rows, columns = cutout_size(8, 8)
    smallest = (rows - rows // 2) * (columns - columns // 2)  # centre in a corner: a quarter of the rectangle is left
    judged = [images for images, interpolates in seen if not interpolates]  # those mix two blanked images
    assert len(judged) == calls - (5 if loss == "wgan-gp" else 0)
    for images in judged:
        assert all(int((image == -1).sum()) >= smallest for image in images)


def test_off_draws_nothing_so_the_noise_stays_that_of_the_papers():
    """With no augmentation a bce step draws exactly two latent batches from the step's noise generator."""
    for names, same in (((), True), (("translation",), False)):
        task = _blob_task(names)
        data = BlobDataset(num_classes=2)
        ctx = recording_step_context(task, {})
        task.train_step({"image": data.images[:6], "label": data.labels[:6]}, ctx)
        reference = torch.Generator().manual_seed(0)
        for _ in range(2):
            torch.randn((6, 8), generator=reference)
        assert torch.equal(ctx.generator.get_state(), reference.get_state()) is same


def test_augmentation_changes_training_and_a_resume_repeats_it_exactly(tmp_path):
    def train(run, epochs, resume=False, names=("translation", "cutout")):
        task = _blob_task(names) if not resume else GANTask(
            TinyGenerator(num_classes=2), TinyDiscriminator(num_classes=2, dropout=0.0),
            paper_settings("radiogan", lr=2e-3), GANTaskSettings(grid_samples=4, augment=names))
        config = TrainerConfig(run_dir=run, epochs=epochs, batch_size=8, seed=5, device="cpu", resume=resume)
        Trainer(config).fit(task, BlobDataset(num_classes=2))
        return json.loads((run / "losses.json").read_text())["steps"]

    straight = train(tmp_path / "straight", 3)
    train(tmp_path / "split", 1)
    resumed = train(tmp_path / "split", 3, resume=True)
    assert [row["g_loss"] for row in resumed] == [row["g_loss"] for row in straight]
    assert [row["d_loss"] for row in resumed] == [row["d_loss"] for row in straight]
    plain = train(tmp_path / "plain", 3, names=())
    assert [row["d_loss"] for row in plain] != [row["d_loss"] for row in straight]


def test_a_run_stopped_inside_an_epoch_resumes_its_augmentation_exactly(tmp_path):
    """The draws come from the step's noise generator, which a step checkpoint keeps where it was."""
    def train(run, resume=False, cancel=None, progress=None):
        task = _blob_task(("translation", "cutout"), "hinge", mismatched=True)
        config = TrainerConfig(run_dir=run, epochs=3, batch_size=8, seed=5, device="cpu", resume=resume,
                               checkpoint_steps=2)
        Trainer(config).fit(task, BlobDataset(num_classes=2), progress=progress, cancel=cancel)
        return json.loads((run / "losses.json").read_text())["steps"]

    straight = train(tmp_path / "straight")
    token = CancelToken()

    def stop_after_step_five(event):  # 3 steps per epoch: step 5 is inside epoch 2, after its checkpoint at step 4
        if event.done >= 5:
            token.cancel()

    with pytest.raises(Cancelled):
        train(tmp_path / "split", cancel=token, progress=stop_after_step_five)
    assert load_checkpoint(checkpoint_path(tmp_path / "split"))["partial_epoch"]["batches"] == 1
    resumed = train(tmp_path / "split", resume=True)
    assert [(row["d_loss"], row["g_loss"]) for row in resumed] == [(row["d_loss"], row["g_loss"]) for row in straight]


def test_unknown_augmentation_in_the_task_is_refused():
    with pytest.raises(InputError, match="Unknown augmentation flip"):
        _blob_task(("flip",))


# ---- the policy text ------------------------------------------------------------------------------------------------
def test_policy_text_is_kept_in_the_order_the_transforms_are_applied():
    assert parse_augment_policy("cutout, Translation") == "translation,cutout"
    assert parse_augment_policy("cutout") == "cutout"
    assert augment_policy_names("cutout,translation") == ("translation", "cutout") and augment_policy_names(None) == ()


@pytest.mark.parametrize(("text", "message"), [
    ("flip", "does not offer 'flip': a left-right flip swaps the body's sides"),
    ("translation,rotate", "has no augmentation 'rotate'"),
    ("cutout,cutout", "names an augmentation twice"),
    (",", "--augment needs a comma-separated list of translation, cutout"),
])
def test_bad_policies_name_the_flag_and_the_choices(text, message):
    with pytest.raises(InputError) as error:
        parse_augment_policy(text)
    assert message in str(error.value) and "translation, cutout" in str(error.value)
    assert str(error.value).startswith("--augment")


# ---- medgansynth train --augment ------------------------------------------------------------------------------------
@pytest.fixture
def mip_folder(tmp_path):
    return write_mip_folder(tmp_path / "mips", ("normal", "lung cancer"))


def test_a_run_with_augmentation_records_it_and_resumes_bit_for_bit(tmp_path, mip_folder, capsys):
    straight, split = tmp_path / "straight", tmp_path / "split"
    options = [*TINY_RADIOGAN, "--data", str(mip_folder), "--augment", "cutout,translation", "--loss", "hinge",
               "--mismatched-labels"]
    assert main(["train", *options, "-o", str(straight), "--epochs", "2"]) == 0, capsys.readouterr().err
    assert main(["train", *options, "-o", str(split), "--epochs", "1"]) == 0, capsys.readouterr().err
    assert main(["train", "-o", str(split), "--resume", "--epochs", "2", "--threads", "1"]) == 0, \
        capsys.readouterr().err
    first, second = (load_checkpoint(checkpoint_path(run)) for run in (straight, split))
    for name in ("generator", "discriminator"):
        for key, value in first["modules"][name].items():
            assert torch.equal(value, second["modules"][name][key]), f"{name}.{key}"
    assert json.loads((split / "run.json").read_text())["augment"] == "translation,cutout"
    _, _, card = load_gan(split / "weights" / "radiogan.safetensors")
    assert card.metrics["training"]["augment"] == "translation,cutout"


def test_a_run_without_augmentation_records_none(tmp_path, mip_folder, capsys):
    run = tmp_path / "run"
    assert main(["train", *TINY_RADIOGAN, "--data", str(mip_folder), "-o", str(run), "--epochs", "1"]) == 0
    capsys.readouterr()
    assert json.loads((run / "run.json").read_text())["augment"] is None
    assert load_gan(run / "weights" / "radiogan.safetensors")[2].metrics["training"]["augment"] is None


@pytest.mark.parametrize("extra", [["--augment", "flip"], ["--augment", "scale"], ["--set", "augment=flip"],
                                   ["--augment", "translation,translation"]])
def test_bad_augment_values_give_one_line_and_exit_2(tmp_path, mip_folder, capsys, extra):
    run = tmp_path / "run"
    code = main(["train", *TINY_RADIOGAN, "--data", str(mip_folder), "-o", str(run), *extra])
    error = capsys.readouterr().err
    assert code == 2 and "--augment" in error and "translation, cutout" in error and error.count("\n") == 1
    assert not run.exists()


def test_a_resume_may_not_change_the_augmentation(tmp_path, mip_folder, capsys):
    run = tmp_path / "run"
    assert main(["train", *TINY_RADIOGAN, "--data", str(mip_folder), "-o", str(run), "--epochs", "1"]) == 0
    capsys.readouterr()
    assert main(["train", "-o", str(run), "--resume", "--epochs", "2", "--augment", "cutout"]) == 2
    assert "leave out --augment" in capsys.readouterr().err
    stored = json.loads((run / "run.json").read_text())
    del stored["augment"]  # a run.json older than the option
    (run / "run.json").write_text(json.dumps(stored))
    assert main(["train", "-o", str(run), "--resume", "--epochs", "2", "--augment", "cutout"]) == 2
    error = capsys.readouterr().err
    assert "trained without --augment" in error and error.count("\n") == 1
