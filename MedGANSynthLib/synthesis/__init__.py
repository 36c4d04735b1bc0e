"""Using trained generators: seeded sampling, physical units, latent walks."""

from MedGANSynthLib.synthesis.latent_walk import latent_walk
from MedGANSynthLib.synthesis.sampling import resolve_class, sample_images, to_physical

__all__ = ["latent_walk", "resolve_class", "sample_images", "to_physical"]
