"""safetensors + JSON model card: exact round trips (BatchNorm buffers included) and a clear refusal per bad file."""

from __future__ import annotations

import io
import json

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.networks import build_gan
from MedGANSynthLib.weights import ModelCard, load_gan, phantom_training_data, save_model
from MedGANSynthLib.weights.safetensors_io import file_sha256

TINY = {
    "radiogan": {"image_height": 20, "image_width": 12, "generator_base_channels": 16,
                 "discriminator_channels": [4] * 8, "embedding_dim": 6},
    "brain_dcgan": {"image_size": 32, "generator_base_channels": 16, "discriminator_channels": [4, 4, 8, 8, 8]},
    "ct_gan": {"image_height": 8, "image_width": 12, "generator_channels": [8, 8, 4, 4, 4],
               "discriminator_channels": [4, 4, 4, 4], "discriminator_dense": 8},
}
CLASSES = {"radiogan": ["normal", "head_neck", "oesophagus", "lung", "lymphoma"], "brain_dcgan": ["AD"], "ct_gan": []}
NORMALISATION = {
    "radiogan": {"kind": "suv", "low": 0, "high": 30, "output_range": [-1, 1]},
    "brain_dcgan": {"kind": "suv", "low": 0, "high": 15, "output_range": [-1, 1]},
    "ct_gan": {"kind": "hu", "low": -1000, "high": 1000, "output_range": [0, 2]},
}


def _card(architecture: str) -> ModelCard:
    return ModelCard(
        architecture=architecture, config={}, normalisation=NORMALISATION[architecture],
        class_names=CLASSES[architecture], training_data=phantom_training_data({"images": 12}), epochs=3,
        metrics={"fid": 1.5},
    )


def _trained_like(architecture: str):
    """Networks whose BatchNorm running statistics moved away from their initial 0 / 1."""
    torch.manual_seed(7)
    generator, discriminator, _ = build_gan(architecture, TINY[architecture])
    labels = torch.tensor([0, 1, 2, 3]) if generator.num_classes else None
    with torch.no_grad():
        for _ in range(3):
            discriminator(generator(generator.sample_latent(4), labels), labels)
    return generator, discriminator


def _saved(tmp_path, architecture="radiogan"):
    generator, discriminator = _trained_like(architecture)
    tensor_path, card_path = save_model({"generator": generator, "discriminator": discriminator},
                                        _card(architecture), tmp_path / "model")
    return generator, discriminator, tensor_path, card_path


def _rewrite_tensors(tensor_path, card_path, tensors):
    """Replace the tensor file and re-sign the card, so the check under test is the one that fires."""
    save_file(tensors, str(tensor_path))
    _edit_card(card_path, tensor_sha256=file_sha256(tensor_path))


def _edit_card(card_path, **changes):
    data = json.loads(card_path.read_text())
    data.update(changes)
    card_path.write_text(json.dumps(data))


def _one_line_error(call) -> str:
    with pytest.raises(InputError) as info:
        call()
    message = str(info.value)
    assert "\n" not in message and message
    return message


@pytest.mark.parametrize("architecture", sorted(TINY))
def test_round_trip_is_exact_including_batchnorm_buffers(tmp_path, architecture):
    generator, discriminator, tensor_path, card_path = _saved(tmp_path, architecture)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.json", "model.safetensors"]  # no temp files left
    running = [k for k in generator.state_dict() if k.endswith("running_mean")]
    assert running and not torch.equal(generator.state_dict()[running[0]], torch.zeros_like(generator.state_dict()[running[0]]))
    loaded_g, loaded_d, card = load_gan(tensor_path, architecture=architecture)
    for original, loaded in ((generator, loaded_g), (discriminator, loaded_d)):
        original_state, loaded_state = original.state_dict(), loaded.state_dict()
        assert original_state.keys() == loaded_state.keys()
        for key, value in original_state.items():
            assert torch.equal(value, loaded_state[key]), key
    assert not loaded_g.training and not loaded_d.training
    generator.eval()
    z = generator.sample_latent(2, torch.Generator().manual_seed(0))
    labels = torch.tensor([1, 4]) if generator.num_classes else None
    assert torch.equal(generator(z, labels), loaded_g(z, labels))
    assert card.architecture == architecture and card.tensor_sha256 == file_sha256(tensor_path)
    assert card.config == json.loads(card_path.read_text())["config"]
    assert card.training_data["patients"] is False and "not on patient data" in card.training_data["description"]


