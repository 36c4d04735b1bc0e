"""Training settings declared once (training/settings.py): run.json round trips (old run files too), the flags built
from the fields, recipes, --set, options refused for other architectures, and the Python training API end to end."""

from __future__ import annotations

import dataclasses
import json
import shlex
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from tiny_gan import single_thread

from MedGANSynthLib.cli.main import build_parser, main
from MedGANSynthLib.cli.settings_flags import settings_from_args
from MedGANSynthLib.cyclegan.training_settings import CycleGANTrainingSettings
from MedGANSynthLib.gan.training_run import read_gan_settings, train_gan
from MedGANSynthLib.gan.training_settings import GAN_RECIPES, GanTrainingSettings
from MedGANSynthLib.io.volume_io import write_volume
from MedGANSynthLib.training.checkpoint import checkpoint_path, load_checkpoint
from MedGANSynthLib.training.settings import flag_name, settings_argv
from MedGANSynthLib.virtual_pet.training_settings import VIRTUAL_PET_RECIPES, VirtualPETTrainingSettings
from MedGANSynthLib.volume import Volume

OLD_RUN_FILES = Path(__file__).parent / "old_run_files"
_one_thread = pytest.fixture(autouse=True)(single_thread)

# The CT GAN of old_run_files/ct_gan_run.json (its README gives the flags), as settings.
TINY_CT = dict(architecture="ct_gan", image_size="16", width=0.0625, batch_size=4, seed=7, discriminator_norm="spectral",
               discriminator_dropout=0.0, minibatch_std=True, latent_coordinates=True, global_latent=4, lr=5e-4,
               lr_d=2e-4, device="cpu")


@pytest.fixture
def ct_folder(tmp_path) -> Path:
    """One CT volume: 12 axial slices with a soft-tissue disc of growing radius in air."""
    folder = tmp_path / "ct"
    folder.mkdir()
    hu = np.full((12, 32, 32), -1000.0, dtype=np.float32)
    rows, cols = np.mgrid[:32, :32]
    for k in range(12):
        hu[k][(rows - 16) ** 2 + (cols - 16) ** 2 < (6 + k // 2) ** 2] = 40.0
    write_volume(Volume(hu, spacing=(0.7, 0.7, 2.5), modality="CT", units="HU"), folder / "lung.nrrd")
    return folder


def _parsed(cls, *argv: str):
    command = "train" if cls is GanTrainingSettings else "train-virtual-pet"
    recipes = GAN_RECIPES if cls is GanTrainingSettings else VIRTUAL_PET_RECIPES
    return settings_from_args(cls, build_parser().parse_args([command, *argv]), recipes)


def _old_run_file(name: str, data: Path) -> dict:
    saved = json.loads((OLD_RUN_FILES / name).read_text())
    saved["data"] = str(data)
    return saved


# ---- run.json ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("settings", [
    GanTrainingSettings(output="r", architecture="radiogan", data="/d", epochs=5, lr=1e-4, loss="hinge",
                        window=[0.0, 10.0], auxiliary_classifier=0.5, class_projection=True, generator_ema=0.999),
    VirtualPETTrainingSettings(output="r", data="/d", epochs=2, width_fcn=0.25, crop_size=64, symmetric_suv_weight=True,
                               gan_loss="lsgan", lr_d=5e-5),
    CycleGANTrainingSettings(output="r", data_a="/a", data_b="/b", epochs=3, window_b=[0.0, 15.0], generator="unet",
                             unet_depth=3, name_a="CT body", lr=1e-4),
])
def test_settings_round_trip_through_run_json(settings):
    written = json.loads(json.dumps(settings.to_run_file()))
    assert type(settings).from_run_file(written, **settings.invocation()) == settings


def test_old_gan_run_file_reads_with_renamed_and_missing_keys():
    saved = _old_run_file("ct_gan_run.json", Path("/data"))
    settings = GanTrainingSettings.from_run_file(saved)
    assert saved["auxiliary_class_weight"] is None and "auxiliary_classifier" not in saved  # the old name
    assert (settings.architecture, settings.lr, settings.lr_d, settings.batch_size, settings.seed, settings.epochs) == \
        ("ct_gan", 5e-4, 2e-4, 4, 7, 2)
    # run.json of that version kept the network options only inside network_config: the fields take their defaults
    assert settings.width is None and settings.minibatch_std is False
    renamed = GanTrainingSettings.from_run_file({**saved, "auxiliary_class_weight": 0.5})
    assert renamed.auxiliary_classifier == 0.5


