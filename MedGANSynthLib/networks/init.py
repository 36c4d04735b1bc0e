"""Weight initialisations the source papers use.

- ``dcgan``: every conv / transposed conv / linear weight N(0, 0.02), biases 0, BatchNorm scale N(1, 0.02) and
  shift 0 (Radford et al.; the brain-PET DCGAN, Islam & Zhang, and the simple CT GAN paper both state N(0, 0.02)).
- ``keras``: the Keras defaults RadioGAN (Amyar et al., a Keras model that states no initialisation) ran with:
  Glorot-uniform kernels, zero biases, BatchNorm 1 / 0, Embedding U(-0.05, 0.05).
- ``torch``: leave PyTorch's own defaults.
"""

from __future__ import annotations

from torch import nn

from MedGANSynthLib.errors import InputError

INITIALISATIONS = ("dcgan", "keras", "torch")
_WEIGHTED = (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)


def dcgan_init(module: nn.Module) -> None:
    for layer in module.modules():
        if isinstance(layer, _WEIGHTED):
            nn.init.normal_(layer.weight, 0.0, 0.02)
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)
        elif isinstance(layer, nn.BatchNorm2d | nn.BatchNorm1d) and layer.affine:
            nn.init.normal_(layer.weight, 1.0, 0.02)
            nn.init.zeros_(layer.bias)


def keras_default_init(module: nn.Module) -> None:
    for layer in module.modules():
        if isinstance(layer, _WEIGHTED):
            nn.init.xavier_uniform_(layer.weight)
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)
        elif isinstance(layer, nn.BatchNorm2d | nn.BatchNorm1d) and layer.affine:
            nn.init.ones_(layer.weight)
            nn.init.zeros_(layer.bias)
        elif isinstance(layer, nn.Embedding):
            nn.init.uniform_(layer.weight, -0.05, 0.05)


def initialise_weights(module: nn.Module, scheme: str) -> None:
    """Apply the initialisation ``scheme`` (one of :data:`INITIALISATIONS`) to every layer of ``module``."""
    if scheme == "dcgan":
        dcgan_init(module)
    elif scheme == "keras":
        keras_default_init(module)
    elif scheme != "torch":
        raise InputError(f"Unknown weight initialisation '{scheme}'; choose one of {INITIALISATIONS}.")
