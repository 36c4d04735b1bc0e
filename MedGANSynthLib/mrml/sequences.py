"""GAN samples and latent walks as a Slicer sequence, so they play in the Sequences toolbar like a cine loop.

A ``vtkMRMLSequenceNode`` stores one copy of a volume node per index value; a ``vtkMRMLSequenceBrowserNode``
selects the frame shown through a "proxy" volume node, which is what slice views display.
"""

from __future__ import annotations

from collections.abc import Sequence

import slicer

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.mrml.scene import module_logic, resolve_scene
from MedGANSynthLib.mrml.volume_nodes import is_label_volume, update_node_from_volume
from MedGANSynthLib.volume import Volume


def sequence_from_volumes(
    volumes: Sequence[Volume],
    scene=None,
    name: str = "Samples",
    index_name: str = "frame",
    index_values: Sequence[float] | None = None,
    index_unit: str = "",
):
    """A sequence node with one volume per frame and a browser node that plays it; returns (sequence, browser).

    ``index_name`` is "frame" for GAN samples and "step" for latent walks; ``index_values`` default to 0..N-1.
    """
    if not volumes:
        raise InputError("There are no images to show as a sequence; generate at least one sample.")
    values = list(range(len(volumes))) if index_values is None else list(index_values)
    if len(values) != len(volumes):
        raise InputError(f"{len(volumes)} images need {len(volumes)} index values; got {len(values)}.")
    scene = resolve_scene(scene)
    logic = sequences_logic(scene)
    sequence = scene.AddNewNodeByClass("vtkMRMLSequenceNode", name)
    sequence.SetIndexName(index_name)
    sequence.SetIndexUnit(index_unit)
    sequence.SetIndexType(sequence.NumericIndex)
    for volume, value in zip(volumes, values, strict=True):
        sequence.SetDataNodeAtValue(_frame_node(volume), _index_text(value))
    browser = scene.AddNewNodeByClass("vtkMRMLSequenceBrowserNode", f"{name} browser")
    browser.SetAndObserveMasterSequenceNodeID(sequence.GetID())
    logic.UpdateProxyNodesFromSequences(browser)
    return sequence, browser


def _frame_node(volume: Volume):
    """A volume node outside any scene: the sequence keeps its own copy in its internal scene."""
    node = slicer.vtkMRMLLabelMapVolumeNode() if is_label_volume(volume) else slicer.vtkMRMLScalarVolumeNode()
    update_node_from_volume(node, volume)
    return node


def _index_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def sequences_logic(scene):
    """Slicer's sequences logic for ``scene``.

    Plain ``slicer-core`` scenes know ``vtkMRMLSequenceNode`` but cannot create a ``vtkMRMLSequenceBrowserNode``
    until a sequences logic is bound to them; the logic also keeps the proxy node (what the views show) on the
    browser's current frame.
    """
    return module_logic(scene, "Sequences", slicer.vtkSlicerSequencesLogic)


def frame_volume_node(browser):
    """The proxy volume node showing the browser's current frame."""
    return browser.GetProxyNode(browser.GetMasterSequenceNode())
