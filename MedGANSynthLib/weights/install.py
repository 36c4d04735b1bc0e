"""Install a trained model into a models folder (default: the bundled ``Resources/Models``) and list it."""

from __future__ import annotations

import dataclasses
import os
import shutil
from collections.abc import Callable
from pathlib import Path

from safetensors import safe_open
from safetensors.torch import save_file

from MedGANSynthLib.io.atomic import atomic_output
from MedGANSynthLib.weights.catalogue import file_sha256, register_model
from MedGANSynthLib.weights.model_card import ModelCard
from MedGANSynthLib.weights.safetensors_io import load_gan, weight_paths


def install_model(tensor_path: str | os.PathLike, folder: str | os.PathLike, model_id: str, title: str, task: str,
                  check_loads: Callable[[Path], object], description: str = "", float16: bool = False) -> Path:
    """Copy ``<stem>.safetensors`` + card to ``folder/<id with _>.*`` once ``check_loads`` accepts them, and list the
    model in the folder's catalogue with its SHA-256; returns the installed card.

    ``float16`` stores the floating-point tensors at half precision (half the file; loading casts them back into
    the float32 networks). Measure the installed model again: its outputs move by float16 rounding.
    """
    source_tensor, source_card = weight_paths(tensor_path)
    check_loads(source_tensor)  # refuse a damaged or foreign model before installing it
    card = ModelCard.load(source_card)
    target_tensor, target_card = weight_paths(Path(folder) / model_id.replace("-", "_"))
    with atomic_output(target_tensor) as temp:
        if float16:
            _write_float16_copy(source_tensor, temp)
            card.training_data["weights_stored_as"] = "float16 (trained in float32)"
        else:
            shutil.copyfile(source_tensor, temp)
        card = dataclasses.replace(card, tensor_file=target_tensor.name, tensor_sha256=file_sha256(temp))
    card.save(target_card)
    register_model(target_tensor, model_id, task, card.architecture, title,
                   description or card.training_data.get("description", ""), card.class_names, folder)
    return target_card


def _write_float16_copy(source: Path, target: Path) -> None:
    with safe_open(str(source), framework="pt") as handle:
        metadata = handle.metadata()
        tensors = {key: handle.get_tensor(key) for key in handle.keys()}
    save_file({key: value.half() if value.is_floating_point() else value for key, value in tensors.items()},
              str(target), metadata=metadata)


def install_gan(tensor_path: str | os.PathLike, folder: str | os.PathLike, model_id: str, title: str,
                description: str = "") -> Path:
    return install_model(tensor_path, folder, model_id, title, "gan", load_gan, description)