def test_file_is_plain_safetensors_with_buffers(tmp_path):
    _, _, tensor_path, _ = _saved(tmp_path, "brain_dcgan")
    with safe_open(str(tensor_path), framework="pt") as handle:
        keys = set(handle.keys())
        assert handle.metadata()["architecture"] == "brain_dcgan"
    assert any(k.startswith("generator.") and k.endswith("running_var") for k in keys)
    assert any(k.endswith("num_batches_tracked") for k in keys)
    assert any(k.startswith("discriminator.") for k in keys)


def test_generator_only_file_and_loading_by_card_or_stem(tmp_path):
    generator, _ = _trained_like("ct_gan")
    tensor_path, card_path = save_model({"generator": generator}, _card("ct_gan"), tmp_path / "ct")
    for path in (tensor_path, card_path, tmp_path / "ct"):
        loaded_g, loaded_d, _ = load_gan(path)
        assert loaded_d is None and loaded_g.image_shape == generator.image_shape
    _, no_d, _ = load_gan(_saved(tmp_path / "both")[2], with_discriminator=False)
    assert no_d is None


def test_save_into_folder_names_file_after_architecture_and_class(tmp_path):
    generator, _ = _trained_like("brain_dcgan")
    tensor_path, card_path = save_model({"generator": generator}, _card("brain_dcgan"), tmp_path)
    assert tensor_path.name == "brain_dcgan_AD.safetensors" and card_path.name == "brain_dcgan_AD.json"


def test_card_json_round_trip_and_validation():
    card = _card("radiogan")
    assert ModelCard.from_json(card.to_json()) == card
    bad_norm = {**NORMALISATION["radiogan"], "low": 30, "high": 0}
    with pytest.raises(InputError, match="low < high"):
        ModelCard(**{**card.__dict__, "normalisation": bad_norm})
    with pytest.raises(InputError, match="not valid JSON"):
        ModelCard.from_json("{not json")


# ---- each damaged or mismatched file gets its own clear refusal -------------------------------------------


def test_missing_card(tmp_path):
    _, _, tensor_path, card_path = _saved(tmp_path)
    card_path.unlink()
    assert "missing" in _one_line_error(lambda: load_gan(tensor_path))


def test_json_that_is_not_a_model_card(tmp_path):
    _, _, tensor_path, card_path = _saved(tmp_path)
    card_path.write_text(json.dumps({"name": "something else", "weights": [1, 2]}))
    assert "not a MedGANSynth model card" in _one_line_error(lambda: load_gan(tensor_path))
    card_path.write_text("\x00\x01 binary")
    assert "not valid JSON" in _one_line_error(lambda: load_gan(tensor_path))


def test_card_for_another_architecture(tmp_path):
    _, _, tensor_path, _ = _saved(tmp_path, "ct_gan")
    message = _one_line_error(lambda: load_gan(tensor_path, architecture="radiogan"))
    assert "'ct_gan' model" in message and "'radiogan'" in message


def test_unknown_architecture(tmp_path):
    _, _, tensor_path, card_path = _saved(tmp_path)
    _edit_card(card_path, architecture="stylegan3")
    assert "Unknown GAN architecture 'stylegan3'" in _one_line_error(lambda: load_gan(tensor_path))


def test_checksum_mismatch(tmp_path):
    _, _, tensor_path, _ = _saved(tmp_path)
    data = bytearray(tensor_path.read_bytes())
    data[-5] ^= 0xFF  # one flipped bit pattern inside a weight
    tensor_path.write_bytes(bytes(data))
    assert "does not match its model card" in _one_line_error(lambda: load_gan(tensor_path))


