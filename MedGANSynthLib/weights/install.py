"""Install a trained model into a models folder (default: the bundled ``Resources/Models``) and list it."""

from __future__ import annotations

import dataclasses
import os
import shutil
from collections.abc import Callable
from pathlib import Path

from MedGANSynthLib.io.atomic import atomic_output
from MedGANSynthLib.weights.catalogue import register_model
from MedGANSynthLib.weights.model_card import ModelCard
from MedGANSynthLib.weights.safetensors_io import load_gan, weight_paths


def install_model(tensor_path: str | os.PathLike, folder: str | os.PathLike, model_id: str, title: str, task: str,
                  check_loads: Callable[[Path], object], description: str = "") -> Path:
    """Copy ``<stem>.safetensors`` + card to ``folder/<id with _>.*`` once ``check_loads`` accepts them, and list the
    model in the folder's catalogue with its SHA-256; returns the installed card."""
    source_tensor, source_card = weight_paths(tensor_path)
    check_loads(source_tensor)  # refuse a damaged or foreign model before installing it
    target_tensor, target_card = weight_paths(Path(folder) / model_id.replace("-", "_"))
    with atomic_output(target_tensor) as temp:
        shutil.copyfile(source_tensor, temp)
    card = dataclasses.replace(ModelCard.load(source_card), tensor_file=target_tensor.name)
    card.save(target_card)
    register_model(target_tensor, model_id, task, card.architecture, title,
                   description or card.training_data.get("description", ""), card.class_names, folder)
    return target_card


def install_gan(tensor_path: str | os.PathLike, folder: str | os.PathLike, model_id: str, title: str,
                description: str = "") -> Path:
    return install_model(tensor_path, folder, model_id, title, "gan", load_gan, description)
