"""CycleGAN (seed 003): networks against the published sizes, losses and schedule against hand arithmetic, the image
pool's statistics, and real tiny training runs (CLI, resume after a kill, cancel) on real NRRD files."""

from __future__ import annotations

import csv
import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from cyclegan_data import write_unpaired_folders
from safetensors.torch import load_file

from MedGANSynthLib.cli.main import build_parser, main
from MedGANSynthLib.cli.settings_flags import settings_from_args
from MedGANSynthLib.cyclegan.dataset import load_domain
from MedGANSynthLib.cyclegan.image_pool import ImagePool
from MedGANSynthLib.cyclegan.losses import (
    generator_objective,
    l1,
    lsgan_discriminator_loss,
    lsgan_generator_loss,
)
from MedGANSynthLib.cyclegan.networks import CycleGANNetworkSettings, build_cyclegan
from MedGANSynthLib.cyclegan.schedule import learning_rate_factor, split_epochs
from MedGANSynthLib.cyclegan.training_run import read_cyclegan_settings, train_cyclegan
from MedGANSynthLib.cyclegan.training_settings import CycleGANTrainingSettings
from MedGANSynthLib.cyclegan.translate import translate_volume
from MedGANSynthLib.cyclegan.weights import load_cyclegan
from MedGANSynthLib.errors import Cancelled, InputError
from MedGANSynthLib.io.volume_io import read_volume
from MedGANSynthLib.jobs.progress import CancelToken
from MedGANSynthLib.networks.image_patchgan import ImagePatchGAN
from MedGANSynthLib.networks.patchgan import PatchGANConfig, receptive_field
from MedGANSynthLib.networks.resnet_generator import ResNetGenerator, ResNetGeneratorConfig
from MedGANSynthLib.training.checkpoint import checkpoint_path, load_checkpoint

TINY = {"image_size": 32, "width": 0.125, "residual_blocks": 1, "batch_size": 2, "seed": 3}
TINY_CLI = ["--image-size", "32", "--width", "0.125", "--residual-blocks", "1", "--batch-size", "2", "--seed", "3",
            "--device", "cpu", "--threads", "1"]


def _settings(run, **values) -> CycleGANTrainingSettings:
    """A CPU run in ``run`` (folders as text, as the flags give them)."""
    text = {key: str(value) for key, value in values.items() if key in ("data_a", "data_b")}
    return CycleGANTrainingSettings(output=str(run), device="cpu", **{**values, **text})


