"""Virtual-PET networks (FCN-4s, pix2pix U-Net, 70x70 PatchGAN) and the SUV-weighted loss."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.networks.fcn4s import FCN4s, FCN4sConfig, load_vgg16_weights
from MedGANSynthLib.networks.patchgan import PatchGANConfig, PatchGANDiscriminator, receptive_field
from MedGANSynthLib.networks.unet_pix2pix import UNetConfig, UNetGenerator
from MedGANSynthLib.virtual_pet.losses import adversarial_bce, suv_weighted_l2

TINY_FCN = FCN4sConfig(width=0.0625, fc_channels=256, fc6_kernel=3)
TINY_UNET = UNetConfig(depth=4, width=0.125)


@pytest.mark.parametrize("size", [(32, 32), (37, 45), (64, 19)])
@pytest.mark.parametrize("channels", [1, 3])
def test_tiny_networks_keep_the_input_size(size, channels):
    torch.manual_seed(0)
    x = torch.rand(2, channels, *size)
    fcn = FCN4s(FCN4sConfig(in_channels=channels, width=0.0625, fc_channels=256, fc6_kernel=3)).eval()
    unet = UNetGenerator(UNetConfig(in_channels=channels, depth=4, width=0.125)).eval()
    with torch.no_grad():
        assert fcn(x).shape == (2, 1, *size)
        assert unet(x).shape == (2, 1, *size)
        assert float(unet(x).abs().max()) <= 1.0  # tanh output for normalised SUV in [-1, 1]


@pytest.mark.parametrize("size", [(32, 32), (37, 45)])
def test_resize_upsampling_keeps_sizes_and_has_no_transposed_convolutions(size):
    torch.manual_seed(0)
    unet = UNetGenerator(UNetConfig(in_channels=3, depth=4, width=0.125, upsampling="resize")).eval()
    assert not any(isinstance(m, torch.nn.ConvTranspose2d) for m in unet.modules())
    with torch.no_grad():
        assert unet(torch.rand(2, 3, *size)).shape == (2, 1, *size)
    with pytest.raises(InputError, match="upsampling"):
        UNetGenerator(UNetConfig(upsampling="pixelshuffle"))


def test_resize_upsampling_of_a_constant_map_has_no_checkerboard():
    """Odena et al.: a 4x4 stride-2 transposed conv gives the four pixels of each 2x2 cell different weight sums,
    so a constant input comes out as a period-2 pattern; nearest resize + conv gives a constant interior."""
    torch.manual_seed(0)
    constant = torch.ones(1, 4, 8, 8)
    transposed = torch.nn.ConvTranspose2d(4, 1, 4, stride=2, padding=1, bias=False)
    resized = torch.nn.Sequential(torch.nn.Upsample(scale_factor=2), torch.nn.Conv2d(4, 1, 3, padding=1, bias=False))
    from MedGANSynthLib.networks.unet_pix2pix import _upsample_conv

    ours = _upsample_conv(4, 1, "resize", bias=False)
    ours[1].weight.data.copy_(resized[1].weight.data)
    with torch.no_grad():
        interior_t = transposed(constant)[0, 0, 2:-2, 2:-2]
        interior_r = ours(constant)[0, 0, 2:-2, 2:-2]
    assert float(interior_t.max() - interior_t.min()) > 1e-3  # the checkerboard exists for the paper's layer
    assert float(interior_r.max() - interior_r.min()) < 1e-6
    assert torch.allclose(ours(constant), resized(constant))


def test_paper_configurations_give_256_outputs_and_paper_sizes():
    # Meta tensors: shapes only, no memory or arithmetic, so the 134 M-parameter paper FCN costs nothing.
    with torch.device("meta"):
        fcn, unet, patch = FCN4s(FCN4sConfig()), UNetGenerator(UNetConfig()), PatchGANDiscriminator()
        x = torch.empty(1, 1, 256, 256)
        assert fcn(x).shape == (1, 1, 256, 256)
        assert unet(x).shape == (1, 1, 256, 256)
        # 256 -> 128 -> 64 -> 32 (stride 2), -> 31 -> 30 (4x4, stride 1, padding 1): pix2pix's 30x30 patch map.
        assert patch(x, x).shape == (1, 1, 30, 30)
    # VGG-16 convolutions: 3x3 kernels, channels 64-128-256-512-512 with 2,2,3,3,3 layers (Simonyan & Zisserman).
    convs = fcn.vgg_convolutions()
    assert [c.out_channels for c in convs] == [64] * 2 + [128] * 2 + [256] * 3 + [512] * 6
    assert all(c.kernel_size == (3, 3) for c in convs)
    assert fcn.fc6[0].kernel_size == (7, 7) and fcn.fc7[0].kernel_size == (1, 1)
    # U-Net: 8 encoder convs C64-...-C512 and 8 transposed convs, all 4x4 stride 2.
    assert [layer[0].out_channels for layer in unet.encoder] == [64, 128, 256, 512, 512, 512, 512, 512]
    ups = [layer[0] for layer in unet.decoder] + [unet.final]
    assert [u.in_channels for u in ups] == [512, 1024, 1024, 1024, 1024, 512, 256, 128]
    assert all(u.kernel_size == (4, 4) and u.stride == (2, 2) for u in ups)
    assert [any(isinstance(m, torch.nn.Dropout) for m in layer) for layer in unet.decoder] == [True] * 3 + [False] * 4
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in unet.encoder[0])
    # Reference pix2pix unet_256 (ngf 64, 1 in, 1 out) has 54,408,385 parameters: count them by layer shapes.
    expected = 0
    enc = [64, 128, 256, 512, 512, 512, 512, 512]
    for i, c in enumerate(enc):
        expected += (1 if i == 0 else enc[i - 1]) * c * 16 + (c if i in (0, 7) else 2 * c)  # bias or BN affine
    dec_out = [512, 512, 512, 512, 256, 128, 64]
    dec_in = [512] + [2 * c for c in dec_out[:-1]]
    expected += sum(i * o * 16 + 2 * o for i, o in zip(dec_in, dec_out, strict=True)) + 128 * 16 + 1
    assert sum(p.numel() for p in unet.parameters()) == expected == 54_408_385


def test_patchgan_receptive_field_is_70_by_arithmetic_and_by_gradient():
    # Independent arithmetic: five 4x4 layers with strides 2, 2, 2, 1, 1; walk back from one output pixel.
    field, jump = 1, 1
    for stride in (2, 2, 2, 1, 1):
        field += (4 - 1) * jump
        jump *= stride
    assert field == 70 == receptive_field(PatchGANConfig())
    # Empirical: the input pixels whose gradient reaches one interior logit form a 70x70 square.
    torch.manual_seed(0)
    model = PatchGANDiscriminator(PatchGANConfig(width=0.125)).eval()
    ct = torch.rand(1, 1, 160, 160, requires_grad=True)
    pet = torch.rand(1, 1, 160, 160)
    logits = model(ct, pet)
    logits[0, 0, 8, 8].backward()
    rows, cols = np.nonzero(ct.grad[0, 0].numpy())
    assert rows.max() - rows.min() + 1 == 70 and cols.max() - cols.min() + 1 == 70


@pytest.mark.parametrize("skip", ["score_pool2", "score_pool3", "score_pool4"])
def test_fcn4s_uses_pool2_pool3_and_pool4_skips(skip):
    torch.manual_seed(1)
    model = FCN4s(TINY_FCN).eval()
    x = torch.rand(1, 1, 64, 64)
    with torch.no_grad():
        reference = model(x)
        handle = getattr(model, skip).register_forward_hook(lambda module, args, out: torch.zeros_like(out))
        without = model(x)
        handle.remove()
    assert (reference - without).abs().max() > 1e-4
    # Pool2 has stride 4, so its score map is 1/4 of the input per side before the last x4 upsampling.
    shapes = {}

    def record(module, args, out):
        shapes["s"] = out.shape

    hook = model.score_pool2.register_forward_hook(record)
    with torch.no_grad():
        model(x)
    hook.remove()
    assert shapes["s"][-2:] == (16, 16)


def test_upsampling_layers_start_bilinear():
    model = FCN4s(TINY_FCN)
    # Upsampling a constant map by a bilinear x2 kernel gives the same constant away from the border.
    constant = torch.full((1, 1, 6, 6), 3.0)
    with torch.no_grad():
        up2, up4 = model.up_to_pool4(constant), model.up_to_input(constant)
    assert up2.shape[-1] == 12 and up4.shape[-1] == 24
    assert torch.allclose(up2[..., 2:-2, 2:-2], torch.tensor(3.0))
    assert torch.allclose(up4[..., 4:-4, 4:-4], torch.tensor(3.0))


def test_vgg16_weights_load_from_a_local_torchvision_file(tmp_path):
    generator = torch.Generator().manual_seed(3)
    state, index, previous = {}, 0, 3
    for n_convs, channels in ((2, 64), (2, 128), (3, 256), (3, 512), (3, 512)):
        for _ in range(n_convs):  # torchvision indices: conv at i, ReLU at i+1, pool after each block
            state[f"features.{index}.weight"] = torch.randn(channels, previous, 3, 3, generator=generator)
            state[f"features.{index}.bias"] = torch.randn(channels, generator=generator)
            previous, index = channels, index + 2
        index += 1
    path = tmp_path / "vgg16.safetensors"
    save_file(state, str(path))
    model = FCN4s(FCN4sConfig(in_channels=3, fc_channels=8, fc6_kernel=1))
    loaded = load_vgg16_weights(model, path)
    assert len(loaded) == 13 and loaded[-1] == "features.28"
    assert torch.equal(model.block5[4].weight, state["features.28.weight"])
    # A one-channel model gets the RGB filters summed over colour: grey input gives VGG's response.
    grey = FCN4s(FCN4sConfig(in_channels=1, fc_channels=8, fc6_kernel=1))
    torch.save(state, tmp_path / "vgg16.pth")
    load_vgg16_weights(grey, tmp_path / "vgg16.pth")
    assert torch.allclose(grey.block1[0].weight[:, 0], state["features.0.weight"].sum(dim=1))
    with pytest.raises(InputError, match="width=1"):
        load_vgg16_weights(FCN4s(FCN4sConfig(in_channels=3, width=0.5, fc_channels=8)), path)
    with pytest.raises(InputError, match="does not exist"):
        load_vgg16_weights(model, tmp_path / "missing.safetensors")


def test_suv_weighted_l2_matches_hand_arithmetic():
    pred = torch.tensor([[0.10, 0.50], [0.00, 0.30]])
    target = torch.tensor([[0.00, 0.40], [0.10, 0.30]])
    true_suv = torch.tensor([[0.0, 8.0], [30.0, 2.0]])
    # w = 1 + clip(SUV, 0, 20) = 1, 9, 21, 3; squared errors 0.01, 0.01, 0.01, 0.
    expected = (1 * 0.01 + 9 * 0.01 + 21 * 0.01 + 3 * 0.0) / (1 + 9 + 21 + 3)
    assert math.isclose(float(suv_weighted_l2(pred, target, true_suv)), expected, rel_tol=1e-6)


def test_suv_weight_power_squares_the_weights_by_hand():
    pred = torch.tensor([[0.10, 0.50], [0.00, 0.30]])
    target = torch.tensor([[0.00, 0.40], [0.10, 0.30]])
    true_suv = torch.tensor([[0.0, 8.0], [30.0, 2.0]])
    # w = (1 + clip(SUV, 0, 20))^2 = 1, 81, 441, 9; squared errors 0.01, 0.01, 0.01, 0.
    expected = (1 * 0.01 + 81 * 0.01 + 441 * 0.01 + 9 * 0.0) / (1 + 81 + 441 + 9)
    got = suv_weighted_l2(pred, target, true_suv, weight_power=2.0)
    assert math.isclose(float(got), expected, rel_tol=1e-6)


def test_symmetric_weight_takes_the_hotter_of_truth_and_prediction_by_hand():
    pred = torch.tensor([0.10, 0.50, 0.30])
    target = torch.tensor([0.00, 0.40, 0.30])
    true_suv = torch.tensor([0.5, 8.0, 2.0])
    predicted_suv = torch.tensor([6.0, 3.0, 25.0])  # a hot spot on cold tissue, an under-call, an over-call
    # w = 1 + clip(max(true, predicted), 0, 20) = 7, 9, 21; squared errors 0.01, 0.01, 0.
    expected = (7 * 0.01 + 9 * 0.01 + 21 * 0.0) / (7 + 9 + 21)
    got = suv_weighted_l2(pred, target, true_suv, predicted_suv=predicted_suv)
    assert math.isclose(float(got), expected, rel_tol=1e-6)
    paper = (1.5 * 0.01 + 9 * 0.01) / (1.5 + 9 + 3)  # the paper's weight ignores the false hot spot
    assert math.isclose(float(suv_weighted_l2(pred, target, true_suv)), paper, rel_tol=1e-6)


def test_adversarial_bce_matches_hand_arithmetic():
    logits = torch.tensor([0.0, 2.0])
    # -log(sigmoid(x)) = log(1 + e^-x); -log(1 - sigmoid(x)) = log(1 + e^x)
    real = (math.log(2.0) + math.log(1 + math.exp(-2.0))) / 2
    fake = (math.log(2.0) + math.log(1 + math.exp(2.0))) / 2
    assert math.isclose(float(adversarial_bce(logits, real=True)), real, rel_tol=1e-6)
    assert math.isclose(float(adversarial_bce(logits, real=False)), fake, rel_tol=1e-6)


def test_pix2pix_losses_combine_the_terms_by_hand():
    from MedGANSynthLib.virtual_pet.losses import discriminator_loss, generator_loss

    fake, real = torch.tensor([0.0, 2.0]), torch.tensor([1.0, -1.0])
    pred, target, suv = torch.tensor([0.2, 0.4]), torch.tensor([0.0, 0.4]), torch.tensor([4.0, 0.0])
    # G: -mean(log sigmoid(fake)) + 100 * (5 * 0.04 + 1 * 0) / (5 + 1)
    g = (math.log(2.0) + math.log(1 + math.exp(-2.0))) / 2 + 100 * (5 * 0.04) / 6
    assert math.isclose(float(generator_loss(fake, suv_weighted_l2(pred, target, suv))), g, rel_tol=1e-5)
    # D: half of [-mean(log sigmoid(real)) - mean(log(1 - sigmoid(fake)))]
    d_real = (math.log(1 + math.exp(-1.0)) + math.log(1 + math.exp(1.0))) / 2
    d_fake = (math.log(2.0) + math.log(1 + math.exp(2.0))) / 2
    assert math.isclose(float(discriminator_loss(real, fake)), 0.5 * (d_real + d_fake), rel_tol=1e-6)


def test_lsgan_losses_are_the_squared_errors_of_the_patch_logits_by_hand():
    from MedGANSynthLib.virtual_pet.losses import discriminator_loss, generator_loss

    real = torch.tensor([[[[1.5, -0.5], [1.0, 0.0]]]])  # 2 x 2 patch outputs of a PatchGAN
    fake = torch.tensor([[[[0.5, -1.0], [2.0, 0.0]]]])
    pred, target, suv = torch.tensor([0.2, 0.4]), torch.tensor([0.0, 0.4]), torch.tensor([4.0, 0.0])
    # D: 0.5 * [mean((real - 1)^2) + mean(fake^2)] = 0.5 * [(0.25 + 2.25 + 0 + 1) / 4 + (0.25 + 1 + 4 + 0) / 4]
    d = 0.5 * (3.5 / 4 + 5.25 / 4)
    assert math.isclose(float(discriminator_loss(real, fake, "lsgan")), d, rel_tol=1e-6)
    # G: mean((fake - 1)^2) = (0.25 + 4 + 1 + 1) / 4, plus 100 x the SUV-weighted L2 (5 * 0.04) / (5 + 1), unchanged
    g = 6.25 / 4 + 100 * (5 * 0.04) / 6
    assert math.isclose(float(generator_loss(fake, suv_weighted_l2(pred, target, suv), gan_loss="lsgan")), g,
                        rel_tol=1e-6)
    # D at its optimum (real patches 1, fake 0) costs nothing; G then pays 1 per patch
    ones, zeros = torch.ones(1, 1, 2, 2), torch.zeros(1, 1, 2, 2)
    assert float(discriminator_loss(ones, zeros, "lsgan")) == 0.0
    assert float(generator_loss(zeros, torch.tensor(0.0), gan_loss="lsgan")) == 1.0


def test_an_unknown_gan_loss_is_refused_in_one_line():
    from MedGANSynthLib.virtual_pet.losses import discriminator_loss, generator_loss

    logits = torch.zeros(1, 1, 2, 2)
    with pytest.raises(InputError, match="--gan-loss must be one of bce, lsgan"):
        discriminator_loss(logits, logits, "hinge")
    with pytest.raises(InputError, match="--gan-loss must be one of bce, lsgan"):
        generator_loss(logits, torch.tensor(0.0), gan_loss="hinge")


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("size", [(1, 1), (5, 8)])
def test_subpixel_conv_equals_nearest_resize_then_conv(bias, size):
    from MedGANSynthLib.networks.layers import resize_conv
    from MedGANSynthLib.networks.subpixel import SubpixelConv, is_resize_conv

    torch.manual_seed(0)
    resize = resize_conv(3, 4, bias=bias)
    x = torch.randn(2, 3, *size)
    assert is_resize_conv(resize)
    with torch.no_grad():
        expected = resize(x)
        got = SubpixelConv(resize[1])(x)
    assert got.shape == expected.shape == (2, 4, 2 * size[0], 2 * size[1])
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)


def test_only_exact_resize_convolutions_are_recognised():
    from MedGANSynthLib.networks.subpixel import is_resize_conv

    nearest, bilinear = torch.nn.Upsample(scale_factor=2), torch.nn.Upsample(scale_factor=2, mode="bilinear")
    conv3 = torch.nn.Conv2d(2, 2, 3, padding=1)
    assert is_resize_conv(torch.nn.Sequential(nearest, conv3))
    assert not is_resize_conv(torch.nn.Sequential(bilinear, conv3))
    assert not is_resize_conv(torch.nn.Sequential(torch.nn.Upsample(scale_factor=3), conv3))
    assert not is_resize_conv(torch.nn.Sequential(nearest, torch.nn.Conv2d(2, 2, 3, padding=1, stride=2)))
    assert not is_resize_conv(torch.nn.Sequential(nearest, torch.nn.Conv2d(2, 2, 5, padding=2)))
