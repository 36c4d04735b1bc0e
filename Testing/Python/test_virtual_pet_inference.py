"""Whole-volume virtual-PET inference: geometry, slab equivalence, bounded memory, input checks."""

from __future__ import annotations

import json
import os
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

from MedGANSynthLib.errors import Cancelled, InputError
from MedGANSynthLib.jobs.progress import CancelToken
from MedGANSynthLib.networks.fcn4s import FCN4s, FCN4sConfig
from MedGANSynthLib.networks.unet_pix2pix import UNetConfig, UNetGenerator
from MedGANSynthLib.virtual_pet.inference import VirtualPETConfig, predict_virtual_pet
from MedGANSynthLib.volume import Volume

REPO_ROOT = Path(__file__).resolve().parents[2]
BENCHMARKS = REPO_ROOT / "Testing" / "Benchmarks"
sys.path.insert(0, str(BENCHMARKS))
from peak_rss import run_with_peak_rss  # noqa: E402


def tiny_networks(in_channels: int = 1, seed: int = 0):
    torch.manual_seed(seed)
    fcn = FCN4s(FCN4sConfig(in_channels=in_channels, width=0.0625, fc_channels=128, fc6_kernel=3,
                            output_activation="sigmoid"))
    gan = UNetGenerator(UNetConfig(in_channels=in_channels, depth=4, width=0.125))
    return fcn.eval(), gan.eval()


@pytest.fixture
def oblique_ct(oblique_volume, rng) -> Volume:
    """The conftest oblique, anisotropic geometry with CT values: air, a soft-tissue body, a bone, noise."""
    k, j, i = np.mgrid[0:9, 0:40, 36 - 36 : 36]
    body = ((j - 20) / 16.0) ** 2 + ((i - 18) / 14.0) ** 2 < 1.0
    bone = ((j - 24) / 4.0) ** 2 + ((i - 18) / 4.0) ** 2 < 1.0
    hu = np.where(body, 40.0, -1000.0) + np.where(bone, 700.0, 0.0) + rng.normal(0, 20, size=body.shape)
    return Volume(hu.astype(np.float32), spacing=oblique_volume.spacing, origin=oblique_volume.origin,
                  direction=oblique_volume.direction, modality="CT", units="HU")


def test_outputs_are_on_the_exact_ct_grid(oblique_ct):
    fcn, gan = tiny_networks()
    config = VirtualPETConfig(slab_size=4, return_fcn=True, return_gan=True, uncertainty_passes=2)
    result = predict_virtual_pet(oblique_ct, fcn, gan, config, device="cpu")
    for volume in (result.blended, result.fcn, result.gan, result.uncertainty):
        assert volume.array.shape == oblique_ct.array.shape
        assert volume.spacing == oblique_ct.spacing and volume.origin == oblique_ct.origin
        assert np.array_equal(volume.direction, oblique_ct.direction)
        assert volume.array.dtype == np.float32 and volume.units == "SUV"
        assert np.all(volume.array >= 0) and np.all(volume.array <= 20.0 + 1e-4)
    assert result.uncertainty.array.max() > 0  # dropout really varied the GAN output


def test_fcn_output_is_the_network_on_the_windowed_slice_scaled_to_suv(oblique_ct):
    fcn, gan = tiny_networks()
    result = predict_virtual_pet(oblique_ct, fcn, gan, VirtualPETConfig(return_fcn=True), device="cpu")
    # Paper window by hand: clip to [-160, 240] HU, scale to [0, 1]; sigmoid output x 20 = SUV.
    hu = oblique_ct.array[4].astype(np.float64)
    windowed = (np.minimum(np.maximum(hu, -160.0), 240.0) + 160.0) / 400.0
    with torch.no_grad():
        expected = fcn(torch.from_numpy(windowed).float()[None, None])[0, 0].numpy() * 20.0
    np.testing.assert_allclose(result.fcn.array[4], expected, atol=1e-4)


