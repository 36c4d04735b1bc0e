"""Seeded sampling, physical units through the model card, and latent walks between seeds and classes."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from MedGANSynthLib.errors import Cancelled, InputError
from MedGANSynthLib.gan.latent_walk import latent_walk, slerp
from MedGANSynthLib.gan.sampling import sample_images, to_physical
from MedGANSynthLib.jobs.progress import CancelToken
from MedGANSynthLib.networks import build_gan
from MedGANSynthLib.weights import ModelCard, phantom_training_data

TINY = {
    "radiogan": {"image_height": 20, "image_width": 12, "generator_base_channels": 16,
                 "discriminator_channels": [4] * 8, "embedding_dim": 6},
    "brain_dcgan": {"image_size": 32, "generator_base_channels": 16, "discriminator_channels": [4, 4, 8, 8, 8]},
    "ct_gan": {"image_height": 8, "image_width": 12, "generator_channels": [8, 8, 4, 4, 4],
               "discriminator_channels": [4, 4, 4, 4], "discriminator_dense": 8},
}
CLASSES = ["normal", "head_neck", "oesophagus", "lung", "lymphoma"]
ATOL = 1e-5  # batch size may change the conv kernels' summation order, not the result beyond float noise


def _generator(architecture: str):
    torch.manual_seed(11)
    generator = build_gan(architecture, TINY[architecture])[0]
    # Give BatchNorm the statistics of a real batch (as training would), else an untrained N(0, 0.02) network
    # in eval mode shrinks every sample to nearly the same constant image.
    norms = [m for m in generator.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    for norm in norms:
        norm.momentum = None  # cumulative average: after one batch, exactly that batch's statistics
    with torch.no_grad():
        generator(generator.sample_latent(16), torch.arange(16) % 5 if generator.num_classes else None)
    for norm in norms:
        norm.momentum = 0.1
    return generator


def _card(kind, low, high, output_range):
    return ModelCard(architecture="radiogan", config={}, class_names=CLASSES,
                     normalisation={"kind": kind, "low": low, "high": high, "output_range": output_range},
                     training_data=phantom_training_data({"normal": 1}))


@pytest.mark.parametrize("architecture", sorted(TINY))
def test_sampling_is_deterministic_by_seed(architecture):
    generator = _generator(architecture)
    label = 3 if generator.num_classes else None
    first = sample_images(generator, label, count=5, seed=42)
    again = sample_images(generator, label, count=5, seed=42, batch_size=2)
    other = sample_images(generator, label, count=5, seed=43)
    assert first.shape == (5, *generator.image_shape) and first.dtype == np.float32
    np.testing.assert_allclose(first, again, atol=ATOL)
    assert np.abs(first - other).max() > 1e-3
    single = sample_images(generator, label, count=1, seed=42)
    np.testing.assert_allclose(single[0], first[0], atol=ATOL)
    if architecture != "ct_gan":
        assert first.min() >= -1 and first.max() <= 1
    assert generator.training  # sampling restores the caller's mode


def test_class_by_name_equals_class_by_index_and_bad_classes_are_refused():
    generator = _generator("radiogan")
    by_name = sample_images(generator, "lung", count=2, seed=1, class_names=CLASSES)
    by_index = sample_images(generator, 3, count=2, seed=1)
    np.testing.assert_array_equal(by_name, by_index)
    assert np.abs(by_index - sample_images(generator, 4, count=2, seed=1)).max() > 1e-4
    with pytest.raises(InputError, match="choose a class \\(normal, head_neck"):
        sample_images(generator, None, count=1, seed=1, class_names=CLASSES)
    with pytest.raises(InputError, match="Unknown class 'melanoma'"):
        sample_images(generator, "melanoma", count=1, seed=1, class_names=CLASSES)
    with pytest.raises(InputError, match="out of range"):
        sample_images(generator, 5, count=1, seed=1)
    brain = _generator("brain_dcgan")
    with pytest.raises(InputError, match="unconditional"):
        sample_images(brain, 2, count=1, seed=1)
    np.testing.assert_array_equal(sample_images(brain, "AD", 1, 3, class_names=["AD"]), sample_images(brain, None, 1, 3))
    with pytest.raises(InputError, match=">= 1"):
        sample_images(brain, None, count=0, seed=1)


def test_sampling_reports_progress_and_can_be_cancelled():
    generator = _generator("ct_gan")
    events = []
    sample_images(generator, None, count=5, seed=0, batch_size=2, progress=events.append)
    assert [(e.done, e.total) for e in events] == [(2, 5), (4, 5), (5, 5)]
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        sample_images(generator, None, count=5, seed=0, cancel=token)


def test_to_physical_inverts_the_papers_scalings():
    # RadioGAN: SUV clipped to [0, 30] (seed 000), trained on tanh's [-1, 1]
    suv = to_physical(np.array([-1.0, 0.0, 0.5, 1.0, 1.2]), _card("suv", 0, 30, [-1, 1]))
    np.testing.assert_allclose(suv, [0.0, 15.0, 22.5, 30.0, 30.0])
    # CT GAN: intensities scaled to [0, 2] (seed 004); a -1000..1000 HU window, unclipped
    hu = to_physical(np.array([0.0, 1.0, 2.5]), _card("hu", -1000, 1000, [0, 2]), clip=False)
    np.testing.assert_allclose(hu, [-1000.0, 0.0, 1500.0])


@pytest.mark.parametrize("mode", ["linear", "slerp"])
def test_class_walk_endpoints_equal_direct_samples(mode):
    generator = _generator("radiogan")
    walk = latent_walk(generator, 6, seed_a=3, seed_b=9, class_a="lung", class_b="lymphoma", mode=mode,
                       class_names=CLASSES)
    assert walk.shape == (6, 1, 20, 12)
    np.testing.assert_allclose(walk[0], sample_images(generator, 3, 1, seed=3)[0], atol=ATOL)
    np.testing.assert_allclose(walk[-1], sample_images(generator, 4, 1, seed=9)[0], atol=ATOL)
    np.testing.assert_allclose(walk, latent_walk(generator, 6, 3, 9, 3, 4, mode=mode), atol=0)  # deterministic


def test_class_walk_interpolates_the_label_embedding():
    generator = _generator("radiogan").eval()
    walk = latent_walk(generator, 3, seed_a=5, class_a=0, class_b=2)
    z = generator.sample_latent(1, torch.Generator().manual_seed(5))
    with torch.no_grad():
        embeddings = generator.label_embedding.weight
        middle = generator.forward_embedded(z, (0.5 * embeddings[0] + 0.5 * embeddings[2])[None])
    np.testing.assert_allclose(walk[1], middle[0].numpy(), atol=ATOL)
    assert np.abs(walk[1] - walk[0]).max() > 1e-5 and np.abs(walk[1] - walk[2]).max() > 1e-5


@pytest.mark.parametrize("architecture", ["brain_dcgan", "ct_gan"])
def test_seed_walk_of_unconditional_models(architecture):
    generator = _generator(architecture)
    walk = latent_walk(generator, 4, seed_a=1, seed_b=2, mode="slerp")
    np.testing.assert_allclose(walk[0], sample_images(generator, None, 1, seed=1)[0], atol=ATOL)
    np.testing.assert_allclose(walk[-1], sample_images(generator, None, 1, seed=2)[0], atol=ATOL)
    with pytest.raises(InputError, match="at least 2 steps"):
        latent_walk(generator, 1, seed_a=1)
    with pytest.raises(InputError, match="walk mode"):
        latent_walk(generator, 3, seed_a=1, mode="cubic")


def test_slerp_against_closed_form():
    a, b = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 2.0])  # 90 degrees apart
    rows = slerp(a, b, torch.tensor([0.0, 0.5, 1.0], dtype=torch.float64))
    # sin(pi/4)/sin(pi/2) * (a + b)
    np.testing.assert_allclose(rows[1].numpy(), [math.sqrt(0.5), 2 * math.sqrt(0.5)], rtol=1e-6)
    assert torch.equal(rows[0], a) and torch.equal(rows[2], b)
