"""The discriminator normalisation option: the papers' BatchNorm by default, spectral norm on request."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.networks import build_gan
from MedGANSynthLib.weights.model_card import ModelCard, phantom_training_data
from MedGANSynthLib.weights.safetensors_io import load_gan, save_model

TINY = {
    "radiogan": {"image_height": 40, "image_width": 24, "generator_base_channels": 16},
    "brain_dcgan": {"image_size": 64, "generator_base_channels": 32},
    "ct_gan": {"generator_channels": [16, 8, 8, 8, 8], "discriminator_channels": [8, 8, 8, 8]},
}


def _batchnorms(module: nn.Module) -> int:
    return sum(isinstance(m, nn.BatchNorm2d) for m in module.modules())


@pytest.mark.parametrize("architecture", ["radiogan", "brain_dcgan"])
def test_default_is_the_papers_batchnorm(architecture):
    _, discriminator, config = build_gan(architecture, TINY[architecture])
    assert config.discriminator_norm == "batch" and _batchnorms(discriminator) > 0


@pytest.mark.parametrize("architecture", ["radiogan", "brain_dcgan", "ct_gan"])
def test_spectral_discriminator_has_unit_top_singular_value(architecture):
    torch.manual_seed(0)
    generator, discriminator, _ = build_gan(architecture, {**TINY[architecture], "discriminator_norm": "spectral"})
    assert _batchnorms(discriminator) == 0
    labels = torch.tensor([0, 1]) if generator.num_classes else None
    discriminator.train()
    with torch.no_grad():  # power iterations converge during forward passes in train mode
        for _ in range(30):
            discriminator(generator(generator.sample_latent(2), labels), labels)
    linear = [m for m in discriminator.modules() if isinstance(m, nn.Linear)][-1]
    # Independent check: the largest singular value of the effective weight, from torch.linalg.
    assert torch.linalg.matrix_norm(linear.weight.detach(), ord=2) == pytest.approx(1.0, abs=0.05)


def test_spectral_weights_round_trip_exactly(tmp_path):
    generator, discriminator, _ = build_gan("brain_dcgan", {**TINY["brain_dcgan"], "discriminator_norm": "spectral"})
    card = ModelCard(architecture="brain_dcgan", config={}, class_names=["NC"],
                     normalisation={"kind": "suv", "low": 0.0, "high": 15.0, "output_range": [-1.0, 1.0]},
                     training_data=phantom_training_data({"NC": 1}))
    save_model({"generator": generator, "discriminator": discriminator}, card, tmp_path / "m")
    _, loaded, _ = load_gan(tmp_path / "m.safetensors")
    for (name, a), (_, b) in zip(discriminator.state_dict().items(), loaded.state_dict().items(), strict=True):
        assert torch.equal(a, b), name


def test_unknown_or_unpapered_norm_is_refused():
    with pytest.raises(InputError, match="discriminator_norm"):
        build_gan("radiogan", {"discriminator_norm": "layer"})
    with pytest.raises(InputError, match="no BatchNorm in the paper"):
        build_gan("ct_gan", {"discriminator_norm": "batch"})
