"""One virtual-PET model from the FCN of one trained model and the pix2pix generator of another.

The two networks of a virtual-PET model never see each other during training (the FCN and the pix2pix pair have
separate losses and optimisers; they share only the batches and the random stream), so the FCN of one run and the
generator of another form a model as valid as either run. That matters because training is noisy: a run can end
with the better FCN and the worse generator. Session 10 found one: a run with a twice-wider FCN, whose generator,
started from other random weights, drew more false lesions than the bundled run's. The combined card names both
sources, so the model stays reproducible.

Both models must feed their networks the same way (CT slices as channels, working pixel size, CT window and SUV
range); otherwise the combination is refused. Blending settings come from the FCN's model, whose output makes the
blending mask.
"""

from __future__ import annotations

import os
from pathlib import Path

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.virtual_pet.blending import PAPER_THRESHOLD_SUV
from MedGANSynthLib.virtual_pet.weights import load_virtual_pet, save_virtual_pet
from MedGANSynthLib.weights.model_card import ModelCard

# Card settings that change what the networks see; two models disagreeing on any of them cannot be combined.
INPUT_SETTINGS = ("in_channels", "working_pixel_mm", "ct_window_hu", "suv_range")
# Card settings that describe the blend and post-processing, carried over from the FCN's model.
BLEND_SETTINGS = ("blend_levels", "blend_dilation_mm", "blend_veto_suv", "blend_base_levels", "slice_smoothing_mm")


def combine_virtual_pet(fcn_model: str | os.PathLike, gan_model: str | os.PathLike,
                        output: str | os.PathLike) -> tuple[Path, Path]:
    """Write ``output`` (.safetensors + .json) with the FCN of ``fcn_model`` and the generator of ``gan_model``."""
    fcn_source = load_virtual_pet(fcn_model)
    gan_source = load_virtual_pet(gan_model)
    for key in INPUT_SETTINGS:
        mine, theirs = fcn_source.card.config.get(key), gan_source.card.config.get(key)
        if mine != theirs:
            raise InputError(f"The two models were trained on different inputs ({key}: {mine} vs {theirs}); only "
                             "models that feed their networks alike can be combined.")
    sources = {"fcn": _source(fcn_model, fcn_source.card), "gan": _source(gan_model, gan_source.card)}
    if gan_source.card.training_data != fcn_source.card.training_data:  # the card's summary is the FCN's data
        sources["gan"]["training_data"] = gan_source.card.training_data
    training_data = {**fcn_source.card.training_data, "combined_from": sources}
    config = fcn_source.card.config
    return save_virtual_pet(
        fcn_source.fcn, gan_source.gan, output, training_data, fcn_source.working_pixel_mm,
        epochs=max(fcn_source.card.epochs, gan_source.card.epochs),
        threshold_suv=float(config.get("threshold_suv", PAPER_THRESHOLD_SUV)),
        blending={key: config[key] for key in BLEND_SETTINGS if key in config})


def _source(path: str | os.PathLike, card: ModelCard) -> dict:
    """What identifies a source model and how it was trained (its evaluation metrics do not carry over)."""
    return {"model": Path(path).name, "tensor_sha256": card.tensor_sha256, "epochs": card.epochs,
            "created": card.created, "training": card.metrics.get("training"),
            "final_epoch": card.metrics.get("final_epoch")}