def test_blended_volume_is_the_pyramid_blend_of_the_fcn_and_gan_volumes(oblique_ct):
    """Wiring: FCN and GAN in SUV, mask = FCN > threshold (the blend itself is tested in test_blending.py)."""
    from MedGANSynthLib.virtual_pet.blending import laplacian_blend

    fcn, gan = tiny_networks()
    fcn_only = predict_virtual_pet(oblique_ct, fcn, gan, VirtualPETConfig(return_fcn=True), device="cpu").fcn
    # An untrained FCN is far from real SUVs; threshold at its median so both sides of the mask are exercised.
    threshold = float(np.median(fcn_only.array))
    config = VirtualPETConfig(return_fcn=True, return_gan=True, threshold_suv=threshold)
    result = predict_virtual_pet(oblique_ct, fcn, gan, config, device="cpu")
    expected = laplacian_blend(torch.from_numpy(result.fcn.array)[:, None],
                               torch.from_numpy(result.gan.array)[:, None], threshold_suv=threshold)[:, 0]
    np.testing.assert_allclose(result.blended.array, expected.numpy(), atol=1e-5)
    assert not np.allclose(result.blended.array, result.fcn.array, atol=1e-3)
    assert not np.allclose(result.blended.array, result.gan.array, atol=1e-3)


def test_blend_dilation_is_converted_from_millimetres_to_in_plane_pixels(oblique_ct):
    from MedGANSynthLib.virtual_pet.blending import laplacian_blend

    fcn, gan = tiny_networks()
    plain = predict_virtual_pet(oblique_ct, fcn, gan, VirtualPETConfig(return_fcn=True, return_gan=True),
                                device="cpu")
    threshold = float(np.quantile(plain.fcn.array, 0.9))
    # in-plane spacing 0.8 x 1.3 mm: 2.4 mm is 3 pixels of the finer axis
    config = VirtualPETConfig(return_fcn=True, return_gan=True, threshold_suv=threshold, blend_dilation_mm=2.4)
    result = predict_virtual_pet(oblique_ct, fcn, gan, config, device="cpu")
    expected = laplacian_blend(torch.from_numpy(result.fcn.array)[:, None], torch.from_numpy(result.gan.array)[:, None],
                               threshold_suv=threshold, dilation_px=3)[:, 0]
    np.testing.assert_allclose(result.blended.array, expected.numpy(), atol=1e-5)
    with pytest.raises(InputError, match="mask growth of 0 mm or more"):
        predict_virtual_pet(oblique_ct, fcn, gan, VirtualPETConfig(blend_dilation_mm=-1.0), device="cpu")


def test_the_veto_reaches_the_blend_of_every_slice(oblique_ct):
    from MedGANSynthLib.virtual_pet.blending import laplacian_blend

    fcn, gan = tiny_networks()
    plain = predict_virtual_pet(oblique_ct, fcn, gan, VirtualPETConfig(return_fcn=True, return_gan=True),
                                device="cpu")
    threshold = float(np.quantile(plain.gan.array, 0.9))
    veto = float(np.quantile(plain.fcn.array, 0.5))
    config = VirtualPETConfig(return_fcn=True, return_gan=True, threshold_suv=threshold, blend_veto_suv=veto)
    result = predict_virtual_pet(oblique_ct, fcn, gan, config, device="cpu")
    fcn_suv, gan_suv = (torch.from_numpy(image.array)[:, None] for image in (result.fcn, result.gan))
    expected = laplacian_blend(fcn_suv, gan_suv, threshold_suv=threshold, veto_suv=veto)[:, 0]
    np.testing.assert_allclose(result.blended.array, expected.numpy(), atol=1e-5)
    paper = laplacian_blend(fcn_suv, gan_suv, threshold_suv=threshold)[:, 0]
    assert not np.allclose(result.blended.array, paper.numpy(), atol=1e-3)  # the veto changed something
    with pytest.raises(InputError, match="veto level must be 0 SUV"):
        predict_virtual_pet(oblique_ct, fcn, gan, VirtualPETConfig(blend_veto_suv=-0.5), device="cpu")


def _three_slice_mean(array: np.ndarray) -> np.ndarray:
    """By hand: each slice averaged with its neighbours along axis 0, the edge slices repeated."""
    a = array.astype(np.float64)
    padded = np.concatenate([a[:1], a, a[-1:]])
    return (padded[:-2] + padded[1:-1] + padded[2:]) / 3.0


