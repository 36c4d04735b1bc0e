"""What the user sees in the slice views: PET over CT, and MIPs in inverted grey as physicians read them.

Settings go into the MRML nodes (slice composite nodes, volume display nodes), never into widgets, so the
same call works in the Slicer GUI, in batch mode and in the offscreen views of trame-slicer.
"""

from __future__ import annotations

import numpy as np
import vtk

from MedGANSynthLib.errors import InputError

PET_HEAT = "vtkMRMLPETProceduralColorNodePET-Heat"
PET_RAINBOW = "vtkMRMLPETProceduralColorNodePET-Rainbow"
INVERTED_GREY = "vtkMRMLColorTableNodeInvertedGrey"

DEFAULT_SUV_WINDOW = (0.0, 10.0)
"""SUV 0-10: normal liver (SUV 2.2 +/- 0.4) stays in the lower quarter while liver metastases (SUVmax typically
5-10) reach the hot end of the map (PHANTOM_REFERENCE.md sections 1 and 2); a fixed range makes scans comparable."""


def slice_composite_nodes(scene) -> list:
    """Every slice view's composite node (Red, Yellow, Green and any other slice view) in ``scene``."""
    class_name = "vtkMRMLSliceCompositeNode"
    return [scene.GetNthNodeByClass(i, class_name) for i in range(scene.GetNumberOfNodesByClass(class_name))]


def set_fixed_window(node, low: float, high: float, color_node_id: str | None = None) -> None:
    """Fixed window [low, high] on the node's display (auto window/level off), optionally with a colour map."""
    if high <= low:
        raise InputError(f"The display window must go from low to high; got {low} to {high}.")
    if node.GetDisplayNode() is None:
        node.CreateDefaultDisplayNodes()
    display = node.GetDisplayNode()
    with_modify = display.StartModify()
    if color_node_id is not None:
        if node.GetScene().GetNodeByID(color_node_id) is None:
            raise InputError(f"The colour map {color_node_id} is missing from the scene; load Slicer's Colors module.")
        display.SetAndObserveColorNodeID(color_node_id)
    display.SetAutoWindowLevel(False)
    display.SetWindowLevelMinMax(low, high)
    display.EndModify(with_modify)


def show_overlay(
    background_ct_node,
    foreground_pet_node,
    opacity: float = 0.5,
    window: tuple[float, float] = DEFAULT_SUV_WINDOW,
    color_node_id: str = PET_HEAT,
) -> list:
    """CT as background and PET as a half-transparent foreground in every slice view; returns their composite nodes.

    The PET uses a PET colour map with a fixed SUV window, so images from different patients look alike.
    """
    if not 0.0 <= opacity <= 1.0:
        raise InputError(f"Overlay opacity must be between 0 and 1; got {opacity}.")
    set_fixed_window(foreground_pet_node, window[0], window[1], color_node_id)
    composites = slice_composite_nodes(foreground_pet_node.GetScene())
    for composite in composites:
        with_modify = composite.StartModify()
        composite.SetBackgroundVolumeID(background_ct_node.GetID())
        composite.SetForegroundVolumeID(foreground_pet_node.GetID())
        composite.SetForegroundOpacity(opacity)
        composite.EndModify(with_modify)
    return composites


def orientation_facing(node) -> str:
    """Slice orientation ("Axial", "Coronal", "Sagittal") looking along the node's one-voxel (projected) axis."""
    dims = node.GetImageData().GetDimensions()
    thin = int(np.argmin(dims))
    ijk_to_ras = vtk.vtkMatrix4x4()
    node.GetIJKToRASMatrix(ijk_to_ras)
    axis = [abs(ijk_to_ras.GetElement(row, thin)) for row in range(3)]
    return ("Sagittal", "Coronal", "Axial")[int(np.argmax(axis))]


def show_mip(node, window: tuple[float, float] | None = None, view_names: tuple[str, ...] = ("Red",)) -> str:
    """Show a one-slice MIP volume in inverted grey (dark uptake on white) as background of every slice view.

    The slice views named in ``view_names`` are turned to face the projection and centred on it; the returned
    orientation tells which one that is. ``window`` defaults to the MIP's own value range.
    """
    values = _value_range(node) if window is None else window
    set_fixed_window(node, values[0], values[1], INVERTED_GREY)
    scene = node.GetScene()
    for composite in slice_composite_nodes(scene):
        composite.SetBackgroundVolumeID(node.GetID())
        composite.SetForegroundVolumeID(None)
    orientation = orientation_facing(node)
    bounds = [0.0] * 6
    node.GetRASBounds(bounds)
    centre = [(bounds[2 * a] + bounds[2 * a + 1]) / 2 for a in range(3)]
    for name in view_names:
        slice_node = scene.GetSingletonNode(name, "vtkMRMLSliceNode")
        if slice_node is None:
            continue
        slice_node.SetOrientation(orientation)
        slice_node.JumpSliceByCentering(*centre)
    return orientation


def _value_range(node) -> tuple[float, float]:
    low, high = node.GetImageData().GetScalarRange()
    return (low, high) if high > low else (low, low + 1.0)
