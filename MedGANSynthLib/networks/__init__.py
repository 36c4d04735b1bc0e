"""The GANs of the source papers: RadioGAN, the brain-PET DCGAN and the CT GAN, behind one interface."""

from MedGANSynthLib.networks.brain_dcgan import BrainDCGANConfig, BrainDCGANDiscriminator, BrainDCGANGenerator
from MedGANSynthLib.networks.ct_gan import CTGANConfig, CTGANDiscriminator, CTGANGenerator
from MedGANSynthLib.networks.gan_base import GANDiscriminator, GANGenerator
from MedGANSynthLib.networks.radiogan import RadioGANConfig, RadioGANDiscriminator, RadioGANGenerator
from MedGANSynthLib.networks.registry import (
    ARCHITECTURES,
    build_gan,
    config_from_dict,
    config_to_dict,
    get_architecture,
)

__all__ = [
    "ARCHITECTURES",
    "BrainDCGANConfig",
    "BrainDCGANDiscriminator",
    "BrainDCGANGenerator",
    "CTGANConfig",
    "CTGANDiscriminator",
    "CTGANGenerator",
    "GANDiscriminator",
    "GANGenerator",
    "RadioGANConfig",
    "RadioGANDiscriminator",
    "RadioGANGenerator",
    "build_gan",
    "config_from_dict",
    "config_to_dict",
    "get_architecture",
]
