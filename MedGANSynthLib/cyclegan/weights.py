"""A CycleGAN on disk: ONE safetensors file (``g_ab.*`` + ``g_ba.*``) + its JSON model card.

The card (architecture ``cyclegan``) names both directions ("g_ab": A -> B, e.g. CT -> PET; "g_ba": B -> A), each
domain's kind and intensity window (how its pixel values map to HU / SUV / grey values), the image size and 2.5-D
context the generators were trained at, and the network settings to rebuild them. The discriminators are not saved:
translation does not need them (the training checkpoint keeps them for --resume). Loading never unpickles and
refuses a wrong architecture, a changed file (SHA-256) or a tensor of the wrong shape with one clear line.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from MedGANSynthLib.cyclegan.dataset import DomainImages
from MedGANSynthLib.cyclegan.networks import CycleGANNetworkSettings, build_generator
from MedGANSynthLib.device import resolve_device
from MedGANSynthLib.errors import InputError
from MedGANSynthLib.preprocessing.windows import IntensityWindow
from MedGANSynthLib.weights.catalogue import file_sha256, resolve_model
from MedGANSynthLib.weights.model_card import ModelCard
from MedGANSynthLib.weights.safetensors_io import load_state, read_tensors, weight_paths, write_weights

ARCHITECTURE = "cyclegan"
DEFAULT_STEM = "cyclegan"
_KIND_UNITS = {"HU": "hu", "SUV": "suv"}


@dataclass
class CycleGANModel:
    g_ab: nn.Module
    g_ba: nn.Module
    card: ModelCard

    def window(self, domain: str) -> IntensityWindow:
        values = self.card.config["domains"][domain]["window"]
        return IntensityWindow(values["name"], values["low"], values["high"], values["out_low"], values["out_high"],
                               values["units"])

    def pixel_mm(self, domain: str) -> float | None:
        """In-plane pixel size (mm) the generators saw for ``domain``'s volumes; None for 2-D images."""
        value = self.card.config["domains"][domain].get("pixel_mm")
        return float(value) if value else None

    @property
    def image_size(self) -> int:
        return int(self.card.config["image_size"])

    @property
    def context_slices(self) -> int:
        return int(self.card.config["context_slices"])


def _domain_entry(domain: DomainImages) -> dict[str, Any]:
    return {"name": domain.name, "kind": domain.kind, "window": dataclasses.asdict(domain.window),
            "pixel_mm": domain.pixel_mm}


def save_cyclegan(g_ab: nn.Module, g_ba: nn.Module, settings: CycleGANNetworkSettings, domain_a: DomainImages,
                  domain_b: DomainImages, folder_or_stem: str | os.PathLike, training_data: dict[str, Any],
                  epochs: int = 0, metrics: dict[str, Any] | None = None) -> tuple[Path, Path]:
    """Write ``<stem>.safetensors`` + ``<stem>.json`` atomically (a folder gets ``cyclegan.*``)."""
    image_size = int(domain_a.images.shape[-1])
    window_a = domain_a.window
    card = ModelCard(
        architecture=ARCHITECTURE,
        config={"networks": asdict(settings), "image_size": image_size,
                "context_slices": int(domain_a.images.shape[1]) // 2,
                "domains": {"a": _domain_entry(domain_a), "b": _domain_entry(domain_b)},
                "directions": {"g_ab": f"A -> B: {domain_a.name} -> {domain_b.name}",
                               "g_ba": f"B -> A: {domain_b.name} -> {domain_a.name}"}},
        normalisation={"kind": _KIND_UNITS.get(window_a.units, "intensity"), "low": window_a.low,
                       "high": window_a.high, "output_range": [window_a.out_low, window_a.out_high],
                       "window": window_a.name,
                       "note": f"domain A ({domain_a.name}) as here; domain B ({domain_b.name}) "
                               f"[{domain_b.window.low:g}, {domain_b.window.high:g}] {domain_b.window.units} -> "
                               f"[{domain_b.window.out_low:g}, {domain_b.window.out_high:g}] (config.domains.b)"},
        class_names=[], training_data=training_data, epochs=int(epochs), metrics=metrics or {})
    tensor_path, card_path = weight_paths(folder_or_stem, default_name=DEFAULT_STEM)
    write_weights({"g_ab": g_ab, "g_ba": g_ba}, card, tensor_path, card_path)
    return tensor_path, card_path


def load_cyclegan(path: str | os.PathLike, device: str | torch.device = "cpu",
                  models_folder: str | os.PathLike | None = None) -> CycleGANModel:
    """A catalogue id (task ``cyclegan``) or a .safetensors/.json path (or their stem) -> both generators in eval
    mode and the card."""
    tensor_path, card_path = weight_paths(resolve_model(path, task=ARCHITECTURE, folder=models_folder))
    if not card_path.is_file():
        raise InputError(f"Model card {card_path.name} is missing beside {tensor_path.name}; every model needs it.")
    card = ModelCard.load(card_path)
    if card.architecture != ARCHITECTURE:
        raise InputError(f"{card_path.name} is a '{card.architecture}' model, not a CycleGAN; pass a CycleGAN model.")
    if not tensor_path.is_file():
        raise InputError(f"Weights file {tensor_path.name} is missing beside its model card {card_path.name}.")
    if not card.tensor_sha256 or file_sha256(tensor_path) != card.tensor_sha256:
        raise InputError(f"{tensor_path.name} does not match its model card's SHA-256: the file was changed or "
                         "damaged; re-save it.")
    try:
        settings = CycleGANNetworkSettings(**card.config["networks"])
        g_ab, g_ba = build_generator(settings), build_generator(settings)
    except (KeyError, TypeError) as error:
        raise InputError(f"{card_path.name} does not describe CycleGAN generators ({error}).") from None
    load_state({"g_ab": g_ab, "g_ba": g_ba}, read_tensors(tensor_path), tensor_path.name)
    target = resolve_device(device)
    return CycleGANModel(g_ab.to(target).eval(), g_ba.to(target).eval(), card)


def install_cyclegan(tensor_path: str | os.PathLike, folder: str | os.PathLike, model_id: str, title: str,
                     description: str = "") -> Path:
    """Copy a trained CycleGAN into a models folder and list it in the catalogue with task ``cyclegan``."""
    from MedGANSynthLib.weights.install import install_model

    return install_model(tensor_path, folder, model_id, title, ARCHITECTURE, load_cyclegan, description)
