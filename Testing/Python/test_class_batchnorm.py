"""Class-conditional BatchNorm against hand arithmetic, and its effect inside RadioGAN's generator."""

from __future__ import annotations

import pytest
import torch

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.networks import build_gan
from MedGANSynthLib.networks.class_batchnorm import ClassBatchNorm2d

TINY_RADIOGAN = {"image_height": 20, "image_width": 12, "generator_base_channels": 16,
                 "discriminator_channels": [4] * 8, "embedding_dim": 6, "num_classes": 3}


def test_scale_and_shift_follow_the_embedding_by_hand_arithmetic():
    torch.manual_seed(0)
    layer = ClassBatchNorm2d(channels=3, embedding_dim=2, momentum=0.2)
    for parameter in (layer.gain.weight, layer.gain.bias, layer.shift.weight, layer.shift.bias):
        torch.nn.init.normal_(parameter)
    x = torch.randn(4, 3, 5, 5) * 3 + 2
    embedding = torch.randn(4, 2)
    mean = x.mean(dim=(0, 2, 3), keepdim=True)
    variance = ((x - mean) ** 2).mean(dim=(0, 2, 3), keepdim=True)  # BatchNorm divides by the biased variance
    normalised = (x - mean) / torch.sqrt(variance + 1e-5)
    scale = 1 + embedding @ layer.gain.weight.T + layer.gain.bias
    shift = embedding @ layer.shift.weight.T + layer.shift.bias
    expected = normalised * scale[:, :, None, None] + shift[:, :, None, None]
    assert torch.allclose(layer(x, embedding), expected, atol=1e-5)


def test_a_new_layer_is_plain_normalisation_whatever_the_class():
    layer = ClassBatchNorm2d(channels=2, embedding_dim=4, momentum=0.2)
    x = torch.randn(6, 2, 3, 3)
    plain = torch.nn.functional.batch_norm(x, None, None, training=True)
    assert torch.allclose(layer(x, torch.randn(6, 4)), plain, atol=1e-6)


def test_the_generator_carries_the_class_through_the_norm_alone():
    generator, _, config = build_gan("radiogan", {**TINY_RADIOGAN, "generator_class_norm": True})
    norms = [m for m in generator.modules() if isinstance(m, ClassBatchNorm2d)]
    assert len(norms) == config.upsamplings and not any(isinstance(m, torch.nn.BatchNorm2d) and m.affine
                                                        for m in generator.upsample)
    torch.manual_seed(1)
    with torch.no_grad():
        generator.label_to_map.weight.zero_()  # cut the paper's label channel: only the norms see the class
        generator.label_to_map.bias.zero_()
        z = generator.sample_latent(1, torch.Generator().manual_seed(2)).repeat(3, 1)
        generator.eval()
        before = generator(z, torch.arange(3))
        assert torch.allclose(before[1], before[0]) and torch.allclose(before[2], before[0])
        for norm in norms:
            torch.nn.init.normal_(norm.gain.weight, std=0.5)
            torch.nn.init.normal_(norm.shift.weight, std=0.5)
        after = generator(z, torch.arange(3))
    assert (after[1] - after[0]).abs().max() > 1e-3 and (after[2] - after[0]).abs().max() > 1e-3


def test_class_norm_needs_classes():
    with pytest.raises(InputError, match="at least two classes"):
        build_gan("radiogan", {**TINY_RADIOGAN, "num_classes": 0, "generator_class_norm": True})