def test_old_virtual_pet_run_file_reads_its_networks_and_dataset_parts():
    settings = VirtualPETTrainingSettings.from_run_file(_old_run_file("virtual_pet_run.json", Path("/data")))
    assert (settings.width_fcn, settings.width_gan, settings.depth, settings.gan_upsampling) == (0.0625, 0.0625, 4,
                                                                                                "resize")
    assert (settings.context_slices, settings.slice_size, settings.lesion_repeats, settings.crop_size) == (2, 32, 5, None)
    assert (settings.suv_weight_power, settings.symmetric_suv_weight, settings.batch_size) == (2.0, True, 16)
    assert (settings.gan_loss, settings.lr_d) == ("bce", None)  # not in that file: pix2pix's BCE, one rate
    # an older file still: the network settings not given were not written; they were the defaults then and now
    older = VirtualPETTrainingSettings.from_run_file({"networks": {"in_channels": 3}, "dataset": {}})
    assert (older.width_fcn, older.width_gan, older.depth, older.gan_upsampling) == (0.125, 0.25, 7, "transposed")


def test_an_old_gan_run_resumes_exactly(tmp_path, ct_folder):
    """A run whose run.json is in the old format (old_run_files) continues from its checkpoint and ends with the
    same weights as one uninterrupted run."""
    straight = train_gan(GanTrainingSettings(**TINY_CT, data=str(ct_folder), output=str(tmp_path / "straight"),
                                             epochs=2))
    run = tmp_path / "old"
    train_gan(GanTrainingSettings(**TINY_CT, data=str(ct_folder), output=str(run), epochs=1))
    (run / "run.json").write_text(json.dumps(_old_run_file("ct_gan_run.json", ct_folder.resolve())))
    assert read_gan_settings(run).epochs == 2 and read_gan_settings(run).output == str(run)
    assert main(["train", "-o", str(run), "--resume", "--threads", "1"]) == 0  # epochs: 2, from the old run.json
    assert load_checkpoint(checkpoint_path(run))["epoch"] == 2
    first, second = load_file(straight["weights"][0]), load_file(str(run / "weights" / "ct_gan.safetensors"))
    assert first.keys() == second.keys() and all(torch.equal(first[k], second[k]) for k in first)


# ---- flags built from the fields ----------------------------------------------------------------------------
# Every flag the commands had before the settings dataclasses (tests, README and Testing/Training/*.sh use them).
OLD_GAN_FLAGS = """--architecture --data -o --output --labels --stage --epochs --batch-size --lr --lr-d --loss --n-critic
--image-size --width --discriminator-norm --auxiliary-classifier --window --discriminator-dropout --minibatch-std
--class-projection --mismatched-labels --hardest-mismatch --class-batchnorm --generator-upsampling --generator-ema
--latent-coordinates --global-latent --init-weights --no-amp --device --seed --checkpoint-every --checkpoint-steps
--resume --threads --workers --json --quiet --progress-lines --overwrite""".split()
OLD_CYCLEGAN_FLAGS = """--data-a --data-b -o --output --kind-a --kind-b --name-a --name-b --window-a --window-b
--image-size --context-slices --epochs --decay-epochs --batch-size --lr --cycle-weight --identity-fraction --pool-size
--generator --residual-blocks --width --unet-depth --upsampling --device --seed --checkpoint-every --checkpoint-steps
--resume --threads --workers --json --quiet --progress-lines --overwrite""".split()
OLD_VIRTUAL_PET_FLAGS = """--data -o --output --epochs --batch-size --lr --width-fcn --width-gan --depth --gan-upsampling
--context-slices --slice-size --lesion-repeats --crop-size --gan-l2-weight --suv-weight-power --symmetric-suv-weight
--device --seed --checkpoint-every --checkpoint-steps --resume --threads --workers --json --quiet --progress-lines
--overwrite""".split()


@pytest.mark.parametrize(("command", "cls", "old_flags"), [
    ("train", GanTrainingSettings, OLD_GAN_FLAGS),
    ("train-virtual-pet", VirtualPETTrainingSettings, OLD_VIRTUAL_PET_FLAGS),
    ("train-cyclegan", CycleGANTrainingSettings, OLD_CYCLEGAN_FLAGS)])
def test_every_field_has_its_flag_and_every_old_flag_remains(command, cls, old_flags):
    parser = build_parser()
    subparser = parser._subparsers._group_actions[0].choices[command]
    by_dest = {action.dest: action for action in subparser._actions}
    for field in dataclasses.fields(cls):
        assert flag_name(field) == "--" + field.name.replace("_", "-")  # flag = field name with dashes
        assert flag_name(field) in by_dest[field.name].option_strings
        assert by_dest[field.name].help == field.metadata["help"]
    options = {flag for action in subparser._actions for flag in action.option_strings}
    assert set(old_flags) <= options


