"""Virtual-PET training on the shared engine: slices, sampling rule, learning, exact resume, weights on disk."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.phantoms.wholebody import WholeBodyConfig, make_wholebody_case
from MedGANSynthLib.phantoms.writer import write_case
from MedGANSynthLib.training.engine import StepContext, Trainer, TrainerConfig, seed_everything
from MedGANSynthLib.virtual_pet.cases import discover_cases, load_case
from MedGANSynthLib.virtual_pet.slice_dataset import SliceDatasetConfig, VirtualPETSliceDataset
from MedGANSynthLib.virtual_pet.training_task import (
    FCNTask,
    Pix2PixTask,
    VirtualPETNetworkSettings,
    VirtualPETTask,
    build_networks,
    sample_batch_from,
)
from MedGANSynthLib.virtual_pet.weights import ARCHITECTURE, load_virtual_pet, save_virtual_pet
from MedGANSynthLib.weights.model_card import ModelCard, phantom_training_data

TINY = VirtualPETNetworkSettings(in_channels=3, width_fcn=0.0625, fc_channels=256, fc6_kernel=3, width_gan=0.0625,
                                 depth=4)


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    root = tmp_path_factory.mktemp("vpet_cases")
    config = WholeBodyConfig().with_voxel_mm(8.0)
    for number, (seed, label) in enumerate(((7, "lymphoma"), (8, "lung"))):
        write_case(make_wholebody_case(seed, label, config, version=1), root / f"wholebody_{number:04d}_{label}")
    return [load_case(case) for case in discover_cases(root)]


@pytest.fixture(scope="module")
def dataset(cases):
    return VirtualPETSliceDataset(cases, SliceDatasetConfig(context_slices=1, slice_size=32, lesion_repeats=3))


def test_native_slices_are_the_windowed_ct_with_neighbours_and_clipped_suv(cases):
    native = VirtualPETSliceDataset(cases[:1], SliceDatasetConfig(context_slices=1, slice_size=None))
    hu, suv = cases[0].ct.array, cases[0].suv.array  # axis-aligned phantom: array axis 0 is superior-inferior
    for slice_number in (0, 40):
        item = native.slice_pair(0, slice_number)
        neighbours = np.clip([slice_number - 1, slice_number, slice_number + 1], 0, hu.shape[0] - 1)
        expected_ct = np.clip((hu[neighbours] + 160.0) / 400.0, 0.0, 1.0)   # paper window [-160, 240] HU
        np.testing.assert_allclose(item["ct"].numpy(), expected_ct, atol=1e-6)
        np.testing.assert_allclose(item["suv"].numpy()[0], np.clip(suv[slice_number], 0.0, 20.0), atol=1e-6)
    assert item["ct"].dtype == torch.float32 and item["ct"].shape == (3, 62, 62)


def test_only_body_slices_and_lesion_slices_repeated(cases, dataset):
    expected = []
    for number, case in enumerate(cases):
        body = (case.ct.array > -500).mean(axis=(1, 2)) >= 0.02
        lesion = case.lesions.array.reshape(case.lesions.array.shape[0], -1).max(axis=1) > 0
        for s in np.flatnonzero(body):
            expected += [(number, int(s))] * (3 if lesion[s] else 1)
    assert dataset.index == expected
    assert 0 < len(dataset.lesion_slices()) < len(set(dataset.index))
    item = dataset[0]
    assert item["ct"].shape == (3, 32, 32) and item["suv"].shape == (1, 32, 32)
    assert dataset.pixel_mm == pytest.approx(500.0 / 32, rel=1e-3)  # 62 px x 8.06 mm field of view over 32 px


CROP = 24


@pytest.fixture(scope="module")
def cropped(cases):
    """Native 62 x 62 slices (8 mm phantoms) cut to 24 x 24 windows."""
    return VirtualPETSliceDataset(cases, SliceDatasetConfig(context_slices=1, slice_size=None, crop_size=CROP,
                                                            crop_seed=5))


def test_crops_are_windows_of_the_windowed_slice_and_lesion_windows_hold_a_lesion(cases, cropped):
    lesion_items = 0
    for item in range(0, len(cropped), 7):
        case_number, slice_number = cropped.index[item]
        top, left = cropped.crop_origin(item)
        window = np.s_[top : top + CROP, left : left + CROP]
        hu = cases[case_number].ct.array
        neighbours = np.clip([slice_number - 1, slice_number, slice_number + 1], 0, hu.shape[0] - 1)
        expected_ct = np.clip((hu[neighbours] + 160.0) / 400.0, 0.0, 1.0)[(slice(None), *window)]
        pair = cropped[item]
        assert pair["ct"].shape == (3, CROP, CROP) and pair["suv"].shape == (1, CROP, CROP)
        np.testing.assert_allclose(pair["ct"].numpy(), expected_ct, atol=1e-6)
        labels = cases[case_number].lesions.array[slice_number]
        if labels.any():
            lesion_items += 1
            assert labels[window].any(), (item, top, left)
    assert lesion_items > 5


def test_crop_windows_depend_on_seed_epoch_and_item_only(cases, cropped):
    again = VirtualPETSliceDataset(cases, SliceDatasetConfig(context_slices=1, slice_size=None, crop_size=CROP,
                                                             crop_seed=5))
    other_seed = VirtualPETSliceDataset(cases, SliceDatasetConfig(context_slices=1, slice_size=None,
                                                                  crop_size=CROP, crop_seed=6))
    items = range(len(cropped))
    first = [cropped.crop_origin(i) for i in items]
    assert first == [again.crop_origin(i) for i in items]
    assert sum(a != b for a, b in zip(first, [other_seed.crop_origin(i) for i in items], strict=True)) > 0.8 * len(first)
    again.set_epoch(1)
    assert sum(a != b for a, b in zip(first, [again.crop_origin(i) for i in items], strict=True)) > 0.8 * len(first)
    assert {top for top, _ in first} == set(range(62 - CROP + 1))  # windows reach every row of the slice


def test_crop_larger_than_the_slices_is_refused(cases):
    with pytest.raises(InputError, match="--crop-size 64 is larger than the slices"):
        VirtualPETSliceDataset(cases, SliceDatasetConfig(slice_size=None, crop_size=64))
    with pytest.raises(InputError, match="at most --slice-size"):
        SliceDatasetConfig(slice_size=32, crop_size=48).validate()


def test_engine_moves_crops_on_each_epoch_and_resume_repeats_them(cropped, tmp_path):
    _assert_resume_equals_uninterrupted_training(cropped, tmp_path)
    assert cropped.epoch == 1  # the engine told the data set which epoch it was in (the resume ran epoch 2)


def _train(task, dataset, run_dir: Path, epochs: int, resume: bool = False):
    trainer = Trainer(TrainerConfig(run_dir=run_dir, epochs=epochs, batch_size=8, seed=3, device="cpu",
                                    resume=resume))
    return trainer.fit(task, dataset)


def _fcn_task(dataset, seed: int = 0) -> FCNTask:
    seed_everything(seed)
    fcn, _, _ = build_networks(TINY)
    return FCNTask(fcn, lr=1e-3, sample_batch=sample_batch_from(dataset))


def _weighted_l2_by_hand(task: FCNTask, dataset) -> float:
    """sum((1 + SUV) * (pred - SUV/20)^2) / sum(1 + SUV) over every slice, in float64 NumPy."""
    task.fcn.eval()
    numerator = denominator = 0.0
    with torch.no_grad():
        for start in range(0, len(dataset), 64):
            items = [dataset[i] for i in range(start, min(len(dataset), start + 64))]
            ct = torch.stack([item["ct"] for item in items])
            suv = torch.stack([item["suv"] for item in items]).double().numpy()
            prediction = task.fcn(ct).double().numpy()
            weight = 1.0 + np.clip(suv, 0.0, 20.0)
            numerator += float(np.sum(weight * (prediction - suv / 20.0) ** 2))
            denominator += float(np.sum(weight))
    return numerator / denominator


def test_fcn_suv_weighted_loss_falls(dataset, tmp_path):
    task = _fcn_task(dataset)
    before = _weighted_l2_by_hand(task, dataset)
    _train(task, dataset, tmp_path / "run", epochs=2)
    after = _weighted_l2_by_hand(task, dataset)
    assert after < 0.5 * before


def _assert_resume_equals_uninterrupted_training(dataset, tmp_path: Path) -> None:
    straight = _fcn_task(dataset)
    _train(straight, dataset, tmp_path / "straight", epochs=2)
    split = _fcn_task(dataset)
    _train(split, dataset, tmp_path / "split", epochs=1)
    if hasattr(dataset, "set_epoch"):
        dataset.set_epoch(0)  # a fresh process starts at epoch 0: the engine must move it on
    resumed = _fcn_task(dataset, seed=99)  # different initial weights: everything must come from the checkpoint
    _train(resumed, dataset, tmp_path / "split", epochs=2, resume=True)
    for key, value in straight.fcn.state_dict().items():
        assert torch.equal(value, resumed.fcn.state_dict()[key]), key


def test_fcn_resume_equals_uninterrupted_training(dataset, tmp_path):
    _assert_resume_equals_uninterrupted_training(dataset, tmp_path)


def test_combined_task_trains_both_and_draws_ct_pet_fcn_gan_blend(dataset, tmp_path):
    seed_everything(0)
    fcn, generator, discriminator = build_networks(TINY)
    sample = sample_batch_from(dataset, count=2)
    task = VirtualPETTask(FCNTask(fcn, sample_batch=sample), Pix2PixTask(generator, discriminator,
                          sample_batch=sample), sample_batch=sample)
    result = _train(task, dataset, tmp_path / "both", epochs=1)
    assert {"fcn_l2", "d_loss", "g_loss", "gan_l2"} <= set(result.last_losses)
    assert all(np.isfinite(v) for v in result.last_losses.values())
    with torch.no_grad():
        grid = task.sample_grid()
    assert grid.shape == (2 * 5, 1, 32, 32) and float(grid.min()) >= 0.0 and float(grid.max()) <= 1.0
    # Column 0 is the centre CT channel, column 1 the true PET scaled SUV 0..10 -> 0..1.
    torch.testing.assert_close(grid[0], sample["ct"][0, 1:2])
    torch.testing.assert_close(grid[1], (sample["suv"][0] / 10.0).clamp(0, 1))
    assert (tmp_path / "both" / "samples" / "epoch_0001.png").is_file()


@pytest.fixture
def saved_model(tmp_path):
    seed_everything(1)
    fcn, generator, _ = build_networks(TINY)
    paths = save_virtual_pet(fcn.eval(), generator.eval(), tmp_path / "model", phantom_training_data({"cases": 2}),
                             working_pixel_mm=15.6, epochs=3, metrics={"note": "test"})
    return fcn, generator, paths


def test_weights_round_trip_as_one_safetensors_file_and_card(saved_model):
    fcn, generator, (tensor_path, card_path) = saved_model
    assert tensor_path.name == "model.safetensors" and card_path.name == "model.json"
    keys = set(load_file(str(tensor_path)))
    assert keys == {f"fcn.{k}" for k in fcn.state_dict()} | {f"gan.{k}" for k in generator.state_dict()}
    card = json.loads(card_path.read_text())
    assert card["architecture"] == ARCHITECTURE and card["config"]["in_channels"] == 3
    assert card["config"]["ct_window_hu"] == [-160.0, 240.0] and card["config"]["suv_range"] == [0.0, 20.0]
    assert card["config"]["threshold_suv"] == 2.5 and card["training_data"]["patients"] is False

    model = load_virtual_pet(tensor_path)
    assert model.inference_config().working_pixel_mm == 15.6
    ct = torch.rand(2, 3, 40, 48, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        torch.testing.assert_close(model.fcn(ct), fcn(ct), rtol=0, atol=0)
        torch.testing.assert_close(model.gan(ct), generator(ct), rtol=0, atol=0)


def test_wrong_weights_files_are_refused_in_one_line(saved_model, tmp_path):
    _, _, (tensor_path, card_path) = saved_model
    problems = []
    # 1. another architecture's card
    card = json.loads(card_path.read_text())
    other = tmp_path / "other.json"
    other.write_text(json.dumps({**card, "architecture": "radiogan", "tensor_file": "other.safetensors"}))
    (tmp_path / "other.safetensors").write_bytes(tensor_path.read_bytes())
    problems.append((other, "not a virtual-PET model"))
    # 2. tensors changed after the card was written
    tensors = load_file(str(tensor_path))
    first = sorted(tensors)[0]
    tensors[first] = tensors[first] + 1.0
    changed = tmp_path / "changed.safetensors"
    save_file(tensors, str(changed))
    (tmp_path / "changed.json").write_text(card_path.read_text())
    problems.append((changed, "does not match its model card"))
    # 3. a card whose network is another size (checksum right, shapes wrong)
    resized = tmp_path / "resized.safetensors"
    resized.write_bytes(tensor_path.read_bytes())
    bigger = json.loads(card_path.read_text())
    bigger["config"]["gan"]["width"] = 0.125
    (tmp_path / "resized.json").write_text(json.dumps(bigger))
    problems.append((resized, "has shape"))
    # 4. not a file at all
    problems.append((tmp_path / "absent.safetensors", "does not exist"))
    for path, message in problems:
        with pytest.raises(InputError, match=message) as error:
            load_virtual_pet(path)
        assert "\n" not in str(error.value), path
    assert ModelCard.load(card_path).architecture == ARCHITECTURE


def test_symmetric_fcn_step_weighs_each_pixel_by_the_hotter_of_truth_and_prediction(dataset):
    task = _fcn_task(dataset)
    task.symmetric_suv_weight = True
    with torch.no_grad():
        task.fcn.score_pool2.bias += 1.0  # the untrained FCN draws SUV < 0; now many pixels are hotter than the truth
    task.fcn.train()
    ct, suv = _some_slices(dataset)
    low, high = task.fcn.config.output_range
    torch.manual_seed(5)  # the same dropout masks for the hand computation and the step
    with torch.no_grad():
        prediction = task.fcn(ct).double().numpy()
    truth = suv.double().numpy()
    predicted_suv = np.clip((prediction - low) / (high - low), 0.0, 1.0) * 20.0
    weight = 1.0 + np.clip(np.maximum(truth, predicted_suv), 0.0, 20.0)
    target = low + np.clip(truth, 0.0, 20.0) / 20.0 * (high - low)
    expected = np.sum(weight * (prediction - target) ** 2) / np.sum(weight)
    paper_weight = 1.0 + np.clip(truth, 0.0, 20.0)
    paper = np.sum(paper_weight * (prediction - target) ** 2) / np.sum(paper_weight)
    assert expected > 1.05 * paper  # the hot pixels on cold tissue now weigh more
    torch.manual_seed(5)
    losses = task.train_step({"ct": ct, "suv": suv}, _step_context(task))
    assert losses["fcn_l2"] == pytest.approx(expected, rel=1e-4)


def test_the_pix2pix_generator_update_computes_no_patchgan_gradients(dataset):
    from tiny_gan import assert_generator_update_leaves_discriminator_gradients_alone

    seed_everything(0)
    _, generator, discriminator = build_networks(TINY)
    task = Pix2PixTask(generator, discriminator, sample_batch=sample_batch_from(dataset, count=2))
    items = [dataset[i] for i in range(4)]
    batch = {"ct": torch.stack([item["ct"] for item in items]), "suv": torch.stack([item["suv"] for item in items])}
    assert_generator_update_leaves_discriminator_gradients_alone(task, batch)


def _step_context(task) -> StepContext:
    return StepContext(device=torch.device("cpu"), models=task.modules(), optimizers=task.optimizers(),
                       scalers={name: torch.amp.GradScaler("cpu", enabled=False) for name in task.modules()},
                       generator=torch.Generator(), amp_dtype=None)


def _overshoot_weight(truth: np.ndarray, predicted_suv: np.ndarray, factor: float) -> np.ndarray:
    """The paper's weight 1 + SUV, times ``factor`` where the truth is below 2.5 and the prediction above it."""
    return (1.0 + np.clip(truth, 0.0, 20.0)) * np.where((truth < 2.5) & (predicted_suv > 2.5), factor, 1.0)


