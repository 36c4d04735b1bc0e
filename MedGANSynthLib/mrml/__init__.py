"""MRML bridge: the only part of the library that imports ``slicer`` (MRML and logic classes, never Qt).

It turns :class:`~MedGANSynthLib.volume.Volume` objects into Slicer nodes and back (LPS <-> RAS at this
boundary), and builds the output nodes a user looks at: PET-on-CT overlays, sequences of GAN samples,
lesion segmentations and tables, live loss plots. Every function takes the scene explicitly or falls back to
:func:`MedGANSynthLib.mrml.scene.current_scene`, so the same calls work in Slicer's Python console, in a
``Slicer --no-main-window`` batch script and in plain Python with ``slicer-core`` from PyPI.
"""

from MedGANSynthLib.mrml.display import show_mip, show_overlay
from MedGANSynthLib.mrml.plots import loss_plot, update_loss_plot
from MedGANSynthLib.mrml.scene import current_context, current_scene
from MedGANSynthLib.mrml.segmentation import segmentation_from_labels, table_from_rows
from MedGANSynthLib.mrml.sequences import sequence_from_volumes
from MedGANSynthLib.mrml.subject_hierarchy import place_beside
from MedGANSynthLib.mrml.volume_nodes import node_from_volume, volume_from_node

__all__ = [
    "current_context",
    "current_scene",
    "loss_plot",
    "node_from_volume",
    "place_beside",
    "segmentation_from_labels",
    "sequence_from_volumes",
    "show_mip",
    "show_overlay",
    "table_from_rows",
    "update_loss_plot",
    "volume_from_node",
]
