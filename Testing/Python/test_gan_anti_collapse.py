"""RadioGAN's options beyond the paper: the minibatch-spread feature and the AC-GAN class head, and their losses."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.gan.task import GANTask, GANTaskSettings
from MedGANSynthLib.networks import build_gan
from MedGANSynthLib.networks.layers import append_minibatch_stddev
from MedGANSynthLib.training.engine import StepContext, Trainer, TrainerConfig, seed_everything
from MedGANSynthLib.training.optimizers import paper_settings

TINY = {"image_height": 40, "image_width": 24, "generator_base_channels": 16, "num_classes": 3,
        "discriminator_norm": "none", "discriminator_dropout": 0.0}


def test_minibatch_stddev_matches_hand_arithmetic():
    features = torch.tensor([[1.0, 2.0], [3.0, 6.0]])
    # Per-feature population spread: |1-3|/2 = 1 and |2-6|/2 = 2, mean 1.5, appended to every row.
    expected = torch.tensor([[1.0, 2.0, 1.5], [3.0, 6.0, 1.5]])
    assert torch.allclose(append_minibatch_stddev(features), expected)
    assert torch.equal(append_minibatch_stddev(features[:1]), torch.tensor([[1.0, 2.0, 0.0]]))


SMALL = {
    "radiogan": TINY,
    "brain_dcgan": {"image_size": 64, "generator_base_channels": 32},
    "ct_gan": {"generator_channels": [16, 8, 8, 8, 8], "discriminator_channels": [8, 8, 8, 8],
               "discriminator_dropout": 0.0},
}


@pytest.mark.parametrize("architecture", ["radiogan", "ct_gan"])
def test_minibatch_std_behind_dropout_is_refused_because_dropout_fakes_the_spread(architecture):
    settings = {**SMALL[architecture], "discriminator_dropout": 0.25}
    _, discriminator, _ = build_gan(architecture, settings)
    discriminator.train()
    image = torch.rand(1, *discriminator.image_shape) * 2 - 1
    alike = image.expand(8, -1, -1, -1)
    labels = torch.zeros(8, dtype=torch.long) if architecture == "radiogan" else None
    inputs = alike if labels is None else torch.cat(
        [alike, discriminator.label_to_image(discriminator.label_embedding(labels)).view(8, 1, 40, 24)], dim=1)
    with torch.no_grad():
        spread = discriminator.features(inputs).flatten(1).std(dim=0).mean()
    assert float(spread) > 0  # eight copies of one image, yet a spread: the dropout masks differ
    with pytest.raises(InputError, match="needs discriminator_dropout 0"):
        build_gan(architecture, {**settings, "minibatch_std": True})


@pytest.mark.parametrize("architecture", sorted(SMALL))
def test_minibatch_std_lets_the_discriminator_tell_identical_batches_from_varied_ones(architecture):
    torch.manual_seed(0)
    generator, discriminator, _ = build_gan(architecture, {**SMALL[architecture], "minibatch_std": True})
    discriminator.eval()
    labels = torch.tensor([0, 1, 2, 0]) if generator.num_classes else None
    varied = torch.rand(4, *discriminator.image_shape) * 2 - 1
    alike = varied[:1].expand(4, -1, -1, -1).contiguous()
    with torch.no_grad():
        first_alone = discriminator(alike, labels)[0]
        first_among_varied = discriminator(torch.cat([alike[:1], varied[1:]]), labels)[0]
    # The same image gets another score when its batch-mates differ: the batch spread reaches the logit.
    assert not torch.isclose(first_alone, first_among_varied)


def test_class_head_returns_one_logit_per_class_and_is_refused_when_absent():
    generator, discriminator, _ = build_gan("radiogan", {**TINY, "auxiliary_classifier": True})
    labels = torch.tensor([0, 2])
    images = generator(generator.sample_latent(2), labels)
    logits, classes = discriminator(images, labels, return_class_logits=True)
    assert logits.shape == (2,) and classes.shape == (2, 3)
    _, plain, _ = build_gan("radiogan", TINY)
    with pytest.raises(InputError, match="no auxiliary class head"):
        plain(images, labels, return_class_logits=True)
    with pytest.raises(InputError, match="at least two classes"):
        build_gan("radiogan", {**TINY, "num_classes": 0, "auxiliary_classifier": True})


def test_auxiliary_loss_needs_a_class_head():
    generator, discriminator, _ = build_gan("radiogan", TINY)
    with pytest.raises(InputError, match="class head"):
        GANTask(generator, discriminator, paper_settings("radiogan"), GANTaskSettings(auxiliary_class_weight=1.0))


class ClassSquares(Dataset):
    """Class k: a bright square in the k-th third of a 40 x 24 image, so the class is visible to any classifier."""

    def __init__(self, per_class: int = 8, classes: int = 3) -> None:
        self.labels = torch.arange(per_class * classes) % classes
        self.images = torch.full((len(self.labels), 1, 40, 24), -0.9)
        for index, label in enumerate(self.labels.tolist()):
            self.images[index, :, 4 + 12 * label: 12 + 12 * label, 8:16] = 0.8

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index):
        return {"image": self.images[index], "label": self.labels[index]}


def test_auxiliary_loss_teaches_the_class_head_to_name_real_classes(tmp_path):
    seed_everything(3)
    generator, discriminator, _ = build_gan("radiogan", {**TINY, "auxiliary_classifier": True,
                                                         "discriminator_dropout": 0.0})
    data = ClassSquares()
    discriminator.eval()
    with torch.no_grad():
        _, before = discriminator(data.images, data.labels, return_class_logits=True)
    task = GANTask(generator, discriminator, paper_settings("radiogan", lr=1e-3),
                   GANTaskSettings(auxiliary_class_weight=1.0))
    result = Trainer(TrainerConfig(run_dir=tmp_path, epochs=10, batch_size=8, seed=3, device="cpu")).fit(task, data)
    assert {"d_class", "g_class"} <= set(result.last_losses)
    discriminator.eval()
    with torch.no_grad():
        _, after = discriminator(data.images, data.labels, return_class_logits=True)
    # Independent yardstick: ln 3 is the cross-entropy of a uniform guess over three classes.
    assert F.cross_entropy(before, data.labels).item() > 0.5 * math.log(3)
    assert F.cross_entropy(after, data.labels).item() < 0.25 * math.log(3)
    assert (after.argmax(1) == data.labels).float().mean().item() == 1.0


def _label_accuracy(discriminator, data) -> float:
    """How often the discriminator scores a real image highest under its own class (chance: 1 / classes)."""
    discriminator.eval()
    with torch.no_grad():
        scores = torch.stack([discriminator(data.images, torch.full_like(data.labels, k)) for k in range(3)], 1)
    return float((scores.argmax(1) == data.labels).float().mean())


def test_mismatched_labels_teach_the_discriminator_to_check_the_class(tmp_path):
    data = ClassSquares()
    accuracies = {}
    for mismatched in (False, True):
        seed_everything(3)
        generator, discriminator, _ = build_gan("radiogan", TINY)
        # A frozen generator (lr ~0) draws no class, so wrong-label reals are the only class lesson on offer.
        task = GANTask(generator, discriminator,
                       paper_settings("radiogan", lr_generator=1e-12, lr_discriminator=1e-3),
                       GANTaskSettings(loss="hinge", mismatched_labels=mismatched))
        result = Trainer(TrainerConfig(run_dir=tmp_path / str(mismatched), epochs=20, batch_size=8, seed=3,
                                       device="cpu")).fit(task, data)
        assert ("d_mismatch" in result.last_losses) == mismatched
        accuracies[mismatched] = _label_accuracy(discriminator, data)
    # Without wrong-label negatives nothing asks the discriminator to check the class; with them it must.
    assert accuracies[True] == 1.0 and accuracies[False] < 1.0, accuracies


def test_mismatched_labels_need_a_conditional_gan():
    generator, discriminator, _ = build_gan("radiogan", {**TINY, "num_classes": 0})
    with pytest.raises(InputError, match="at least two classes"):
        GANTask(generator, discriminator, paper_settings("radiogan"), GANTaskSettings(mismatched_labels=True))


class _ScoreTableCritic(torch.nn.Module):
    """A critic whose score for (image i, label k) is TABLE[i, k]; image i carries i in its pixels."""

    def __init__(self, table: torch.Tensor) -> None:
        super().__init__()
        self.table = table

    def forward(self, images, labels):
        index = images[:, 0, 0, 0].round().long()
        return self.table[index, labels]


def test_hardest_mismatch_picks_the_wrong_class_the_critic_believes_most():
    generator, discriminator, _ = build_gan("radiogan", {**TINY, "num_classes": 4})
    task = GANTask(generator, discriminator, paper_settings("radiogan"),
                   GANTaskSettings(mismatched_labels=True, hardest_mismatch=True))
    table = torch.tensor([[9.0, 1.0, 3.0, 2.0],    # own class 0 scored highest: the best wrong one is 2
                          [0.0, -5.0, -1.0, 4.0],  # own class 1: 3
                          [7.0, 8.0, 0.0, 6.0],    # own class 3 (below): 1
                          [1.0, 1.5, 9.0, -2.0]])  # own class 2 is the only believable one: next best is 1
    labels = torch.tensor([0, 1, 3, 2])
    images = torch.arange(4.0).view(4, 1, 1, 1).expand(4, 1, 2, 2)
    context = StepContext(device=torch.device("cpu"), models={}, optimizers={}, scalers={},
                          generator=torch.Generator().manual_seed(0), amp_dtype=None)
    chosen = task._wrong_labels(labels, context, _ScoreTableCritic(table), images)
    assert chosen.tolist() == [2, 3, 1, 1]


def test_hardest_mismatch_needs_mismatched_labels():
    generator, discriminator, _ = build_gan("radiogan", TINY)
    with pytest.raises(InputError, match="switch mismatched labels on"):
        GANTask(generator, discriminator, paper_settings("radiogan"), GANTaskSettings(hardest_mismatch=True))
