"""Save and load GANs as ``<name>.safetensors`` (every parameter and buffer) + ``<name>.json`` (the model card).

Loading never unpickles: tensors come from ``safetensors.torch.load_file``, the network is rebuilt from the card's
architecture and config, and every mismatch is refused with one clear line before any weight is used. BatchNorm
running statistics are buffers in ``state_dict`` and are saved and restored with the weights, so sampling in eval
mode reproduces the trained model exactly.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from MedGANSynthLib.device import resolve_device
from MedGANSynthLib.errors import InputError
from MedGANSynthLib.io.atomic import atomic_output
from MedGANSynthLib.networks.gan_base import GANDiscriminator, GANGenerator
from MedGANSynthLib.networks.registry import (
    architecture_of_config,
    build_gan,
    config_to_dict,
    get_architecture,
)
from MedGANSynthLib.weights.model_card import ModelCard

TENSOR_SUFFIX, CARD_SUFFIX = ".safetensors", ".json"
MODULE_NAMES = ("generator", "discriminator")


def file_sha256(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def weight_paths(folder_or_stem: str | os.PathLike, default_name: str | None = None) -> tuple[Path, Path]:
    """(tensor file, card file) for a stem (``x``, ``x.json`` or ``x.safetensors``) or a folder + default name."""
    path = Path(folder_or_stem)
    if path.is_dir():
        if default_name is None:
            raise InputError(f"{path} is a folder; give the weights file (.safetensors or .json) inside it.")
        path = path / default_name
    if path.suffix in (TENSOR_SUFFIX, CARD_SUFFIX):
        path = path.with_suffix("")
    return path.with_name(path.name + TENSOR_SUFFIX), path.with_name(path.name + CARD_SUFFIX)


def save_model(
    module_dict: dict[str, nn.Module], card: ModelCard, folder_or_stem: str | os.PathLike
) -> tuple[Path, Path]:
    """Write ``<name>.safetensors`` + ``<name>.json`` atomically; returns both paths.

    ``module_dict`` holds ``"generator"`` and optionally ``"discriminator"``. The card's config is checked against
    the generator's (or filled in when empty) and its ``tensor_sha256`` is set from the written file.
    """
    unknown = sorted(set(module_dict) - set(MODULE_NAMES))
    if unknown or "generator" not in module_dict:
        raise InputError(f"save_model needs a 'generator' (and optionally 'discriminator'), got {sorted(module_dict)}.")
    card = _card_for_generator(module_dict["generator"], card)
    name = card.architecture + (f"_{card.class_names[0]}" if len(card.class_names) == 1 else "")
    tensor_path, card_path = weight_paths(folder_or_stem, default_name=name)
    write_weights(module_dict, card, tensor_path, card_path)
    return tensor_path, card_path


def write_weights(modules: dict[str, nn.Module], card: ModelCard, tensor_path: Path, card_path: Path) -> ModelCard:
    """Write the modules' tensors (keys ``<module name>.<parameter>``) and then the card, each atomically; the card
    records the tensor file's name and SHA-256. Returns the card as written. Every model family saves through here."""
    tensors = {
        f"{module_name}.{key}": value.detach().to("cpu").contiguous().clone()
        for module_name, module in modules.items()
        for key, value in module.state_dict().items()
    }
    with atomic_output(tensor_path) as temp_tensor:
        save_file(tensors, str(temp_tensor), metadata={"architecture": card.architecture, "card": card_path.name})
        card = dataclasses.replace(card, tensor_sha256=file_sha256(temp_tensor), tensor_file=tensor_path.name)
        card.save(card_path)
    return card


