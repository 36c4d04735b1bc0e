"""Model look-up by catalogue id or path, with the SHA-256 check that protects bundled files."""

from __future__ import annotations

import hashlib
import json

import pytest

from MedGANSynthLib.cli.main import main
from MedGANSynthLib.errors import InputError
from MedGANSynthLib.weights.catalogue import load_catalogue, resolve_model


@pytest.fixture
def models(tmp_path, monkeypatch):
    tensors = tmp_path / "toy.safetensors"
    tensors.write_bytes(b"not really tensors, but bytes with a known digest")
    digest = hashlib.sha256(tensors.read_bytes()).hexdigest()  # independent of the code under test
    entry = {"id": "toy-gan", "task": "gan", "architecture": "radiogan", "file": "toy.safetensors",
             "title": "Toy", "description": "for tests", "sha256": digest, "classes": ["a", "b"]}
    (tmp_path / "catalogue.json").write_text(json.dumps({"schema_version": 1, "models": [entry]}))
    monkeypatch.setenv("MEDGANSYNTH_MODELS", str(tmp_path))
    return tmp_path


def test_id_resolves_to_the_checked_file(models):
    assert resolve_model("toy-gan") == models / "toy.safetensors"
    assert [entry.classes for entry in load_catalogue()] == [("a", "b")]


def test_a_damaged_bundled_file_is_refused(models):
    (models / "toy.safetensors").write_bytes(b"tampered")
    with pytest.raises(InputError, match="checksum"):
        resolve_model("toy-gan")


def test_unknown_id_lists_the_known_ones(models):
    with pytest.raises(InputError, match="bundled models: toy-gan"):
        resolve_model("nope")


def test_wrong_task_is_refused(models):
    with pytest.raises(InputError, match="is a gan model"):
        resolve_model("toy-gan", task="virtual_pet")


def test_user_paths_pass_through_and_missing_ones_are_refused(models, tmp_path):
    assert resolve_model(models / "toy.json") == models / "toy.safetensors"
    with pytest.raises(InputError, match="does not exist"):
        resolve_model(tmp_path / "absent.safetensors")


def test_models_command_lists_the_catalogue(models, capsys):
    assert main(["models"]) == 0
    assert "toy-gan" in capsys.readouterr().out