def test_gan_flags_left_out_give_the_dataclass_defaults_and_the_papers_values():
    from MedGANSynthLib.training.optimizers import paper_settings

    settings = _parsed(GanTrainingSettings, "-o", "run")
    assert settings == GanTrainingSettings(output="run")
    assert (settings.loss, settings.seed, settings.checkpoint_every, settings.device, settings.workers) == \
        ("bce", 0, 1, "auto", 0)
    # None leaves epochs and batch size to the papers (--epochs help: "paper: radiogan 300, brain_dcgan 500";
    # --batch-size: "paper: brain_dcgan 64, ct_gan 16")
    assert paper_settings("radiogan").epochs == 300 and paper_settings("brain_dcgan").epochs == 500
    assert paper_settings("brain_dcgan").batch_size == 64 and paper_settings("ct_gan").batch_size == 16


def test_virtual_pet_flags_left_out_give_the_documented_defaults():
    from MedGANSynthLib.virtual_pet.losses import PIX2PIX_RECONSTRUCTION_WEIGHT
    from MedGANSynthLib.virtual_pet.slice_dataset import SliceDatasetConfig
    from MedGANSynthLib.virtual_pet.training_task import VirtualPETNetworkSettings

    settings = _parsed(VirtualPETTrainingSettings, "-o", "run")
    assert settings == VirtualPETTrainingSettings(output="run")
    # The values the help texts and the module documentation state (pix2pix's lambda 100, batch 8, 128 px, ...).
    assert (settings.batch_size, settings.width_fcn, settings.width_gan, settings.depth, settings.gan_upsampling,
            settings.context_slices, settings.slice_size, settings.lesion_repeats, settings.gan_l2_weight,
            settings.suv_weight_power, settings.symmetric_suv_weight, settings.crop_size, settings.gan_loss,
            settings.lr_d) == (8, 0.125, 0.25, 7, "transposed", 1, 128, 3, 100.0, 1.0, False, None, "bce", None)
    # ... the same as the defaults of the classes that build the networks and the slices
    networks, slices = VirtualPETNetworkSettings(), SliceDatasetConfig()
    assert (networks.width_fcn, networks.width_gan, networks.depth, networks.gan_upsampling) == \
        (settings.width_fcn, settings.width_gan, settings.depth, settings.gan_upsampling)
    assert networks.in_channels == 2 * settings.context_slices + 1
    assert (slices.context_slices, slices.slice_size, slices.lesion_repeats, slices.crop_size) == \
        (settings.context_slices, settings.slice_size, settings.lesion_repeats, settings.crop_size)
    assert PIX2PIX_RECONSTRUCTION_WEIGHT == settings.gan_l2_weight


def test_cyclegan_flags_left_out_give_the_papers_values():
    from MedGANSynthLib.cyclegan.image_pool import POOL_SIZE
    from MedGANSynthLib.cyclegan.losses import CYCLE_WEIGHT, IDENTITY_FRACTION
    from MedGANSynthLib.cyclegan.networks import CycleGANNetworkSettings
    from MedGANSynthLib.cyclegan.task import LEARNING_RATE
    from MedGANSynthLib.cyclegan.training_settings import DEFAULT_EPOCHS, NETWORK_FIELDS

    settings = settings_from_args(CycleGANTrainingSettings,
                                  build_parser().parse_args(["train-cyclegan", "-o", "run"]))
    assert settings == CycleGANTrainingSettings(output="run")
    # Zhu et al. 2017 (as the --help texts say): 256 px, 200 epochs, batch 1, Adam 2e-4, lambda 10, identity 0.5,
    # pools of 50, ResNet with 9 blocks at full width; this library: CT -> PET, 2-D (no context), U-Net depth 8.
    # Epochs and rate are None until the run starts (so a resume sees whether they were given).
    assert (settings.kind_a, settings.kind_b, settings.image_size, settings.context_slices, settings.batch_size,
            settings.cycle_weight, settings.identity_fraction, settings.pool_size, settings.epochs, settings.lr) == \
        ("ct", "pet", 256, 0, 1, 10, 0.5, 50, None, None)
    assert (DEFAULT_EPOCHS, LEARNING_RATE) == (200, 2e-4)
    assert (settings.generator, settings.residual_blocks, settings.width, settings.unet_depth, settings.upsampling) \
        == ("resnet", 9, 1, 8, "transposed")
    # ... the same as the defaults of the classes that train and build the networks
    assert (CYCLE_WEIGHT, IDENTITY_FRACTION, POOL_SIZE) == (settings.cycle_weight, settings.identity_fraction,
                                                           settings.pool_size)
    networks = CycleGANNetworkSettings()
    assert {name: getattr(networks, name) for name in NETWORK_FIELDS} == \
        {name: getattr(settings, name) for name in NETWORK_FIELDS}


