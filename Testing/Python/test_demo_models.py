"""The demo's model steps, with tiny models installed into a temporary catalogue."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from tiny_models import save_tiny_gan, save_tiny_virtual_pet

from MedGANSynthLib.app.demo_models import predict_virtual_pets, sample_bundled_gans
from MedGANSynthLib.errors import InputError
from MedGANSynthLib.io import read_volume
from MedGANSynthLib.virtual_pet.weights import install_virtual_pet
from MedGANSynthLib.volume import Volume
from MedGANSynthLib.weights.catalogue import file_sha256, load_catalogue, resolve_model
from MedGANSynthLib.weights.install import install_gan


@pytest.fixture
def models_folder(tmp_path, monkeypatch):
    folder = tmp_path / "models"
    folder.mkdir()
    monkeypatch.setenv("MEDGANSYNTH_MODELS", str(folder))
    return folder


def test_without_models_the_steps_say_so(models_folder, tmp_path):
    assert "no bundled GAN" in sample_bundled_gans(tmp_path / "g", seed=0)["skipped"]
    assert "no bundled virtual-PET" in predict_virtual_pets(tmp_path / "v", {})["skipped"]


def test_installed_gan_is_sampled_per_class_with_a_walk(models_folder, tmp_path):
    card = install_gan(save_tiny_gan(tmp_path / "src"), models_folder, "tiny-radiogan", "Tiny")
    (entry,) = load_catalogue()
    assert entry.classes and resolve_model("tiny-radiogan") == card.with_suffix(".safetensors")
    assert entry.sha256 == file_sha256(card.with_suffix(".safetensors"))
    files = sample_bundled_gans(tmp_path / "out", seed=2)["tiny-radiogan"]
    assert len(files) == len(entry.classes) + 1  # one grid per class + the walk
    walk = read_volume(files["walk"]["nrrd"])
    assert walk.array.shape[0] == 10 and walk.units == "SUV"


def test_reinstalling_a_model_replaces_its_entry_in_place(models_folder, tmp_path):
    install_gan(save_tiny_gan(tmp_path / "a", seed=3), models_folder, "first", "First")
    install_gan(save_tiny_gan(tmp_path / "b", seed=3), models_folder, "second", "Second")
    retrained = save_tiny_gan(tmp_path / "c", seed=4)
    card = install_gan(retrained, models_folder, "first", "First, retrained")
    entries = load_catalogue()
    assert [entry.id for entry in entries] == ["first", "second"]
    assert entries[0].sha256 == file_sha256(retrained) == file_sha256(card.with_suffix(".safetensors"))


def test_installing_a_damaged_model_is_refused(models_folder, tmp_path):
    source = save_tiny_gan(tmp_path / "src")
    source.write_bytes(source.read_bytes()[:100])
    with pytest.raises(InputError):
        install_gan(source, models_folder, "broken", "Broken")
    assert load_catalogue() == []


def test_virtual_pet_step_writes_outputs_on_the_ct_grid(models_folder, tmp_path):
    install_virtual_pet(save_tiny_virtual_pet(tmp_path / "src"), models_folder, "virtual-pet-phantom")
    rng = np.random.default_rng(0)
    ct = np.full((6, 32, 32), -1000.0, np.float32)
    ct[:, 6:26, 6:26] = 40.0 + rng.normal(0, 10, (6, 20, 20))
    volume = Volume(ct, spacing=(4.0, 4.0, 5.0), origin=(-64.0, -64.0, 0.0), modality="CT", units="HU")
    result = predict_virtual_pets(tmp_path / "vp", {"phantom_ct": volume})
    out = read_volume(tmp_path / "vp" / "phantom_ct" / "virtual_pet.nrrd")
    assert result["model"] == "virtual-pet-phantom" and out.same_grid(volume)
    # The demo keeps its folder small: the blended virtual PET only (the CLI writes the others on request).
    written = {path.name for path in (tmp_path / "vp" / "phantom_ct").iterdir()}
    assert "lesion_labels.nrrd" in written and not written & {"fcn.nrrd", "gan.nrrd", "uncertainty.nrrd"}


def test_float16_install_halves_the_file_and_predicts_within_half_precision(models_folder, tmp_path):
    from safetensors import safe_open

    from MedGANSynthLib.virtual_pet.inference import VirtualPETConfig, predict_virtual_pet
    from MedGANSynthLib.virtual_pet.weights import load_virtual_pet

    source = save_tiny_virtual_pet(tmp_path / "src")
    card = install_virtual_pet(source, models_folder, "virtual-pet-half", float16=True)
    installed = card.with_suffix(".safetensors")
    with safe_open(str(source), framework="pt") as full, safe_open(str(installed), framework="pt") as half:
        for key in full.keys():
            original, stored = full.get_tensor(key), half.get_tensor(key)
            expected_dtype = torch.float16 if original.is_floating_point() else original.dtype  # counters stay int
            assert stored.dtype == expected_dtype, key
    assert installed.stat().st_size < 0.55 * source.stat().st_size
    (entry,) = load_catalogue()
    assert entry.sha256 == file_sha256(installed)  # the card and catalogue describe the file actually written
    rng = np.random.default_rng(1)
    ct = np.full((4, 32, 32), -1000.0, np.float32)
    ct[:, 6:26, 6:26] = 40.0 + rng.normal(0, 10, (4, 20, 20))
    volume = Volume(ct, spacing=(4.0, 4.0, 5.0), modality="CT", units="HU")
    results = [predict_virtual_pet(volume, model.fcn, model.gan, VirtualPETConfig(), device="cpu").blended.array
               for model in (load_virtual_pet(source), load_virtual_pet("virtual-pet-half"))]
    assert results[1].dtype == np.float32
    # float16 keeps ~3 significant digits: outputs within SUV 0.05 of the float32 model (range 0-20)
    np.testing.assert_allclose(results[1], results[0], atol=0.05)
    assert not np.array_equal(results[1], results[0])  # the weights really were rounded