def test_slice_smoothing_averages_the_slices_within_the_length(oblique_ct):
    fcn, gan = tiny_networks(3)
    outputs = {"return_fcn": True, "return_gan": True}
    plain = predict_virtual_pet(oblique_ct, fcn, gan, VirtualPETConfig(**outputs), device="cpu")
    # the slices (k) are 2.5 mm apart: 5 mm reaches one neighbour on each side, 4.9 mm none
    for slab_size in (1, 9):
        smoothed = predict_virtual_pet(oblique_ct, fcn, gan, VirtualPETConfig(slab_size=slab_size,
                                       slice_smoothing_mm=5.0, **outputs), device="cpu")
        for name in ("blended", "fcn", "gan"):
            np.testing.assert_allclose(getattr(smoothed, name).array, _three_slice_mean(getattr(plain, name).array),
                                       atol=1e-5)
    narrow = predict_virtual_pet(oblique_ct, fcn, gan, VirtualPETConfig(slice_smoothing_mm=4.9), device="cpu")
    np.testing.assert_array_equal(narrow.blended.array, plain.blended.array)
    with pytest.raises(InputError, match="across slices must be 0 mm or more"):
        predict_virtual_pet(oblique_ct, fcn, gan, VirtualPETConfig(slice_smoothing_mm=-1.0), device="cpu")


def test_slice_smoothing_in_row_blocks_equals_the_whole_volume_average(rng):
    from MedGANSynthLib.virtual_pet.inference import average_across_slices

    volume = rng.normal(size=(4, 5, 6)).astype(np.float32)  # slices along the last array axis
    expected = np.moveaxis(_three_slice_mean(np.moveaxis(volume, 2, 0)), 0, 2)
    average_across_slices(np.moveaxis(volume, 2, 0), 3, block_bytes=1)  # writes through the view, a row per block
    np.testing.assert_allclose(volume, expected, atol=1e-6)


@pytest.mark.parametrize("in_channels", [1, 3])
def test_slab_inference_equals_whole_volume_inference(oblique_ct, in_channels):
    fcn, gan = tiny_networks(in_channels)
    whole = predict_virtual_pet(oblique_ct, fcn, gan, VirtualPETConfig(slab_size=9, return_gan=True), device="cpu")
    for slab_size in (1, 4):
        slabs = predict_virtual_pet(oblique_ct, fcn, gan, VirtualPETConfig(slab_size=slab_size, return_gan=True),
                                    device="cpu")
        np.testing.assert_allclose(slabs.blended.array, whole.blended.array, atol=1e-4)
        np.testing.assert_allclose(slabs.gan.array, whole.gan.array, atol=1e-4)


def test_slices_follow_the_superior_axis(oblique_ct):
    """A CT stored with k along P (coronal slices) is processed per axial plane: same answer, transposed."""
    fcn, gan = tiny_networks()
    axial = predict_virtual_pet(oblique_ct, fcn, gan, device="cpu")
    # Swap array axes 0 (k) and 1 (j): direction columns j and k swap, spacing too; same physical voxels.
    swapped = Volume(np.ascontiguousarray(np.swapaxes(oblique_ct.array, 0, 1)),
                     spacing=(oblique_ct.spacing[0], oblique_ct.spacing[2], oblique_ct.spacing[1]),
                     origin=oblique_ct.origin, direction=oblique_ct.direction[:, [0, 2, 1]], modality="CT")
    coronal = predict_virtual_pet(swapped, fcn, gan, VirtualPETConfig(slab_size=5), device="cpu")
    np.testing.assert_allclose(np.swapaxes(coronal.blended.array, 0, 1), axial.blended.array, atol=1e-4)


def test_working_pixel_size_resamples_in_plane_and_returns_the_ct_grid(oblique_ct):
    fcn, gan = tiny_networks()
    result = predict_virtual_pet(oblique_ct, fcn, gan, VirtualPETConfig(working_pixel_mm=2.0), device="cpu")
    assert result.blended.same_grid(oblique_ct)