def test_truncated_or_corrupt_tensor_file(tmp_path):
    _, _, tensor_path, card_path = _saved(tmp_path)
    tensor_path.write_bytes(tensor_path.read_bytes()[: tensor_path.stat().st_size // 2])
    _edit_card(card_path, tensor_sha256=file_sha256(tensor_path))
    assert "truncated or corrupt" in _one_line_error(lambda: load_gan(tensor_path))
    tensor_path.write_bytes(b"PK\x03\x04 this is a zip, maybe a pickle")
    _edit_card(card_path, tensor_sha256=file_sha256(tensor_path))
    assert "truncated or corrupt" in _one_line_error(lambda: load_gan(tensor_path))


def test_missing_tensor(tmp_path):
    _, _, tensor_path, card_path = _saved(tmp_path)
    tensors = load_file(str(tensor_path))
    tensors.pop("generator.project_norm.running_var")
    _rewrite_tensors(tensor_path, card_path, tensors)
    message = _one_line_error(lambda: load_gan(tensor_path))
    assert "lacks 1 tensor" in message and "generator.project_norm.running_var" in message


def test_unexpected_tensor(tmp_path):
    _, _, tensor_path, card_path = _saved(tmp_path)
    tensors = load_file(str(tensor_path))
    tensors["generator.extra_head.weight"] = torch.zeros(3)
    _rewrite_tensors(tensor_path, card_path, tensors)
    message = _one_line_error(lambda: load_gan(tensor_path))
    assert "does not have" in message and "generator.extra_head.weight" in message


def test_mismatched_tensor_shape_names_tensor_and_both_shapes(tmp_path):
    _, _, tensor_path, card_path = _saved(tmp_path)
    tensors = load_file(str(tensor_path))
    tensors["generator.project.weight"] = torch.zeros(7, 5)
    expected = tuple(load_file(str(tensor_path))["generator.project.weight"].shape)
    _rewrite_tensors(tensor_path, card_path, tensors)
    message = _one_line_error(lambda: load_gan(tensor_path))
    assert "'generator.project.weight'" in message and "(7, 5)" in message and str(expected) in message


def test_card_config_that_does_not_fit_the_tensors(tmp_path):
    _, _, tensor_path, card_path = _saved(tmp_path)
    config = json.loads(card_path.read_text())["config"]
    _edit_card(card_path, config={**config, "generator_base_channels": 32})
    assert "has shape" in _one_line_error(lambda: load_gan(tensor_path))


def test_missing_tensor_file_and_class_name_mismatch(tmp_path):
    _, _, tensor_path, card_path = _saved(tmp_path)
    _edit_card(card_path, class_names=["normal", "lung"])
    assert "2 class name(s)" in _one_line_error(lambda: load_gan(tensor_path))
    tensor_path.unlink()
    assert "is missing" in _one_line_error(lambda: load_gan(card_path))


def test_save_refuses_a_card_that_contradicts_the_network(tmp_path):
    generator, _ = _trained_like("ct_gan")
    with pytest.raises(InputError, match="generator is a 'ct_gan'"):
        save_model({"generator": generator}, _card("radiogan"), tmp_path / "x")
    wrong = _card("ct_gan")
    wrong.config = {"image_height": 64}
    with pytest.raises(InputError, match="differs"):
        save_model({"generator": generator}, wrong, tmp_path / "x")
    assert list(tmp_path.iterdir()) == []


def test_loading_does_not_unpickle(tmp_path):
    """A pickle renamed to .safetensors is refused as corrupt; nothing in it ever runs."""
    _, _, tensor_path, card_path = _saved(tmp_path)
    buffer = io.BytesIO()
    torch.save({"x": torch.zeros(1)}, buffer)
    tensor_path.write_bytes(buffer.getvalue())
    _edit_card(card_path, tensor_sha256=file_sha256(tensor_path))
    assert "truncated or corrupt" in _one_line_error(lambda: load_gan(tensor_path))


def test_unavailable_device_is_a_clear_error(tmp_path):
    _, _, tensor_path, _ = _saved(tmp_path, "ct_gan")
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    assert "CUDA" in _one_line_error(lambda: load_gan(tensor_path, device="cuda"))