def test_settings_argv_rebuilds_the_same_settings():
    """What the Slicer bridge does: settings -> flags -> the command's settings."""
    settings = GanTrainingSettings(output="r", architecture="ct_gan", data="/d", window=[-160.0, 240.0], lr=1e-5,
                                   minibatch_std=True, global_latent=8, image_size="40", device="cpu")
    assert _parsed(GanTrainingSettings, *settings_argv(settings)) == settings
    cyclegan = CycleGANTrainingSettings(output="r", data_a="/a", data_b="/b", window_a=[-160.0, 240.0], epochs=3,
                                        width=0.25, upsampling="resize", name_b="SUV", device="cpu")
    assert settings_from_args(CycleGANTrainingSettings, build_parser().parse_args(
        ["train-cyclegan", *settings_argv(cyclegan)])) == cyclegan


# ---- recipes and --set ------------------------------------------------------------------------------------
# The commands of Testing/Training/train_bundled_gans.sh, train_gans_v3.sh (stages_translation: RadioGAN) and
# train_virtual_pet.sh, copied from the scripts.
SCRIPT_FLAGS = {
    "radiogan-phantom": "--architecture radiogan --epochs 700 --batch-size 32 --discriminator-norm spectral "
                        "--discriminator-dropout 0 --loss hinge --class-projection --minibatch-std "
                        "--generator-upsampling resize --class-batchnorm --mismatched-labels --window 0,10 --lr 2e-4 "
                        "--lr-d 2e-4 --checkpoint-every 5 --seed 11 --augment translation",
    "ct-gan-phantom": "--architecture ct_gan --epochs 40 --image-size 40 --width 0.5 --discriminator-norm spectral "
                      "--discriminator-dropout 0 --minibatch-std --latent-coordinates --global-latent 16 --lr 5e-4 "
                      "--lr-d 2e-4 --checkpoint-every 5 --seed 14",
    "brain-dcgan-phantom": "--architecture brain_dcgan --epochs 75 --batch-size 32 --image-size 64 "
                           "--discriminator-norm spectral --minibatch-std --lr 5e-4 --lr-d 2e-4 --checkpoint-every 5 "
                           "--seed 12",
    "virtual-pet-phantom": "--epochs 3 --batch-size 8 --seed 31 --checkpoint-every 1 --width-fcn 0.25 --width-gan "
                           "0.25 --depth 7 --gan-upsampling resize --context-slices 2 --slice-size 128 "
                           "--lesion-repeats 5 --suv-weight-power 2 --symmetric-suv-weight",
}


@pytest.mark.parametrize("name", list(SCRIPT_FLAGS))
def test_a_recipe_equals_the_scripts_flags(name):
    cls = VirtualPETTrainingSettings if name.startswith("virtual-pet") else GanTrainingSettings
    common = ["--data", "/d", "-o", "run"]
    assert _parsed(cls, "--recipe", name, *common) == _parsed(cls, *shlex.split(SCRIPT_FLAGS[name]), *common)


def test_flags_override_the_recipe_and_set_and_the_help_lists_the_recipes(capsys):
    settings = _parsed(GanTrainingSettings, "--recipe", "ct-gan-phantom", "--set", "epochs=7", "--epochs", "3",
                       "--set", "seed=2", "-o", "run")
    assert (settings.epochs, settings.seed, settings.global_latent) == (3, 2, 16)
    assert main(["train", "--help"]) == 0
    help_text = capsys.readouterr().out
    assert all(f"  {name}: --" in help_text for name in GAN_RECIPES)


def test_set_types_each_value_by_its_field():
    settings = _parsed(GanTrainingSettings, "-o", "run", "--set", "lr_d=1e-4", "--set", "minibatch_std=true",
                       "--set", "window=-160,240", "--set", "epochs=5", "--set", "global-latent=3",
                       "--set", "discriminator_norm=spectral", "--set", "n_critic=none")
    assert (settings.lr_d, settings.minibatch_std, settings.window, settings.epochs, settings.global_latent,
            settings.discriminator_norm, settings.n_critic) == (1e-4, True, [-160.0, 240.0], 5, 3, "spectral", None)
    assert isinstance(settings.epochs, int) and isinstance(settings.lr_d, float)