def test_uncertainty_is_seeded(oblique_ct):
    fcn, gan = tiny_networks()
    config = VirtualPETConfig(uncertainty_passes=3, seed=7)
    first = predict_virtual_pet(oblique_ct, fcn, gan, config, device="cpu").uncertainty.array
    second = predict_virtual_pet(oblique_ct, fcn, gan, config, device="cpu").uncertainty.array
    np.testing.assert_array_equal(first, second)
    assert not any(m.training for m in gan.modules())  # dropout switched off again


def test_progress_and_cancel(oblique_ct):
    fcn, gan = tiny_networks()
    events = []
    predict_virtual_pet(oblique_ct, fcn, gan, VirtualPETConfig(slab_size=4), device="cpu", progress=events.append)
    assert [(e.done, e.total) for e in events] == [(0, 9), (4, 9), (8, 9), (9, 9)]
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        predict_virtual_pet(oblique_ct, fcn, gan, device="cpu", cancel=token)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda ct: ct.with_array(np.abs(ct.array) / 300.0, modality="PT", units="SUV"), "is a PET"),
        (lambda ct: ct.with_array(np.abs(ct.array) / 300.0, modality="", units=""), "holds no air"),
        (lambda ct: ct.with_array((ct.array > 0).astype(np.int16) + (ct.array > 500), modality="", units=""),
         "label map"),
        (lambda ct: ct.with_array(ct.array[:1]), "single 2-D image"),
        (lambda ct: ct.array[0], "needs a CT volume"),
        (lambda ct: ct.with_array(np.where(ct.array > 500, np.nan, ct.array)), "NaN"),
    ],
    ids=["pet-metadata", "pet-values", "label-map", "2d-volume", "2d-array", "nan"],
)
def test_bad_inputs_are_refused_with_clear_messages(oblique_ct, make, message):
    fcn, gan = tiny_networks()
    with pytest.raises(InputError, match=message) as caught:
        predict_virtual_pet(make(oblique_ct), fcn, gan, device="cpu")
    assert "\n" not in str(caught.value)


def test_real_ct_gives_a_virtual_pet_on_its_grid_and_a_real_pet_is_refused():
    from conftest import shared_data_path

    from MedGANSynthLib.io.volume_io import read_volume

    ct = read_volume(shared_data_path("ct-nifti", "example_ct_sm.nii.gz"))  # int16 HU, 30 x 101 x 122, 3 mm
    fcn, gan = tiny_networks(in_channels=3)
    result = predict_virtual_pet(ct, fcn, gan, VirtualPETConfig(slab_size=8, return_fcn=True), device="cpu")
    assert result.blended.same_grid(ct) and np.array_equal(result.fcn.direction, ct.direction)
    assert np.all(np.isfinite(result.blended.array))
    brain_pet = read_volume(shared_data_path("brain-pet-template", "PET.nii"))  # 0..1, no modality tag
    with pytest.raises(InputError, match="holds no air"):
        predict_virtual_pet(brain_pet, fcn, gan, device="cpu")


MEMORY_SCRIPT = textwrap.dedent("""
    import json, sys, time
    import numpy as np, torch
    from peak_rss import own_peak_rss_bytes
    from MedGANSynthLib.networks.fcn4s import FCN4s, FCN4sConfig
    from MedGANSynthLib.networks.unet_pix2pix import UNetConfig, UNetGenerator
    from MedGANSynthLib.virtual_pet.inference import VirtualPETConfig, predict_virtual_pet
    from MedGANSynthLib.volume import Volume
    torch.set_num_threads(2)
    slices = int(sys.argv[1])
    torch.manual_seed(0)
    fcn = FCN4s(FCN4sConfig(width=0.0625, fc_channels=128, fc6_kernel=3)).eval()
    gan = UNetGenerator(UNetConfig(depth=5, width=0.125)).eval()
    predict_virtual_pet(Volume(np.full((2, 512, 512), -1000.0, np.float32) + np.eye(512)[None] * 1040),
                        fcn, gan, device="cpu")  # warm up torch's allocator and kernels
    ct = np.full((slices, 512, 512), -1000, np.int16)
    ct[:, 100:400, 120:390] = 40
    baseline_mb = own_peak_rss_bytes() / 2**20
    start = time.perf_counter()
    result = predict_virtual_pet(Volume(ct, spacing=(0.8, 0.8, 2.0), modality="CT", units="HU"), fcn, gan,
                                 VirtualPETConfig(slab_size=8), device="cpu")
    seconds = time.perf_counter() - start
    print(json.dumps({"baseline_mb": baseline_mb, "seconds": seconds,
                      "ct_mb": ct.nbytes / 2**20, "output_mb": result.blended.array.nbytes / 2**20}))
""")


