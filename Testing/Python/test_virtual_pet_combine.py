"""combine_virtual_pet: the FCN of one saved model with the generator of another, refused when inputs differ."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file
from tiny_models import save_tiny_virtual_pet

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.virtual_pet.combine import combine_virtual_pet
from MedGANSynthLib.virtual_pet.weights import load_virtual_pet, update_card_metrics
from MedGANSynthLib.weights.model_card import ModelCard


def _tensors(path, prefix):
    return {key: value for key, value in load_file(str(path)).items() if key.startswith(prefix)}


def test_combined_model_holds_the_fcn_of_one_and_the_generator_of_the_other(tmp_path):
    first = save_tiny_virtual_pet(tmp_path / "a", seed=1)
    second = save_tiny_virtual_pet(tmp_path / "b", seed=2)
    update_card_metrics(first.with_suffix(".json"), {"training": {"seed": 1}}, blending={"slice_smoothing_mm": 12.0})
    tensors, card_path = combine_virtual_pet(first, second, tmp_path / "combined")

    combined = load_file(str(tensors))
    for prefix, source in (("fcn.", first), ("gan.", second)):
        expected = _tensors(source, prefix)
        assert expected, "the tiny models have tensors under both prefixes"
        for key, value in expected.items():
            assert torch.equal(combined[key], value), key
    own_generator = _tensors(first, "gan.")
    assert any(not torch.equal(combined[key], value) for key, value in own_generator.items()), \
        "the two tiny models differ, so the test can tell which generator was kept"
    card = json.loads(card_path.read_text())
    sources = card["training_data"]["combined_from"]
    for role, source in (("fcn", first), ("gan", second)):
        source_card = json.loads(source.with_suffix(".json").read_text())
        assert sources[role]["tensor_sha256"] == source_card["tensor_sha256"]
        assert sources[role]["training"] == source_card["metrics"].get("training")
    assert sources["fcn"]["training"] == {"seed": 1}
    assert card["config"]["slice_smoothing_mm"] == 12.0, "blend settings follow the FCN's model"
    assert "training_data" not in sources["gan"], "both tiny models were trained on the same (stated) data"
    load_virtual_pet(tensors)  # the checksum and shapes of the written pair are valid


def test_models_fed_differently_are_refused_and_nothing_is_written(tmp_path):
    first = save_tiny_virtual_pet(tmp_path / "a", seed=1)
    other_grid = save_tiny_virtual_pet(tmp_path / "b", seed=2, working_pixel_mm=2.0)
    with pytest.raises(InputError, match="working_pixel_mm"):
        combine_virtual_pet(first, other_grid, tmp_path / "combined")
    assert not list(tmp_path.glob("combined*"))


def test_a_generator_trained_on_other_data_keeps_its_own_data_summary(tmp_path):
    first = save_tiny_virtual_pet(tmp_path / "a", seed=1)
    second = save_tiny_virtual_pet(tmp_path / "b", seed=2)
    card = ModelCard.load(second.with_suffix(".json"))
    card.training_data = {**card.training_data, "counts": {"cases": 5}}
    card.save(second.with_suffix(".json"))
    _, card_path = combine_virtual_pet(first, second, tmp_path / "combined")
    combined = json.loads(card_path.read_text())["training_data"]
    assert combined["counts"] == {"cases": 1} and combined["combined_from"]["gan"]["training_data"]["counts"] == {"cases": 5}
