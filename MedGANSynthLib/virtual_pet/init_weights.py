"""``train-virtual-pet --init-weights MODEL``: start the FCN-4s and the pix2pix generator from a virtual-PET model and
fine-tune them on new cases.

The model is read only by :func:`virtual_pet.weights.load_virtual_pet` (safetensors + JSON card, SHA-256 checked,
nothing unpickled). The networks are rebuilt as its card describes them, so a fine-tune continues the architecture
the weights were made with: the network sizes, context slices and slice size come from the card, and a flag given
with another value is refused rather than ignored. The PatchGAN discriminator is not in a virtual-PET file
(inference does not need it), so it starts from its initial weights, as Adam's moments do (optimiser state is not
saved either): a lower --lr suits a fine-tune. The run records the file's name and SHA-256 (run.json and the card).
"""

from __future__ import annotations

import dataclasses
from dataclasses import asdict
from pathlib import Path
from typing import Any

from torch import nn

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.training.settings import flag_name, settings_field
from MedGANSynthLib.virtual_pet.training_settings import VirtualPETTrainingSettings
from MedGANSynthLib.virtual_pet.training_task import VirtualPETNetworkSettings
from MedGANSynthLib.virtual_pet.weights import VirtualPETModel, load_virtual_pet
from MedGANSynthLib.weights.catalogue import file_sha256, resolve_model


def init_weights_settings(settings: VirtualPETTrainingSettings) -> tuple[VirtualPETTrainingSettings, dict[str, Any],
                                                                         dict[str, Any]]:
    """``settings`` with the architecture of the --init-weights model: (settings, run.json "networks", the record
    of the file). A flag given (not at its default) with a value other than the card's is refused in one line."""
    path = resolve_model(settings.init_weights, task="virtual_pet")
    model = load_virtual_pet(path)
    from_card = _card_settings(model)
    for name, value in from_card.items():
        given = getattr(settings, name)
        if given != settings_field(VirtualPETTrainingSettings, name).default and given != value:
            flag = flag_name(settings_field(VirtualPETTrainingSettings, name))
            raise InputError(f"{flag} {given} does not match the --init-weights model's {value}; leave it out.")
    networks = _network_settings(model, path.name)
    record = {"file": path.name, "sha256": file_sha256(path), "epochs": int(model.card.epochs)}
    return dataclasses.replace(settings, **from_card), asdict(networks), record


def load_init_weights(model: str, record: dict[str, Any], fcn: nn.Module, generator: nn.Module) -> None:
    """Copy the FCN-4s and generator tensors of ``model`` (checked again, and against ``record``'s SHA-256) into
    the freshly built networks."""
    path = resolve_model(model, task="virtual_pet")
    saved = load_virtual_pet(path)
    if saved.card.tensor_sha256 != record["sha256"]:
        raise InputError(f"{path.name} changed while the run started (SHA-256 differs); pass --init-weights again.")
    fcn.load_state_dict(saved.fcn.state_dict())
    generator.load_state_dict(saved.gan.state_dict())


def _card_settings(model: VirtualPETModel) -> dict[str, Any]:
    """The training settings that shape the networks, as the model's card gives them."""
    fcn, gan = model.fcn.config, model.gan.config
    values = {"width_fcn": float(fcn.width), "width_gan": float(gan.width), "depth": int(gan.depth),
              "gan_upsampling": gan.upsampling, "context_slices": model.in_channels // 2}
    slice_size = model.card.training_data.get("dataset", {}).get("slice_size")
    if slice_size:
        values["slice_size"] = int(slice_size)
    return values


def _network_settings(model: VirtualPETModel, file_name: str) -> VirtualPETNetworkSettings:
    """The network settings that build exactly the card's networks; a model train-virtual-pet cannot build (e.g. an
    FCN with a sigmoid output) is refused."""
    fcn, gan = model.fcn.config, model.gan.config
    networks = VirtualPETNetworkSettings(in_channels=model.in_channels, width_fcn=fcn.width,
                                         fc_channels=fcn.fc_channels, fc6_kernel=fcn.fc6_kernel, width_gan=gan.width,
                                         depth=gan.depth, gan_output=gan.output_activation,
                                         gan_upsampling=gan.upsampling)
    differing = [f"fcn {key}" for key, value in asdict(networks.fcn_config()).items() if asdict(fcn)[key] != value]
    differing += [f"gan {key}" for key, value in asdict(networks.gan_config()).items() if asdict(gan)[key] != value]
    if differing:
        raise InputError(f"{Path(file_name).name} holds networks train-virtual-pet does not build ({', '.join(differing)} "
                         "differ); --init-weights needs a model that train-virtual-pet exported.")
    return networks
