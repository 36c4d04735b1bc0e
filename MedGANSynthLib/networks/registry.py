"""Architecture names -> (config dataclass, generator, discriminator), and configs to/from plain dicts (JSON cards)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.networks.brain_dcgan import BrainDCGANConfig, BrainDCGANDiscriminator, BrainDCGANGenerator
from MedGANSynthLib.networks.ct_gan import CTGANConfig, CTGANDiscriminator, CTGANGenerator
from MedGANSynthLib.networks.gan_base import GANDiscriminator, GANGenerator
from MedGANSynthLib.networks.radiogan import RadioGANConfig, RadioGANDiscriminator, RadioGANGenerator


@dataclass(frozen=True)
class Architecture:
    name: str
    config_class: type
    generator_class: type[GANGenerator]
    discriminator_class: type[GANDiscriminator]
    description: str


ARCHITECTURES: dict[str, Architecture] = {
    "radiogan": Architecture(
        "radiogan", RadioGANConfig, RadioGANGenerator, RadioGANDiscriminator,
        "Class-conditional DCGAN of whole-body coronal MIP FDG-PET (Amyar et al., RadioGAN)",
    ),
    "brain_dcgan": Architecture(
        "brain_dcgan", BrainDCGANConfig, BrainDCGANGenerator, BrainDCGANDiscriminator,
        "DCGAN of brain FDG-PET slices, one model per Alzheimer stage (Islam & Zhang)",
    ),
    "ct_gan": Architecture(
        "ct_gan", CTGANConfig, CTGANGenerator, CTGANDiscriminator,
        "Fully convolutional CT GAN whose generator scales to larger images (LIDC proof of concept)",
    ),
}


def get_architecture(name: str) -> Architecture:
    try:
        return ARCHITECTURES[name]
    except (KeyError, TypeError):
        raise InputError(
            f"Unknown GAN architecture '{name}'; choose one of {', '.join(sorted(ARCHITECTURES))}."
        ) from None


def config_from_dict(architecture: str, values: dict[str, Any] | None) -> Any:
    """The architecture's config dataclass from a plain dict (missing keys take the paper defaults)."""
    config_class = get_architecture(architecture).config_class
    values = dict(values or {})
    if not isinstance(values, dict):
        raise InputError(f"The {architecture} config must be a mapping of setting names to values.")
    known = {field.name for field in dataclasses.fields(config_class)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise InputError(
            f"Unknown {architecture} setting(s) {', '.join(unknown)}; known settings: {', '.join(sorted(known))}."
        )
    try:
        return config_class(**values)
    except TypeError as error:
        raise InputError(f"Bad {architecture} config: {error}.") from None


def config_to_dict(config: Any) -> dict[str, Any]:
    """A JSON-able dict of every setting (tuples become lists)."""
    if not dataclasses.is_dataclass(config) or isinstance(config, type):
        raise InputError(f"Expected a network config dataclass, got {type(config).__name__}.")
    return {
        key: list(value) if isinstance(value, tuple) else value for key, value in dataclasses.asdict(config).items()
    }


def architecture_of_config(config: Any) -> str:
    for name, spec in ARCHITECTURES.items():
        if type(config) is spec.config_class:
            return name
    raise InputError(f"{type(config).__name__} is not the config of a known GAN architecture.")


def build_gan(architecture: str, config: dict[str, Any] | Any | None = None) -> tuple[GANGenerator, GANDiscriminator, Any]:
    """Generator, discriminator and config of ``architecture``; ``config`` is a dict, a config dataclass or None."""
    spec = get_architecture(architecture)
    if config is None or isinstance(config, dict):
        config = config_from_dict(architecture, config)
    elif type(config) is not spec.config_class:
        raise InputError(f"A {type(config).__name__} cannot configure the '{architecture}' architecture.")
    return spec.generator_class(config), spec.discriminator_class(config), config
