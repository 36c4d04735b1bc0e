"""Reading and writing images with their geometry: NIfTI, NRRD, MHA and DICOM series folders."""

from MedGANSynthLib.io.atomic import atomic_output
from MedGANSynthLib.io.volume_io import read_volume, write_volume

__all__ = ["atomic_output", "read_volume", "write_volume"]