@pytest.mark.slow
def test_memory_stays_bounded_on_a_large_ct(tmp_path):
    """120 x 512 x 512 int16 CT, blended output only: peak RSS = baseline + CT + output + one slab."""
    script = tmp_path / "memory.py"
    script.write_text(MEMORY_SCRIPT)
    run = run_with_peak_rss([sys.executable, str(script), "120"], timeout=600, cwd=REPO_ROOT,
                            env={**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), str(BENCHMARKS)])})
    assert run.returncode == 0, run.stderr[-2000:]
    # The script's own peak: a plain child's ru_maxrss would also hold the test runner's.
    numbers = {**json.loads(run.stdout.strip().splitlines()[-1]), "peak_mb": run.peak_rss_bytes / 2**20}
    print(numbers)
    # The baseline already holds the CT; inference may add the float32 output and one slab. 500 MB of slack
    # (295 MB measured at 512 x 512, slab 8) for the networks' activations at 512 x 512 and the allocator.
    slab_overhead = numbers["peak_mb"] - numbers["baseline_mb"] - numbers["output_mb"]
    assert slab_overhead <= 500
    # Extrapolated to 600 slices with a float32 CT (4 bytes x 600 slices vs 2 bytes x 120) and 5x the output.
    without_ct = numbers["baseline_mb"] - numbers["ct_mb"]
    projected = without_ct + 10 * numbers["ct_mb"] + 5 * numbers["output_mb"] + slab_overhead
    assert projected <= 4096


def test_automatic_slab_size_follows_the_pixel_budget():
    from MedGANSynthLib.virtual_pet.inference import SLAB_PIXEL_BUDGET, slices_per_slab

    assert SLAB_PIXEL_BUDGET == 16 * 128 * 128
    assert [slices_per_slab(shape) for shape in ((128, 128), (256, 256), (512, 512), (1024, 1024))] == [16, 4, 1, 1]


