"""MedGANSynthLib: the science behind the MedGANSynth 3D Slicer extension.

The core never imports ``slicer``, ``vtk``, ``qt`` or ``ctk``; only ``MedGANSynthLib.mrml`` talks to MRML.
Geometry follows ITK (LPS) conventions; see :class:`MedGANSynthLib.volume.Volume`.
"""

__version__ = "0.1.0"

from MedGANSynthLib.errors import Cancelled, InputError, MedGANSynthError  # noqa: E402
from MedGANSynthLib.volume import Volume  # noqa: E402

__all__ = ["Cancelled", "InputError", "MedGANSynthError", "Volume", "__version__"]
