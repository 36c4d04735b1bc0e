"""Maximum-intensity projections: the 2-D summary physicians read, and a rotating MIP for cine review."""

from MedGANSynthLib.projection.mip import mip
from MedGANSynthLib.projection.rotating_mip import rotating_mip

__all__ = ["mip", "rotating_mip"]