def _randomise_batch_norms(model: torch.nn.Module, seed: int = 1) -> None:
    """Running statistics and affine parameters far from the identity, so folding them really changes weights."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                for tensor, low, high in ((module.running_mean, -0.5, 0.5), (module.running_var, 0.2, 3.0),
                                          (module.weight, 0.5, 1.5), (module.bias, -0.3, 0.3)):
                    tensor.copy_(low + (high - low) * torch.rand(tensor.shape, generator=generator))


@pytest.mark.parametrize("upsampling", ["transposed", "resize"])
@pytest.mark.parametrize("size", [(32, 32), (37, 45)])
def test_inference_copies_give_the_plain_eval_networks_outputs(upsampling, size):
    from MedGANSynthLib.virtual_pet.inference_networks import inference_copy

    torch.manual_seed(0)
    fcn = FCN4s(FCN4sConfig(in_channels=3, width=0.0625, fc_channels=64, fc6_kernel=3))
    gan = UNetGenerator(UNetConfig(in_channels=3, depth=4, width=0.125, upsampling=upsampling,
                                   output_activation="none"))
    _randomise_batch_norms(gan)
    before = {name: tensor.clone() for name, tensor in gan.state_dict().items()}
    x = torch.rand(3, 3, *size)
    for model in (fcn, gan):
        model.train()  # the copy must run in eval mode whatever the caller left the model in
        fast = inference_copy(model)
        assert model.training  # ... and leave the caller's model as it was
        with torch.no_grad():
            expected = model.eval()(x)
        with torch.inference_mode():
            got = fast(x)
        torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-5)
        assert fast.config == model.config
    assert all(torch.equal(gan.state_dict()[name], tensor) for name, tensor in before.items())
    # The copy really is the optimised one: no BatchNorm or resize left, channels_last weights.
    kinds = {type(module) for module in inference_copy(gan).modules()}
    assert torch.nn.BatchNorm2d not in kinds and torch.nn.Upsample not in kinds
    assert all(p.is_contiguous(memory_format=torch.channels_last) for p in inference_copy(fcn).parameters()
               if p.dim() == 4)


def test_uncertainty_passes_draw_the_plain_networks_dropout_masks(oblique_ct):
    """The dropout passes run on the plain GAN: the same seeded samples as the GAN itself in MC-dropout mode."""
    from MedGANSynthLib.networks.unet_pix2pix import enable_mc_dropout
    from MedGANSynthLib.virtual_pet.inference import _slab_tensor, network_output_to_suv

    fcn, gan = tiny_networks()
    result = predict_virtual_pet(oblique_ct, fcn, gan, VirtualPETConfig(uncertainty_passes=3, seed=5), device="cpu")
    slices = np.moveaxis(oblique_ct.array, oblique_ct.axis_along(2), 0)
    slab = _slab_tensor(slices, 0, slices.shape[0], 0, (-160.0, 240.0))
    enable_mc_dropout(gan)
    torch.manual_seed(5)
    with torch.no_grad():
        samples = torch.stack([network_output_to_suv(gan(slab), gan.config.output_range) for _ in range(3)])
    expected = samples.std(dim=0, unbiased=False)[:, 0].numpy()
    got = np.moveaxis(result.uncertainty.array, oblique_ct.axis_along(2), 0)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


def test_automatic_slabs_count_the_pixels_the_networks_see():
    """A 512² CT of 1 mm pixels run at 4 mm works on 128² slices: SLAB_PIXEL_BUDGET / 128² = 16 slices per batch,
    not the single 512² slice the CT's own size allows (progress reports once per slab)."""
    from MedGANSynthLib.virtual_pet.inference import SLAB_PIXEL_BUDGET

    fcn, gan = tiny_networks()
    ct = Volume(np.full((20, 512, 512), -1000, np.int16), (1.0, 1.0, 3.0), (0.0, 0.0, 0.0), modality="CT", units="HU")
    ct.array[:, 100:400, 150:350] = 40
    events = []
    predict_virtual_pet(ct, fcn, gan, VirtualPETConfig(working_pixel_mm=4.0), device="cpu", progress=events.append)
    per_slab = SLAB_PIXEL_BUDGET // (128 * 128)
    assert [e.done for e in events] == [0, per_slab, 20]


@pytest.mark.parametrize(("start", "stop"), [(0, 3), (2, 6), (5, 6)])
def test_slab_channels_are_the_windowed_neighbours_with_edges_repeated(start, stop):
    from MedGANSynthLib.virtual_pet.inference import CT_WINDOW_HU, _slab_tensor

    slices = (np.arange(6, dtype=np.int16)[:, None, None] * 100 - 300) * np.ones((1, 2, 3), np.int16)
    slab = _slab_tensor(slices, start, stop, context=2, window=CT_WINDOW_HU).numpy()
    for row, k in enumerate(range(start, stop)):
        for channel, offset in enumerate(range(-2, 3)):
            hu = (min(max(k + offset, 0), 5)) * 100 - 300  # the neighbour, the edge slice beyond the volume
            expected = (min(max(hu, -160), 240) + 160) / 400  # the paper's window [-160, 240] HU -> [0, 1]
            np.testing.assert_allclose(slab[row, channel], expected, rtol=1e-6)


def test_slab_resampled_slice_by_slice_equals_the_gathered_slab_resampled():
    import torch.nn.functional as F

    from MedGANSynthLib.virtual_pet.inference import CT_WINDOW_HU, _slab_tensor

    slices = np.random.default_rng(3).integers(-1000, 1500, (7, 40, 36)).astype(np.int16)
    gathered = _slab_tensor(slices, 1, 6, context=2, window=CT_WINDOW_HU)
    expected = F.interpolate(gathered, size=(17, 23), mode="bilinear", align_corners=False)
    resampled = _slab_tensor(slices, 1, 6, context=2, window=CT_WINDOW_HU, size=(17, 23))
    np.testing.assert_array_equal(resampled.numpy(), expected.numpy())