def _parameters(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


# ---- networks --------------------------------------------------------------------------------------------------
def test_paper_networks_have_the_reference_implementations_parameter_counts():
    # The reference CycleGAN code prints "[Network G_A] Total number of parameters : 11.378 M" and
    # "[Network D_A] Total number of parameters : 2.765 M" for RGB images with resnet_9blocks and basic D.
    generator = ResNetGenerator(ResNetGeneratorConfig(in_channels=3, out_channels=3))
    discriminator = ImagePatchGAN(PatchGANConfig(ct_channels=3))
    assert round(_parameters(generator) / 1e6, 3) == 11.378
    assert round(_parameters(discriminator) / 1e6, 3) == 2.765
    assert receptive_field(discriminator.config) == 70


@pytest.mark.parametrize("generator", ["resnet", "unet"])
def test_generators_keep_the_image_shape_and_range_for_odd_sizes_and_2_5d(generator):
    settings = CycleGANNetworkSettings(channels=3, generator=generator, residual_blocks=2, width=0.125, unet_depth=3)
    networks = build_cyclegan(settings)
    images = torch.rand(2, 3, 30, 34) * 2 - 1
    for name in ("g_ab", "g_ba"):
        output = networks[name](images)
        assert output.shape == images.shape and output.abs().max() <= 1.0
    scores = networks["d_a"](torch.rand(2, 3, 64, 64))
    # 64 -> 32 -> 16 -> 8 (stride 2) -> 7 -> 6 (4x4, stride 1, padding 1)
    assert scores.shape == (2, 1, 6, 6)


def test_resize_upsampling_and_bad_settings():
    generator = ResNetGenerator(ResNetGeneratorConfig(width=0.125, residual_blocks=0, upsampling="resize"))
    assert generator(torch.zeros(1, 1, 16, 16)).shape == (1, 1, 16, 16)
    with pytest.raises(InputError, match="odd number"):
        CycleGANNetworkSettings(channels=2).validate()
    with pytest.raises(InputError, match="generator"):
        CycleGANNetworkSettings(generator="vae").validate()


# ---- losses and schedule ------------------------------------------------------------------------------------------
def test_losses_equal_hand_computed_values():
    real, fake = torch.tensor([[1.5, 0.5]]), torch.tensor([[0.2, -0.4]])
    # 0.5 * (mean(0.25, 0.25) + mean(0.04, 0.16)) = 0.5 * (0.25 + 0.10)
    assert lsgan_discriminator_loss(real, fake).item() == pytest.approx(0.175)
    # mean((0.2 - 1)^2, (-0.4 - 1)^2) = mean(0.64, 1.96)
    assert lsgan_generator_loss(fake).item() == pytest.approx(1.3)
    assert l1(torch.tensor([1.0, 2.0, 3.0]), torch.tensor([0.0, 4.0, 3.0])).item() == pytest.approx(1.0)
    values = [torch.tensor(v) for v in (1.0, 2.0, 0.1, 0.2, 0.3, 0.4)]
    # 1 + 2 + 10 * (0.1 + 0.2) + 0.5 * 10 * (0.3 + 0.4) = 3 + 3 + 3.5
    assert generator_objective(*values).item() == pytest.approx(9.5)
    assert generator_objective(*values, identity_fraction=0.0).item() == pytest.approx(6.0)


def test_learning_rate_is_constant_then_decays_linearly_like_the_paper():
    constant, decay = split_epochs(200, None)
    assert (constant, decay) == (100, 100)
    expected = {0: 1.0, 99: 1.0, 100: 100 / 101, 149: 51 / 101, 199: 1 / 101}
    for epoch, factor in expected.items():
        assert learning_rate_factor(epoch, constant, decay) == pytest.approx(factor)
    # linear: equal steps of 1 / (decay + 1) per epoch over the decaying half
    steps = np.diff([learning_rate_factor(e, constant, decay) for e in range(100, 200)])
    assert np.allclose(steps, -1 / 101)
    with pytest.raises(InputError, match="--decay-epochs"):
        split_epochs(10, 11)


# ---- image pool -----------------------------------------------------------------------------------------------------
def test_image_pool_fills_then_returns_a_stored_image_half_the_time():
    pool = ImagePool(50)
    generator = torch.Generator().manual_seed(7)
    first = torch.arange(50, dtype=torch.float32).reshape(50, 1, 1, 1)
    assert torch.equal(pool.query(first, generator), first)  # filling: every image handed on as it is
    stored = {float(image) for image in pool.images}
    assert stored == set(range(50))
    old_returned, draws = 0, 4000
    for number in range(draws):
        new = torch.full((1, 1, 1, 1), 1000.0 + number)
        out = float(pool.query(new, generator))
        if out != 1000.0 + number:
            assert out in stored  # a stored image, which the new one replaced
            stored.remove(out)
            old_returned += 1
        stored = {float(image) for image in pool.images}
        assert len(pool.images) == 50
    # Binomial(4000, 1/2): standard deviation 31.6; 4 standard deviations
    assert abs(old_returned - draws / 2) < 4 * math.sqrt(draws / 4)
    assert torch.equal(ImagePool(0).query(first, generator), first)


# ---- data -----------------------------------------------------------------------------------------------------------
def test_domains_slice_volumes_with_2_5d_context_and_refuse_the_wrong_modality(tmp_path):
    folder_a, folder_b = write_unpaired_folders(tmp_path)
    ct = load_domain(folder_a, "ct", "CT", 32, context_slices=1)
    assert ct.images.shape == (12, 3, 32, 32)  # 2 volumes x 6 slices, each with its two neighbours
    assert torch.equal(ct.images[0, 0], ct.images[0, 1])  # the first slice repeats as its own missing neighbour
    assert ct.images.min() >= -1 and ct.images.max() <= 1
    # -1000 HU (air) is -1, 40 HU is 0.04 in [-1000, 1000] -> [-1, 1]
    assert ct.images[0, 1, 0, 0].item() == pytest.approx(-1.0)
    assert ct.images[0, 1, 24, 16].item() == pytest.approx(0.04, abs=1e-5)
    with pytest.raises(InputError, match="PET"):
        load_domain(folder_b, "ct", "CT", 32)
    with pytest.raises(InputError, match="CT"):
        load_domain(folder_a, "pet", "PET", 32)


# ---- training ------------------------------------------------------------------------------------------------------
def test_two_epoch_cli_run_writes_a_loadable_card_with_both_directions(tmp_path, capsys):
    folder_a, folder_b = write_unpaired_folders(tmp_path)
    run = tmp_path / "run"
    code = main(["train-cyclegan", "--data-a", str(folder_a), "--data-b", str(folder_b), "-o", str(run),
                 "--epochs", "2", "--name-a", "CT", "--name-b", "PET", *TINY_CLI, "--json"])
    assert code == 0, capsys.readouterr().err
    summary = json.loads(capsys.readouterr().out)
    assert summary["global_step"] == 12  # max(12 CT, 10 PET slices) = 12 items, batch 2, 2 epochs
    model = load_cyclegan(run / "weights" / "cyclegan.safetensors")
    card = model.card
    assert card.architecture == "cyclegan" and card.epochs == 2
    assert card.config["directions"] == {"g_ab": "A -> B: CT -> PET", "g_ba": "B -> A: PET -> CT"}
    assert card.config["domains"]["a"]["window"]["low"] == -1000.0
    assert card.config["domains"]["b"]["window"]["units"] == "SUV"
    assert card.normalisation["kind"] == "hu"
    rows = list(csv.DictReader(open(run / "losses_steps.csv")))
    # epoch 1 at the base rate, epoch 2 (the decaying half) at 1 - 1/2 of it
    assert {float(r["lr"]) for r in rows if r["epoch"] == "1"} == {2e-4}
    assert {float(r["lr"]) for r in rows if r["epoch"] == "2"} == {1e-4}
    for row in rows:  # the generator's objective is the weighted sum of the terms it reports
        total = (float(row["g_adv_ab"]) + float(row["g_adv_ba"]) + 10 * (float(row["cycle_a"]) + float(row["cycle_b"]))
                 + 5 * (float(row["identity_a"]) + float(row["identity_b"])))
        assert float(row["g_loss"]) == pytest.approx(total, rel=1e-5)
    ct = read_volume(folder_a / "ct0.nrrd")
    pet = translate_volume(model, ct, "ab")
    assert pet.array.shape == ct.array.shape and pet.units == "SUV"
    assert pet.array.min() >= 0.0 and pet.array.max() <= 20.0
    assert (run / "samples" / "epoch_0002.png").is_file()


def test_bad_inputs_are_one_line_errors(tmp_path, capsys):
    folder_a, _ = write_unpaired_folders(tmp_path)
    assert main(["train-cyclegan", "--data-a", str(folder_a), "-o", str(tmp_path / "r")]) == 2
    error = capsys.readouterr().err
    assert "--data-b" in error and "Traceback" not in error and len(error.strip().splitlines()) == 1
    assert main(["train-cyclegan", "-o", str(tmp_path / "none"), "--resume"]) == 2
    assert "run.json" in capsys.readouterr().err
    assert main(["train-cyclegan", "--data-a", str(folder_a), "--data-b", str(tmp_path / "nope"),
                 "-o", str(tmp_path / "r2"), *TINY_CLI]) == 2
    assert "--data-b" in capsys.readouterr().err
    assert not (tmp_path / "r2" / "checkpoints").exists()


def _weights(run) -> dict[str, torch.Tensor]:
    return {f"{module}.{key}": value for module, state in load_checkpoint(checkpoint_path(run))["modules"].items()
            for key, value in state.items()}


def test_a_run_killed_mid_epoch_resumes_at_the_same_step_with_identical_weights(tmp_path):
    folder_a, folder_b = write_unpaired_folders(tmp_path)
    data = {"data_a": folder_a, "data_b": folder_b, "pool_size": 3, "epochs": 3, **TINY}
    straight = train_cyclegan(_settings(tmp_path / "straight", **data))
    token = CancelToken()

    def stop_at_step_eight(event):  # 6 steps per epoch: step 8 is in epoch 2, right after a step checkpoint
        if event.stage == "train" and event.done >= 8:
            token.cancel()

    run = tmp_path / "split"
    with pytest.raises(Cancelled):
        train_cyclegan(_settings(run, checkpoint_steps=4, **data), progress=stop_at_step_eight, cancel=token)
    state = load_checkpoint(checkpoint_path(run))
    assert (state["epoch"], state["global_step"], state["partial_epoch"]["batches"]) == (1, 8, 2)
    assert len(state["task"]["pool_a"]) == 3  # the pools travel with the checkpoint
    assert not (run / "weights").exists()
    resumed = train_cyclegan(_settings(run, checkpoint_steps=4), resume=True)
    assert resumed["global_step"] == straight["global_step"] == 18
    first, second = _weights(tmp_path / "straight"), _weights(run)
    assert first.keys() == second.keys()
    for key in first:
        assert torch.equal(first[key], second[key]), key
    history = json.loads((run / "losses.json").read_text())["steps"]
    reference = json.loads((tmp_path / "straight" / "losses.json").read_text())["steps"]
    assert [row["step"] for row in history] == list(range(1, 19))
    assert [row["d_a"] for row in history] == [row["d_a"] for row in reference]


def test_cancel_stops_between_steps_and_exports_nothing(tmp_path):
    folder_a, folder_b = write_unpaired_folders(tmp_path)
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        train_cyclegan(_settings(tmp_path / "run", data_a=folder_a, data_b=folder_b, epochs=1, **TINY), cancel=token)
    assert not (tmp_path / "run" / "weights").exists()
    assert not checkpoint_path(tmp_path / "run").exists()


def test_train_with_architecture_cyclegan_points_to_train_cyclegan(tmp_path, capsys):
    assert main(["train", "--architecture", "cyclegan", "--data", str(tmp_path), "-o", str(tmp_path / "r")]) == 2
    assert "medgansynth train-cyclegan --data-a" in capsys.readouterr().err


def test_png_and_one_slice_mip_folders_are_domains_too(tmp_path):
    import SimpleITK as sitk

    from MedGANSynthLib.io.volume_io import write_volume
    from MedGANSynthLib.volume import Volume

    pngs, mips = tmp_path / "png", tmp_path / "mip"
    pngs.mkdir()
    mips.mkdir()
    for index in range(3):
        grey = np.zeros((40, 40), np.uint8)
        grey[10:30, 10 + index:30] = 255
        sitk.WriteImage(sitk.GetImageFromArray(grey), str(pngs / f"{index}.png"))
        mip = np.zeros((40, 1, 40), np.float32)
        mip[10:30, 0, 10:30] = 5.0 + index
        write_volume(Volume(mip, spacing=(4.0, 4.0, 4.0), modality="MIP", units="SUV"), mips / f"{index}.nrrd")
    png = load_domain(pngs, "pet", "PNG", 32, context_slices=1)
    assert png.images.shape == (3, 3, 32, 32) and png.window.high == 255.0
    assert png.images[:, 0].max() == pytest.approx(1.0) and png.images[:, 0].min() == pytest.approx(-1.0)
    mip = load_domain(mips, "pet", "MIP", 32)
    # SUV 5 in the PET window [0, 20] -> [-1, 1] is -0.5
    assert mip.images.shape == (3, 1, 32, 32) and mip.images[0, 0, 16, 16].item() == pytest.approx(-0.5, abs=1e-5)
    (pngs / "x.nrrd").write_bytes((mips / "0.nrrd").read_bytes())
    with pytest.raises(InputError, match="mixes PNG"):
        load_domain(pngs, "pet", "PNG", 32)


def test_b_images_are_drawn_per_epoch_and_item_and_repeat_for_the_same_seed(tmp_path):
    from MedGANSynthLib.cyclegan.dataset import UnpairedDataset

    folder_a, folder_b = write_unpaired_folders(tmp_path)
    a, b = load_domain(folder_a, "ct", "CT", 32), load_domain(folder_b, "pet", "PET", 32, option="--data-b")
    dataset = UnpairedDataset(a, b, seed=5)
    first = [dataset.b_index(i) for i in range(len(dataset))]
    dataset.set_epoch(1)
    second = [dataset.b_index(i) for i in range(len(dataset))]
    assert first != second and len(dataset) == 12 and set(first) <= set(range(10))
    again = UnpairedDataset(a, b, seed=5)
    assert [again.b_index(i) for i in range(12)] == first
    assert torch.equal(again[3]["a"], a.images[3]) and torch.equal(again[3]["b"], b.images[first[3]])


def test_a_unet_cyclegan_trains_and_loads(tmp_path):
    folder_a, folder_b = write_unpaired_folders(tmp_path)
    summary = train_cyclegan(_settings(tmp_path / "run", data_a=folder_a, data_b=folder_b, epochs=1,
                                       generator="unet", unet_depth=3, context_slices=1, **TINY))
    model = load_cyclegan(summary["weights"][0])
    assert model.card.config["networks"]["generator"] == "unet" and model.context_slices == 1
    assert model.g_ab(torch.zeros(1, 3, 32, 32)).shape == (1, 3, 32, 32)


def test_resume_refuses_settings_that_define_the_networks_or_data(tmp_path, capsys):
    folder_a, folder_b = write_unpaired_folders(tmp_path)
    run = tmp_path / "run"
    assert main(["train-cyclegan", "--data-a", str(folder_a), "--data-b", str(folder_b), "-o", str(run),
                 "--epochs", "1", *TINY_CLI]) == 0
    capsys.readouterr()
    assert main(["train-cyclegan", "-o", str(run), "--resume", "--width", "0.5"]) == 2
    assert "leave out --width" in capsys.readouterr().err
    assert main(["train-cyclegan", "-o", str(run), "--resume", "--epochs", "2", "--lr", "1e-4", "--device", "cpu",
                 "--threads", "1", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["epochs"] == 2 and summary["global_step"] == 12
    settings = json.loads((run / "run.json").read_text())
    assert settings["learning_rate_changes"] == [{"after_epoch": 1, "lr": 1e-4}]
    # a run extended to 2 epochs decays over its second half: epoch 2 at 1e-4 x (1 - 1/2)
    rows = list(csv.DictReader(open(run / "losses_steps.csv")))
    assert {float(r["lr"]) for r in rows if r["epoch"] == "2"} == {5e-5}


# ---- the Python API and old run files ----------------------------------------------------------------------------
OLD_RUN_FILE = Path(__file__).parent / "old_run_files" / "cyclegan_run.json"
# The flags old_run_files/cyclegan_run.json was written with (its README), with --epochs 2.
OLD_RUN_FLAGS = ["--image-size", "32", "--width", "0.125", "--residual-blocks", "1", "--batch-size", "2", "--seed", "5",
                 "--context-slices", "1", "--upsampling", "resize", "--pool-size", "3", "--window-b=0,15",
                 "--identity-fraction", "0.25", "--lr", "3e-4", "--name-a", "CT body", "--epochs", "2",
                 "--decay-epochs", "1"]


def test_an_old_run_file_reads_as_the_flags_it_was_written_with():
    saved = json.loads(OLD_RUN_FILE.read_text())
    settings = CycleGANTrainingSettings.from_run_file(saved, output="r")
    parsed = settings_from_args(CycleGANTrainingSettings, build_parser().parse_args(
        ["train-cyclegan", "--data-a", "DATA_A", "--data-b", "DATA_B", "-o", "r", *OLD_RUN_FLAGS]))
    # run.json holds the values a run starts with: the name of B and the base rate filled in, the rest as given
    assert settings == dataclasses.replace(parsed, name_b="PET")
    assert "width" not in saved and saved["networks"]["width"] == 0.125  # only in "networks" then


def _stopped_at_step_nine(run, **values) -> None:
    """A 2-epoch run (6 steps each) stopped right after the step checkpoint at step 9, inside epoch 2."""
    token = CancelToken()

    def stop(event):
        if event.stage == "train" and event.done >= 9:
            token.cancel()

    with pytest.raises(Cancelled):
        train_cyclegan(_settings(run, checkpoint_steps=3, **values), progress=stop, cancel=token)


def test_a_run_with_an_old_run_file_resumes_exactly(tmp_path, capsys):
    """run.json written before the settings class (old_run_files) rebuilds the same run: resumed from a
    checkpoint inside epoch 2, it ends with the weights of one uninterrupted run of the same settings."""
    folder_a, folder_b = write_unpaired_folders(tmp_path)
    parsed = settings_from_args(CycleGANTrainingSettings, build_parser().parse_args(
        ["train-cyclegan", "--data-a", str(folder_a), "--data-b", str(folder_b), "-o", "r", *OLD_RUN_FLAGS]))
    values = parsed.to_run_file()  # the run's settings, without the folder, device, ...
    straight = train_cyclegan(_settings(tmp_path / "straight", **values))
    run = tmp_path / "old"
    _stopped_at_step_nine(run, **values)
    old = OLD_RUN_FILE.read_text().replace('"DATA_A"', json.dumps(str(folder_a.resolve())))
    (run / "run.json").write_text(old.replace('"DATA_B"', json.dumps(str(folder_b.resolve()))))
    assert main(["train-cyclegan", "-o", str(run), "--resume", "--device", "cpu", "--threads", "1", "--quiet"]) == 0
    assert load_checkpoint(checkpoint_path(run))["global_step"] == straight["global_step"] == 12
    first = load_file(straight["weights"][0])
    second = load_file(str(run / "weights" / "cyclegan.safetensors"))
    assert first.keys() == second.keys() and all(torch.equal(first[k], second[k]) for k in first)
    # the resumed run's run.json keeps its old layout (no network fields outside "networks")
    assert "width" not in json.loads((run / "run.json").read_text())


def test_train_cyclegan_from_python_then_resume_with_more_epochs(tmp_path):
    folder_a, folder_b = write_unpaired_folders(tmp_path)
    run = tmp_path / "run"
    settings = _settings(run, data_a=folder_a, data_b=folder_b, epochs=1, **TINY)
    summary = train_cyclegan(settings)
    assert summary["epochs"] == 1 and summary["global_step"] == 6  # 12 CT slices, batch 2
    saved = read_cyclegan_settings(run, device="cpu")
    # run.json keeps the folders absolute and the values the run started with: the paper's rate 2e-4, the kinds'
    # names
    assert saved == dataclasses.replace(settings, data_a=str(folder_a.resolve()), data_b=str(folder_b.resolve()),
                                        lr=2e-4, name_a="CT", name_b="PET")
    with pytest.raises(InputError, match=r"leave out --pool-size, --width \(a resume may change only --epochs, "
                                         r"--decay-epochs, --lr\)"):
        train_cyclegan(dataclasses.replace(saved, epochs=2, width=0.5, pool_size=7), resume=True)
    summary = train_cyclegan(dataclasses.replace(saved, epochs=2), resume=True)
    assert summary["epochs"] == 2 and summary["global_step"] == 12
    assert load_cyclegan(run / "weights" / "cyclegan.safetensors").card.epochs == 2
    # run.json: the schedule of the extended run (its second half decays)
    assert json.loads((run / "run.json").read_text())["schedule"] == [1, 1]


@pytest.mark.parametrize("family", ["cyclegan", "gan", "virtual_pet"])
def test_every_family_refuses_an_existing_run_and_resume_with_overwrite_in_the_same_words(tmp_path, family):
    from MedGANSynthLib.gan.training_run import train_gan
    from MedGANSynthLib.gan.training_settings import GanTrainingSettings
    from MedGANSynthLib.virtual_pet.training_run import train_virtual_pet
    from MedGANSynthLib.virtual_pet.training_settings import VirtualPETTrainingSettings

    run = tmp_path / "run"
    checkpoint_path(run).parent.mkdir(parents=True)
    checkpoint_path(run).write_bytes(b"a run's checkpoint")  # what marks a folder as holding a run
    train, settings = {"cyclegan": (train_cyclegan, CycleGANTrainingSettings),
                       "gan": (train_gan, GanTrainingSettings),
                       "virtual_pet": (train_virtual_pet, VirtualPETTrainingSettings)}[family]
    with pytest.raises(InputError) as refused:
        train(settings(output=str(run), device="cpu"))
    assert str(refused.value) == (f"-o/--output '{run}' already holds a training run; pass --resume to continue it, "
                                  "--overwrite to start afresh, or choose a new folder.")
    with pytest.raises(InputError) as refused:
        train(settings(output=str(run), device="cpu"), resume=True, overwrite=True)
    assert str(refused.value) == "--overwrite starts the run afresh and --resume continues it; pass one of them."
    assert checkpoint_path(run).read_bytes() == b"a run's checkpoint"


def test_overwrite_starts_a_run_afresh(tmp_path):
    folder_a, folder_b = write_unpaired_folders(tmp_path)
    run = tmp_path / "run"
    first = train_cyclegan(_settings(run, data_a=folder_a, data_b=folder_b, epochs=1, **TINY))
    again = train_cyclegan(_settings(run, data_a=folder_a, data_b=folder_b, epochs=1, **TINY), overwrite=True)
    assert again["global_step"] == first["global_step"] == 6
    assert json.loads((run / "losses.json").read_text())["steps"][-1]["step"] == 6  # not appended to the old run
