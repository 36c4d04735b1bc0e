"""A virtual-PET model on disk: ONE safetensors file (``fcn.*`` + ``gan.*`` tensors) + its JSON model card.

The card (architecture ``virtual_pet_fcn4s_pix2pix``) holds both network configs, the CT window and SUV range of
the paper (Ben-Cohen et al.: [-160, 240] HU, SUV [0, 20]), the 2.5-D context (``in_channels``), the pixel size the
networks were trained at, the blending threshold (SUV 2.5) and levels, what the training data were (phantoms for
the bundled model) and the measured metrics. Loading never unpickles: tensors come from safetensors, networks are
rebuilt from the card, and a wrong architecture, a changed file (SHA-256) or a tensor of the wrong shape is refused
with one clear line before any weight is used. The discriminator is not saved: inference does not need it.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from MedGANSynthLib.device import resolve_device
from MedGANSynthLib.errors import InputError
from MedGANSynthLib.networks.fcn4s import FCN4s, FCN4sConfig
from MedGANSynthLib.networks.unet_pix2pix import UNetConfig, UNetGenerator
from MedGANSynthLib.virtual_pet.blending import DEFAULT_LEVELS, PAPER_THRESHOLD_SUV
from MedGANSynthLib.virtual_pet.inference import CT_WINDOW_HU, SUV_RANGE, VirtualPETConfig
from MedGANSynthLib.weights.catalogue import file_sha256, resolve_model
from MedGANSynthLib.weights.model_card import ModelCard
from MedGANSynthLib.weights.safetensors_io import load_state, read_tensors, weight_paths, write_weights

ARCHITECTURE = "virtual_pet_fcn4s_pix2pix"
DEFAULT_MODEL_ID = "virtual-pet-phantom"
DEFAULT_STEM = "virtual_pet"


@dataclass
class VirtualPETModel:
    """The two networks (eval mode) and the card that says how to feed them."""

    fcn: FCN4s
    gan: UNetGenerator
    card: ModelCard

    @property
    def in_channels(self) -> int:
        return int(self.fcn.config.in_channels)

    @property
    def working_pixel_mm(self) -> float | None:
        value = self.card.config.get("working_pixel_mm")
        return float(value) if value else None

    def inference_config(self, **overrides: Any) -> VirtualPETConfig:
        """The inference settings the model was trained for (window, SUV range, pixel size, blending)."""
        config = self.card.config
        values = {"working_pixel_mm": self.working_pixel_mm,
                  "threshold_suv": float(config.get("threshold_suv", PAPER_THRESHOLD_SUV)),
                  "blend_levels": int(config.get("blend_levels", DEFAULT_LEVELS)),
                  "blend_dilation_mm": float(config.get("blend_dilation_mm", 0.0)),
                  "blend_veto_suv": float(config.get("blend_veto_suv", 0.0)),
                  "blend_base_levels": int(config.get("blend_base_levels", 0)),
                  "slice_smoothing_mm": float(config.get("slice_smoothing_mm", 0.0)),
                  "ct_window_hu": tuple(config.get("ct_window_hu", CT_WINDOW_HU)),
                  "suv_range": tuple(config.get("suv_range", SUV_RANGE))}
        values.update({key: value for key, value in overrides.items() if value is not None})
        return VirtualPETConfig(**values)


def model_config(fcn: FCN4s, gan: UNetGenerator, working_pixel_mm: float | None,
                 threshold_suv: float = PAPER_THRESHOLD_SUV, blend_levels: int = DEFAULT_LEVELS) -> dict[str, Any]:
    if fcn.config.in_channels != gan.config.in_channels:
        raise InputError("The FCN and the GAN must take the same number of CT slices as channels.")
    return {"fcn": asdict(fcn.config), "gan": asdict(gan.config), "in_channels": int(fcn.config.in_channels),
            "context_slices": int(fcn.config.in_channels) // 2, "working_pixel_mm": working_pixel_mm,
            "ct_window_hu": list(CT_WINDOW_HU), "suv_range": list(SUV_RANGE), "threshold_suv": float(threshold_suv),
            "blend_levels": int(blend_levels)}


def save_virtual_pet(fcn: FCN4s, gan: UNetGenerator, folder_or_stem: str | os.PathLike, training_data: dict[str, Any],
                     working_pixel_mm: float | None, epochs: int = 0, metrics: dict[str, Any] | None = None,
                     threshold_suv: float = PAPER_THRESHOLD_SUV,
                     blending: dict[str, Any] | None = None) -> tuple[Path, Path]:
    """Write ``<stem>.safetensors`` + ``<stem>.json`` atomically (a folder gets ``virtual_pet.*``).

    ``blending`` (``blend_levels``, ``blend_dilation_mm``, ``blend_veto_suv``, ``slice_smoothing_mm``) goes into the card's config, as
    :func:`update_card_metrics` would put it."""
    card = ModelCard(
        architecture=ARCHITECTURE,
        config={**model_config(fcn, gan, working_pixel_mm, threshold_suv), **(blending or {})},
        normalisation={"kind": "suv", "low": SUV_RANGE[0], "high": SUV_RANGE[1], "output_range": [-1.0, 1.0],
                       "ct_window_hu": list(CT_WINDOW_HU),
                       "note": "CT [-160, 240] HU -> [0, 1]; FCN output [0, 1] and GAN output [-1, 1] -> SUV [0, 20]"},
        class_names=[],
        training_data=training_data,
        epochs=int(epochs),
        metrics=metrics or {},
    )
    tensor_path, card_path = weight_paths(folder_or_stem, default_name=DEFAULT_STEM)
    write_weights({"fcn": fcn, "gan": gan}, card, tensor_path, card_path)
    return tensor_path, card_path


def load_virtual_pet(id_or_path: str | os.PathLike = DEFAULT_MODEL_ID, device: str | torch.device = "cpu",
                     models_folder: str | os.PathLike | None = None) -> VirtualPETModel:
    """A catalogue id (e.g. the bundled 'virtual-pet-phantom') or a .safetensors/.json path -> the model."""
    tensor_path, card_path = weight_paths(resolve_model(id_or_path, task="virtual_pet", folder=models_folder))
    if not card_path.is_file():
        raise InputError(f"Model card {card_path.name} is missing beside {tensor_path.name}; every model needs it.")
    card = ModelCard.load(card_path)
    if card.architecture != ARCHITECTURE:
        raise InputError(f"{card_path.name} is a '{card.architecture}' model, not a virtual-PET model "
                         f"('{ARCHITECTURE}'); pass a virtual-PET model.")
    actual = file_sha256(tensor_path)
    if not card.tensor_sha256 or actual != card.tensor_sha256:
        raise InputError(f"{tensor_path.name} does not match its model card's SHA-256: the file was changed or "
                         "damaged; re-save or re-install the model.")
    fcn, gan = _networks_from_card(card, card_path.name)
    load_state({"fcn": fcn, "gan": gan}, read_tensors(tensor_path), tensor_path.name)
    target = resolve_device(device)
    return VirtualPETModel(fcn.to(target).eval(), gan.to(target).eval(), card)


def _networks_from_card(card: ModelCard, source: str) -> tuple[FCN4s, UNetGenerator]:
    try:
        fcn_config = FCN4sConfig(**card.config["fcn"])
        gan_config = UNetConfig(**card.config["gan"])
        return FCN4s(fcn_config), UNetGenerator(gan_config)
    except (KeyError, TypeError) as error:
        raise InputError(f"{source} does not describe the two virtual-PET networks ({error}).") from None


def install_virtual_pet(tensor_path: str | os.PathLike, folder: str | os.PathLike, model_id: str = DEFAULT_MODEL_ID,
                        title: str = "Virtual PET (phantom-trained)", description: str = "",
                        float16: bool = False) -> Path:
    """Copy a trained model into a models folder as ``<id with _>.safetensors/.json`` and list it in the catalogue."""
    from MedGANSynthLib.weights.install import install_model

    return install_model(tensor_path, folder, model_id, title, "virtual_pet", load_virtual_pet, description, float16)


def update_card_metrics(card_path: str | os.PathLike, metrics: dict[str, Any],
                        blending: dict[str, Any] | None = None) -> Path:
    """Store evaluation metrics in an existing card (the tensor file and its checksum are unchanged).

    ``blending`` (``blend_levels``, ``blend_dilation_mm``, ``blend_veto_suv``, ``slice_smoothing_mm``) is written into the card's config with them, so the
    metrics always describe the blending the card runs with.
    """
    card = ModelCard.load(card_path)
    card = dataclasses.replace(card, metrics={**card.metrics, **metrics}, config={**card.config, **(blending or {})})
    return card.save(card_path)
