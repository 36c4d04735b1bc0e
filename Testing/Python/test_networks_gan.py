"""The three GANs of the seed papers: shapes, ranges, paper layer structure, conditioning, size scaling, budgets."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.networks import ARCHITECTURES, build_gan, config_from_dict, config_to_dict
from MedGANSynthLib.networks.layers import same_transposed_conv
from MedGANSynthLib.networks.radiogan import discriminator_strides

TINY = {
    "radiogan": {"image_height": 20, "image_width": 12, "generator_base_channels": 16,
                 "discriminator_channels": [4] * 8, "embedding_dim": 6},
    "brain_dcgan": {"image_size": 32, "generator_base_channels": 16, "discriminator_channels": [4, 4, 8, 8, 8]},
    "ct_gan": {"image_height": 8, "image_width": 12, "generator_channels": [8, 8, 4, 4, 4],
               "discriminator_channels": [4, 4, 4, 4], "discriminator_dense": 8},
}
PAPER_SHAPES = {"radiogan": (1, 160, 96), "brain_dcgan": (3, 128, 128), "ct_gan": (1, 40, 40)}


def _labels(generator, n):
    return torch.arange(n) % generator.num_classes if generator.num_classes else None


def _count(module: nn.Module) -> int:
    return sum(t.numel() for t in module.state_dict().values())


def _layers(module: nn.Module, kind: type) -> list:
    return [m for m in module.modules() if isinstance(m, kind)]


@pytest.mark.parametrize("architecture", sorted(ARCHITECTURES))
@pytest.mark.parametrize("size", ["tiny", "paper"])
def test_shapes_and_output_range(architecture, size):
    torch.manual_seed(0)
    generator, discriminator, config = build_gan(architecture, TINY[architecture] if size == "tiny" else None)
    if size == "paper":
        assert generator.image_shape == PAPER_SHAPES[architecture]
    n = 3
    z = generator.sample_latent(n, torch.Generator().manual_seed(1))
    assert z.shape == (n, generator.latent_dim)
    images = generator(z, _labels(generator, n))
    assert images.shape == (n, *generator.image_shape) == (n, *config.image_shape)
    assert torch.isfinite(images).all()
    if architecture != "ct_gan":  # tanh output
        assert images.abs().max() <= 1.0
    logits = discriminator(images, _labels(generator, n))
    assert logits.shape == (n,)
    assert torch.isfinite(logits).all()


def test_latent_sizes_and_distributions_follow_the_papers():
    radio, brain, ct = (build_gan(name)[0] for name in ("radiogan", "brain_dcgan", "ct_gan"))
    assert radio.latent_dim == brain.latent_dim == ct.latent_dim == 100  # all three papers use 100 numbers
    uniform = brain.sample_latent(4000, torch.Generator().manual_seed(0))
    assert uniform.min() >= -1 and uniform.max() <= 1
    assert abs(float(uniform.std()) - 1 / math.sqrt(3)) < 0.01  # U(-1, 1) has std 1/sqrt(3)
    normal = radio.sample_latent(4000, torch.Generator().manual_seed(0))
    assert abs(float(normal.std()) - 1.0) < 0.01


@pytest.mark.parametrize("kernel", [3, 4, 5])
def test_same_transposed_conv_doubles_exactly(kernel):
    layer = same_transposed_conv(1, 1, kernel, stride=2)
    for n in range(1, 10):
        assert layer(torch.zeros(1, 1, n, n + 1)).shape[2:] == (2 * n, 2 * n + 2)


def test_radiogan_structure_matches_paper():
    generator, discriminator, config = build_gan("radiogan")
    assert generator.label_embedding.embedding_dim == 50 and generator.label_to_map.out_features == 15
    assert discriminator.label_embedding.embedding_dim == 50
    assert discriminator.label_to_image.out_features == 160 * 96  # Dense to image size, second input channel
    convs = _layers(discriminator.features, nn.Conv2d)
    assert len(convs) == 8 and all(c.kernel_size == (3, 3) for c in convs)
    assert convs[0].in_channels == 2  # image + label channel
    assert len(_layers(discriminator, nn.BatchNorm2d)) == 8 - 3  # all but the first and the last two
    assert all(bn.momentum == pytest.approx(0.2) for bn in _layers(discriminator, nn.BatchNorm2d))  # Keras 0.8
    assert len(_layers(discriminator, nn.Dropout)) == 8
    # generator: 160 = 5 * 2^5 -> five transposed convs, then a one-channel conv + tanh
    assert len(_layers(generator, nn.ConvTranspose2d)) == config.upsamplings == 5
    assert isinstance(generator.to_image[-1], nn.Tanh) and generator.to_image[0].out_channels == 1


def test_radiogan_discriminator_strides_never_shrink_below_one_pixel():
    # H 160: 80 40 20 10 5 3 2 after 7 layers; W 96: 48 24 12 6 3 2 1, so the 8th must not stride along W
    strides = discriminator_strides(160, 96, 8)
    assert strides == [(2, 2)] * 7 + [(2, 1)]
    assert discriminator_strides(20, 12, 8)[-1] == (1, 1)


@pytest.mark.parametrize("height,width", [(10, 6), (40, 24), (320, 192)])
def test_radiogan_other_sizes(height, width):
    generator, discriminator, _ = build_gan("radiogan", {"image_height": height, "image_width": width,
                                                         "generator_base_channels": 16, "discriminator_channels": [4] * 8})
    labels = torch.tensor([2, 4])  # batch of 2: training-mode BatchNorm needs more than one value per channel
    images = generator(generator.sample_latent(2), labels)
    assert images.shape == (2, 1, height, width)
    assert discriminator(images, labels).shape == (2,)


def test_radiogan_bad_aspect_ratio_is_refused():
    with pytest.raises(InputError, match="5:3"):
        build_gan("radiogan", {"image_height": 160, "image_width": 100})
    with pytest.raises(InputError, match="power of two"):
        build_gan("radiogan", {"image_height": 15, "image_width": 9})


def test_conditional_input_changes_radiogan_outputs():
    torch.manual_seed(0)
    generator, discriminator, _ = build_gan("radiogan", TINY["radiogan"])
    generator.eval()
    discriminator.eval()
    z = generator.sample_latent(1, torch.Generator().manual_seed(3)).repeat(5, 1)
    images = generator(z, torch.arange(5))
    for other in range(1, 5):
        assert (images[other] - images[0]).abs().max() > 1e-4
    logits = discriminator(images[:1].repeat(5, 1, 1, 1), torch.arange(5))
    assert len(set(logits.tolist())) == 5
    with pytest.raises(InputError, match="conditional"):
        generator(z)


def _training_pass(network: nn.Module, inputs: tuple, memory_format: torch.memory_format) -> list[torch.Tensor]:
    """Output and parameter gradients of one training-mode pass (dropout on) with activations in ``memory_format``."""
    network.memory_format = memory_format
    network.train().zero_grad()
    torch.manual_seed(5)
    output = network(*inputs)
    output.square().sum().backward()
    return [output.detach()] + [parameter.grad.clone() for parameter in network.parameters()]


@pytest.mark.parametrize("part", ["generator", "discriminator"])
def test_radiogan_nhwc_activations_compute_what_nchw_ones_do(part):
    # The networks run NHWC for speed; the same seed must give the same dropout masks and, up to float rounding,
    # the same outputs and gradients as plain NCHW.
    torch.manual_seed(0)
    generator, discriminator, _ = build_gan("radiogan", {**TINY["radiogan"], "discriminator_channels": [8] * 8})
    labels = torch.tensor([0, 1, 2, 3])
    network = generator if part == "generator" else discriminator
    inputs = (torch.randn(4, generator.latent_dim) if part == "generator" else torch.randn(4, 1, 20, 12), labels)
    nchw = _training_pass(network, inputs, torch.contiguous_format)
    nhwc = _training_pass(network, inputs, torch.channels_last)
    scale = max(float(tensor.abs().max()) for tensor in nchw)  # the gradients of biases before a BatchNorm are ~0
    for expected, actual in zip(nchw, nhwc, strict=True):
        assert float((actual - expected).abs().max()) <= 1e-5 * scale


@pytest.mark.parametrize(("name", "labels", "shape", "upsamplings", "what"), [
    ("radiogan", torch.tensor([0, 1]), (2, 1, 20, 12), 2, "RadioGAN"),
    ("brain_dcgan", None, (2, 3, 32, 32), 5, "brain DCGAN"),
    ("ct_gan", None, (2, 1, 8, 12), 2, "CT GAN"),
])
def test_resize_upsampling_has_no_transposed_conv_and_keeps_the_shapes(name, labels, shape, upsamplings, what):
    generator, _, _ = build_gan(name, {**TINY[name], "generator_upsampling": "resize"})
    assert not [conv for conv in _layers(generator, nn.ConvTranspose2d) if conv.stride != (1, 1)]
    assert len(_layers(generator, nn.Upsample)) == upsamplings
    with torch.no_grad():
        images = generator(generator.sample_latent(2), labels)
    assert images.shape == shape
    assert name == "ct_gan" or float(images.abs().max()) <= 1.0  # tanh outputs; the CT GAN's is linear
    with pytest.raises(InputError, match=f"Unknown {what} generator upsampling 'bilinear'"):
        build_gan(name, {**TINY[name], "generator_upsampling": "bilinear"})


@pytest.mark.parametrize(("upsampling", "grid"), [("transposed", True), ("resize", False)])
def test_ct_generator_paints_a_grid_on_a_constant_latent_map_only_with_transposed_convolutions(upsampling, grid):
    """Odena et al.: a 3 x 3 kernel at stride 2 gives neighbouring output pixels different weight sums, so a
    constant input comes out as a 2-pixel pattern; nearest x2 + conv keeps a constant input constant (away from
    the padded border). Eval mode: BatchNorm is then one affine map per channel."""
    torch.manual_seed(3)
    generator, _, _ = build_gan("ct_gan", {**TINY["ct_gan"], "generator_upsampling": upsampling})
    generator.eval()
    with torch.no_grad():
        image = generator(torch.full((1, generator.config.map_channels, 16, 16), 0.7))[0, 0]
    interior = image[16:-16, 16:-16].double()
    relative_spread = float((interior.max() - interior.min()) / interior.abs().max())  # DCGAN init: tiny outputs
    assert (relative_spread > 0.1) if grid else (relative_spread < 1e-4)


def test_class_projection_adds_the_class_vector_times_the_features_to_the_logit():
    settings = dict(TINY["radiogan"], num_classes=3, discriminator_dropout=0.0)
    _, plain, _ = build_gan("radiogan", settings)
    _, projecting, _ = build_gan("radiogan", dict(settings, class_projection=True))
    missing, unexpected = projecting.load_state_dict(plain.state_dict(), strict=False)
    assert missing == ["class_vectors.weight"] and unexpected == []
    images = torch.rand(4, 1, 20, 12) * 2 - 1
    labels = torch.tensor([0, 1, 2, 1])
    plain.eval()
    projecting.eval()
    with torch.no_grad():
        label_map = plain.label_to_image(plain.label_embedding(labels)).view(4, 1, 20, 12)
        features = plain.features(torch.cat([images, label_map], dim=1)).flatten(1)
        vectors = projecting.class_vectors.weight[labels]
        expected = plain(images, labels) + torch.einsum("nf,nf->n", vectors, features)
        assert torch.allclose(projecting(images, labels), expected, atol=1e-5)
    with pytest.raises(InputError, match="at least two classes"):
        build_gan("radiogan", dict(settings, num_classes=0, class_projection=True))


def test_brain_dcgan_structure_and_init_match_paper():
    generator, discriminator, _ = build_gan("brain_dcgan")
    assert len(_layers(generator, nn.ConvTranspose2d)) == 5
    assert isinstance(generator.upsample[-1], nn.Tanh)
    convs = _layers(discriminator, nn.Conv2d)
    assert len(convs) == 5 and all(c.kernel_size == (5, 5) and c.stride == (2, 2) for c in convs)
    assert all(m.negative_slope == 0.2 for m in _layers(discriminator, nn.LeakyReLU))
    weights = torch.cat([c.weight.detach().flatten() for c in _layers(generator, nn.ConvTranspose2d)])
    assert abs(float(weights.std()) - 0.02) < 0.002 and abs(float(weights.mean())) < 0.001  # N(0, 0.02)
    scales = torch.cat([bn.weight.detach() for bn in _layers(discriminator, nn.BatchNorm2d)])
    assert abs(float(scales.mean()) - 1.0) < 0.01  # N(1, 0.02)
    with pytest.raises(InputError, match="unconditional"):
        generator(generator.sample_latent(1), torch.tensor([0]))


def test_ct_generator_makes_40_and_64_pixels_from_the_same_weights():
    generator, discriminator, _ = build_gan("ct_gan")
    generator.eval()
    gen = torch.Generator().manual_seed(0)
    small = generator(generator.sample_latent_map(2, 40, 40, gen))
    large = generator(generator.sample_latent_map(2, 64, 64, gen))
    assert small.shape == (2, 1, 40, 40) and large.shape == (2, 1, 64, 64)
    assert generator.sample_latent_map(1, 40, 40).numel() == 100  # the paper's 100 noise numbers
    flat = generator.sample_latent(1, torch.Generator().manual_seed(5))
    as_map = flat.view(1, 1, 10, 10)
    assert torch.equal(generator(flat), generator(as_map))
    with pytest.raises(InputError, match="expects images of shape"):
        discriminator(large)  # the discriminator's dense layer is size-specific


def test_ct_generator_without_positions_repeats_itself_and_with_them_does_not():
    # A constant latent map: a fully convolutional generator is translation-equivariant, and its two stride-2
    # layers make the output repeat every 4 pixels; away from the zero-padded border, shifting the image by 4
    # pixels must give the same image. With position channels it must not.
    # (Training mode: BatchNorm rescales each layer, so the signal does not fade through the N(0, 0.02) weights.)
    plain, _, _ = build_gan("ct_gan", {"generator_channels": [8, 8, 8, 8, 8]})
    placed, _, _ = build_gan("ct_gan", {"generator_channels": [8, 8, 8, 8, 8], "latent_coordinates": True})
    flat = torch.full((1, 1, 10, 10), 0.3)
    with torch.no_grad():
        out_plain, out_placed = plain(flat)[0, 0], placed(flat)[0, 0]
    for image in (out_plain, out_placed):
        assert float(image[12:28, 12:28].abs().mean()) > 1e-3
    assert torch.allclose(out_plain[12:28, 12:28], out_plain[16:32, 16:32], atol=1e-5)
    shift = (out_placed[12:28, 12:28] - out_placed[16:32, 16:32]).abs().mean()
    assert float(shift) > 0.1 * float(out_placed[12:28, 12:28].abs().mean())
    # two extra input channels of the first transposed conv, nothing else changes
    first = _layers(placed, nn.ConvTranspose2d)[0]
    assert first.in_channels == 3 and _count(placed) - _count(plain) == 2 * 8 * 9
    assert placed(placed.sample_latent_map(1, 64, 64)).shape == (1, 1, 64, 64)


def test_ct_global_latents_reach_every_pixel_and_cell_noise_stays_local():
    generator, _, config = build_gan("ct_gan", {"generator_channels": [8, 8, 8, 8, 8], "global_latent_channels": 4})
    assert config.latent_dim == 100 + 4
    maps = generator.sample_latent_map(2, 64, 64, torch.Generator().manual_seed(1))
    assert maps.shape == (2, 5, 16, 16)
    assert torch.equal(maps[:, 1:], maps[:, 1:, :1, :1].expand(-1, -1, 16, 16))  # shared by every cell
    flat = generator.sample_latent(2, torch.Generator().manual_seed(2))
    by_hand = torch.cat([flat[:, :100].reshape(2, 1, 10, 10), flat[:, 100:, None, None].expand(-1, -1, 10, 10)], 1)
    generator.eval()
    with torch.no_grad():
        assert torch.equal(generator(flat), generator(by_hand))
        base = generator(flat[:1])
        one_cell = flat[:1].clone()
        one_cell[0, 0] += 1.0  # the top-left cell's noise
        shared = flat[:1].clone()
        shared[0, 100] += 1.0  # a global number
        local_change = (generator(one_cell) - base).abs()[0, 0]
        global_change = (generator(shared) - base).abs()[0, 0]
    assert float(local_change[20:, 20:].max()) == 0.0 and float(local_change[:4, :4].max()) > 0.0
    assert float(global_change[20:, 20:].min()) > 0.0 and float(global_change[:4, :4].min()) > 0.0


def test_ct_gan_structure_matches_paper():
    generator, discriminator, _ = build_gan("ct_gan")
    transposed = _layers(generator, nn.ConvTranspose2d)
    assert [t.out_channels for t in transposed] == [256, 128, 64, 32, 16, 1]
    assert [t.stride for t in transposed] == [(2, 2), (2, 2)] + [(1, 1)] * 4
    assert isinstance(generator.layers[-1], nn.ConvTranspose2d)  # linear output
    assert all(bn.momentum == pytest.approx(0.1) for bn in _layers(generator, nn.BatchNorm2d))  # Keras 0.9
    convs = _layers(discriminator, nn.Conv2d)
    assert [c.out_channels for c in convs] == [256, 128, 64, 32]
    assert [c.stride for c in convs] == [(2, 2)] + [(1, 1)] * 3
    assert all(d.p == 0.6 for d in _layers(discriminator, nn.Dropout))
    dense = _layers(discriminator, nn.Linear)
    assert [(d.in_features, d.out_features) for d in dense] == [(32 * 20 * 20, 128), (128, 1)]


def test_parameter_counts_match_hand_arithmetic_and_fit_the_budget():
    # CT generator by hand: transposed 3x3 convs 1->256->128->64->32->16->1 with bias, BN (scale, shift,
    # running mean, running var, batch counter) on all but the last.
    chain = [1, 256, 128, 64, 32, 16, 1]
    expected = sum(a * b * 9 + b for a, b in zip(chain, chain[1:], strict=False)) + sum(4 * c + 1 for c in chain[1:-1])
    generator, discriminator, _ = build_gan("ct_gan")
    assert _count(generator) == expected
    # CT discriminator: convs 1->256->128->64->32 3x3, dense 12800->128->1
    convs = [1, 256, 128, 64, 32]
    expected_d = sum(a * b * 9 + b for a, b in zip(convs, convs[1:], strict=False)) + 12800 * 128 + 128 + 128 + 1
    assert _count(discriminator) == expected_d
    total_mb = sum(4 * (_count(g) + _count(d)) for g, d, _ in (build_gan(n) for n in ARCHITECTURES)) / 1e6
    assert total_mb <= 30.0  # the three bundled default models, generator + discriminator, float32


def test_registry_errors_and_config_round_trip():
    with pytest.raises(InputError, match="Unknown GAN architecture 'stylegan'"):
        build_gan("stylegan")
    with pytest.raises(InputError, match="Unknown ct_gan setting"):
        config_from_dict("ct_gan", {"image_hieght": 40})
    for name in ARCHITECTURES:
        config = build_gan(name, TINY[name])[2]
        assert config_from_dict(name, config_to_dict(config)) == config


@pytest.mark.parametrize("norm", ["batch", "spectral"])
def test_radiogan_first_layer_equals_the_papers_stacked_convolution_in_values_and_gradients(norm):
    """The discriminator convolves the label channel once per class (a faster backward pass); its logits and every
    gradient must be those of the paper's convolution of the stacked (image, label map) input, written out here."""
    config = dict(TINY["radiogan"], discriminator_norm=norm, discriminator_dropout=0.0)
    torch.manual_seed(3)
    _, discriminator, _ = build_gan("radiogan", config)
    discriminator.eval()  # fixed BatchNorm statistics and spectral-norm vectors: both passes see the same weights
    images = (torch.rand(7, 1, 20, 12) * 2 - 1).requires_grad_(True)
    labels = torch.tensor([0, 1, 2, 3, 4, 2, 0])

    logits = discriminator(images, labels)
    grads = torch.autograd.grad(logits.square().sum(), [images, *discriminator.parameters()])

    first = discriminator.features[0]
    label_map = discriminator.label_to_image(discriminator.label_embedding(labels)).view(7, 1, 20, 12)
    stacked = torch.nn.functional.conv2d(torch.cat([images, label_map], dim=1), first.weight, first.bias,
                                         first.stride, first.padding)
    features = discriminator.features[1:](stacked).flatten(1)
    expected = discriminator.classify(features).squeeze(1)
    expected_grads = torch.autograd.grad(expected.square().sum(), [images, *discriminator.parameters()],
                                         allow_unused=True)

    torch.testing.assert_close(logits, expected, rtol=1e-5, atol=1e-7)
    assert grads[1].abs().sum() > 0  # the label path does get a gradient
    for got, want in zip(grads, expected_grads, strict=True):
        torch.testing.assert_close(got, want if want is not None else torch.zeros_like(got), rtol=1e-4, atol=1e-7)