def load_gan(
    path: str | os.PathLike,
    device: str | torch.device = "cpu",
    architecture: str | None = None,
    with_discriminator: bool = True,
) -> tuple[GANGenerator, GANDiscriminator | None, ModelCard]:
    """(generator, discriminator or None, card) from ``path`` (the .safetensors, the .json or their stem).

    Loads on the CPU, checks everything, then moves to ``device``; both networks are returned in eval mode.
    ``architecture`` refuses a card of another architecture (e.g. a CT model given where RadioGAN is expected).
    """
    tensor_path, card_path = weight_paths(path)
    if not card_path.is_file():
        raise InputError(f"Model card {card_path.name} is missing beside the weights; every model needs its JSON card.")
    card = ModelCard.load(card_path)
    if architecture is not None and card.architecture != architecture:
        raise InputError(
            f"{card_path.name} is a '{card.architecture}' model, but a '{architecture}' model is needed here."
        )
    get_architecture(card.architecture)
    if not tensor_path.is_file():
        raise InputError(f"Weights file {tensor_path.name} is missing beside its model card {card_path.name}.")
    if not card.tensor_sha256:
        raise InputError(f"Model card {card_path.name} has no tensor_sha256, so the weights cannot be verified.")
    actual = file_sha256(tensor_path)
    if actual != card.tensor_sha256:
        raise InputError(
            f"{tensor_path.name} does not match its model card (SHA-256 {actual[:12]}... != {card.tensor_sha256[:12]}...): "
            "the file was changed or damaged; re-download or re-save it."
        )
    tensors = read_tensors(tensor_path)
    generator, discriminator, _ = build_gan(card.architecture, card.config)
    _check_class_names(card, generator)
    has_discriminator = any(key.startswith("discriminator.") for key in tensors)
    modules: dict[str, nn.Module] = {"generator": generator}
    if with_discriminator and has_discriminator:
        modules["discriminator"] = discriminator
    elif has_discriminator:
        tensors = {k: v for k, v in tensors.items() if not k.startswith("discriminator.")}
    load_state(modules, tensors, tensor_path.name)
    target = resolve_device(device)
    for module in modules.values():
        module.to(target).eval()
    return generator, modules.get("discriminator"), card


def read_tensors(tensor_path: Path) -> dict[str, torch.Tensor]:
    try:
        return load_file(str(tensor_path), device="cpu")
    except Exception as error:  # safetensors raises its own SafetensorError (and OSError) for damaged files
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise InputError(f"{tensor_path.name} is not a readable safetensors file (truncated or corrupt: {reason}).") from None


def load_state(modules: dict[str, nn.Module], tensors: dict[str, torch.Tensor], file_name: str) -> None:
    expected = {f"{name}.{key}": value for name, module in modules.items() for key, value in module.state_dict().items()}
    missing = sorted(set(expected) - set(tensors))
    if missing:
        raise InputError(f"{file_name} lacks {len(missing)} tensor(s) the network needs, e.g. '{missing[0]}'.")
    unexpected = sorted(set(tensors) - set(expected))
    if unexpected:
        raise InputError(f"{file_name} has {len(unexpected)} tensor(s) the network does not have, e.g. '{unexpected[0]}'.")
    for key, value in expected.items():
        if tuple(tensors[key].shape) != tuple(value.shape):
            raise InputError(
                f"{file_name}: tensor '{key}' has shape {tuple(tensors[key].shape)} but the network expects {tuple(value.shape)}."
            )
    for name, module in modules.items():
        prefix = name + "."
        module.load_state_dict({k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}, strict=True)


def _card_for_generator(generator: nn.Module, card: ModelCard) -> ModelCard:
    config = getattr(generator, "config", None)
    if config is None:
        raise InputError(f"{type(generator).__name__} has no config; only library GANs can be saved with a card.")
    architecture = architecture_of_config(config)
    if card.architecture != architecture:
        raise InputError(f"The model card says '{card.architecture}' but the generator is a '{architecture}'.")
    config_dict = config_to_dict(config)
    if card.config and card.config != config_dict:
        changed = sorted(k for k in config_dict if card.config.get(k) != config_dict[k])
        raise InputError(f"The model card's config differs from the generator's in: {', '.join(changed) or 'unknown keys'}.")
    card = dataclasses.replace(card, config=config_dict)
    _check_class_names(card, generator)
    return card


def _check_class_names(card: ModelCard, generator: GANGenerator) -> None:
    names: list[Any] = card.class_names
    if generator.num_classes and len(names) != generator.num_classes:
        raise InputError(
            f"The model card lists {len(names)} class name(s) but the {card.architecture} model has {generator.num_classes} classes."
        )
    if not generator.num_classes and len(names) > 1:
        raise InputError(
            f"An unconditional {card.architecture} model has at most one class name (what it was trained on), got {len(names)}."
        )