@pytest.mark.parametrize(("assignment", "message"), [
    ("learning_rate=1e-4", "Unknown setting 'learning_rate'; valid keys: output, seed,"),
    ("epochs=five", "--set epochs: 'five' is not a whole number"),
    ("minibatch_std=maybe", "--set minibatch_std: 'maybe' is not true or false"),
    ("loss=l1", "--set loss: 'l1' is not one of bce, wgan-gp, hinge"),
    ("window=10,0", "--window needs LOW below HIGH"),
    ("epochs", "--set takes KEY=VALUE"),
])
def test_set_errors_are_one_line(tmp_path, capsys, assignment, message):
    code = main(["train", "--architecture", "ct_gan", "--data", str(tmp_path), "-o", str(tmp_path / "run"),
                 "--set", assignment])
    error = capsys.readouterr().err
    assert code == 2 and message in error and error.count("\n") == 1
    assert not (tmp_path / "run").exists()


# ---- options refused for other architectures ----------------------------------------------------------------
_ARCHITECTURE_ONLY = [(field.name, architecture) for field in dataclasses.fields(GanTrainingSettings)
                      for architecture in ("radiogan", "brain_dcgan", "ct_gan")
                      if field.metadata["architectures"] and architecture not in field.metadata["architectures"]]


@pytest.mark.parametrize(("name", "architecture"), _ARCHITECTURE_ONLY)
def test_an_option_for_another_architecture_is_one_line(tmp_path, capsys, name, architecture):
    field = GanTrainingSettings.__dataclass_fields__[name]
    value = {"bool": [], "float": ["0.5"], "int": ["4"]}.get(field.type.split()[0], ["resize"])
    code = main(["train", "--architecture", architecture, "--data", str(tmp_path), "-o", str(tmp_path / "run"),
                 flag_name(field), *value])
    error = capsys.readouterr().err
    assert code == 2 and error.count("\n") == 1 and f"{flag_name(field)} is a " in error and " option" in error
    assert not (tmp_path / "run").exists()


def test_the_architecture_only_options_are_declared():
    # 5 RadioGAN-only options x 2 other architectures + 2 CT-GAN-only x 2 + dropout (not brain_dcgan); the
    # generator up-sampling applies to all three since the CT GAN has it too
    assert len(_ARCHITECTURE_ONLY) == 15
    assert not any(name == "generator_upsampling" for name, _ in _ARCHITECTURE_ONLY)


# ---- the Python API ---------------------------------------------------------------------------------------
def test_train_virtual_pet_from_python_then_resume_with_more_epochs(tmp_path):
    from MedGANSynthLib.errors import InputError
    from MedGANSynthLib.virtual_pet.training_run import read_virtual_pet_settings, train_virtual_pet
    from MedGANSynthLib.virtual_pet.weights import load_virtual_pet

    assert main(["phantoms", "--kind", "wholebody", "--phantom-version", "1",
                 "--count", "2", "--seed", "5", "--voxel-mm", "8", "--classes",
                 "lymphoma,lung", "-o", str(tmp_path / "data"), "--quiet"]) == 0
    run = tmp_path / "run"
    settings = VirtualPETTrainingSettings(data=str(tmp_path / "data"), output=str(run), epochs=1, batch_size=16,
                                          width_fcn=0.0625, width_gan=0.0625, depth=4, slice_size=32, device="cpu")
    summary = train_virtual_pet(settings)
    assert summary["epochs"] == 1 and (run / "weights" / "virtual_pet.safetensors").is_file()
    saved = read_virtual_pet_settings(run, device="cpu")
    assert saved == dataclasses.replace(settings, data=str((tmp_path / "data").resolve()))
    with pytest.raises(InputError, match="leave out --slice-size"):
        train_virtual_pet(dataclasses.replace(saved, epochs=2, slice_size=64), resume=True)
    steps_per_epoch = summary["global_step"]
    summary = train_virtual_pet(dataclasses.replace(saved, epochs=2), resume=True)
    assert summary["epochs"] == 2 and summary["global_step"] == 2 * steps_per_epoch
    model = load_virtual_pet(run / "weights" / "virtual_pet.safetensors")
    assert model.card.epochs == 2 and model.gan.config.depth == 4 and model.in_channels == 3