def _some_slices(dataset) -> tuple[torch.Tensor, torch.Tensor]:
    items = [dataset[i] for i in range(0, len(dataset), len(dataset) // 8)][:8]
    return torch.stack([item["ct"] for item in items]), torch.stack([item["suv"] for item in items])


def test_fcn_step_weighs_a_hot_spot_on_cold_tissue_overshoot_factor_times(dataset):
    task = _fcn_task(dataset)
    task.overshoot_factor = 4.0
    with torch.no_grad():
        task.fcn.score_pool2.bias += 1.0  # the untrained FCN draws SUV < 0; now many pixels are hotter than the truth
    task.fcn.train()
    ct, suv = _some_slices(dataset)
    low, high = task.fcn.config.output_range
    torch.manual_seed(5)  # the same dropout masks for the hand computation and the step
    with torch.no_grad():
        prediction = task.fcn(ct).double().numpy()
    truth = suv.double().numpy()
    predicted_suv = np.clip((prediction - low) / (high - low), 0.0, 1.0) * 20.0
    target = low + np.clip(truth, 0.0, 20.0) / 20.0 * (high - low)
    weight = _overshoot_weight(truth, predicted_suv, 4.0)
    expected = np.sum(weight * (prediction - target) ** 2) / np.sum(weight)
    paper_weight = _overshoot_weight(truth, predicted_suv, 1.0)
    assert 0 < np.mean(weight > paper_weight) < 1  # some pixels overshoot, not all
    paper = np.sum(paper_weight * (prediction - target) ** 2) / np.sum(paper_weight)
    assert abs(expected / paper - 1) > 0.01  # the step below can tell the two weights apart
    torch.manual_seed(5)
    losses = task.train_step({"ct": ct, "suv": suv}, _step_context(task))
    assert losses["fcn_l2"] == pytest.approx(expected, rel=1e-4)


def test_pix2pix_reconstruction_weighs_a_hot_spot_on_cold_tissue_overshoot_factor_times(dataset):
    seed_everything(0)
    _, generator, discriminator = build_networks(TINY)
    task = Pix2PixTask(generator, discriminator, overshoot_factor=3.0, overshoot_threshold=2.5)
    ct, suv = _some_slices(dataset)
    low, high = generator.config.output_range
    generator.train()
    torch.manual_seed(5)  # the generator's forward comes first in the step: the same dropout masks
    with torch.no_grad():
        fake = generator(ct).double().numpy()
    truth = np.clip(suv.double().numpy(), 0.0, 20.0)
    fake_suv = (fake - low) / (high - low) * 20.0  # the reconstruction term is in SUV, unclipped
    weight = _overshoot_weight(truth, np.clip(fake_suv, 0.0, 20.0), 3.0)
    assert 0 < np.mean(weight > 1.0 + truth) < 1  # some pixels overshoot, not all
    expected = np.sum(weight * (fake_suv - truth) ** 2) / np.sum(weight)
    paper = np.sum((1.0 + truth) * (fake_suv - truth) ** 2) / np.sum(1.0 + truth)
    assert abs(expected / paper - 1) > 0.01  # the step below can tell the two weights apart
    torch.manual_seed(5)
    losses = task.train_step({"ct": ct, "suv": suv}, _step_context(task))
    assert losses["gan_l2"] == pytest.approx(expected, rel=1e-4)
