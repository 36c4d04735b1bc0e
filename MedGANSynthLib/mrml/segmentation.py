"""Lesion candidates as a segmentation (one named, coloured segment per lesion) and the lesion table as a table node."""

from __future__ import annotations

import colorsys
from collections.abc import Sequence
from typing import Any

import numpy as np
import slicer
import vtk

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.mrml.scene import resolve_scene
from MedGANSynthLib.mrml.subject_hierarchy import place_beside
from MedGANSynthLib.mrml.volume_nodes import node_from_volume
from MedGANSynthLib.volume import Volume

Color = tuple[float, float, float]


def distinct_colors(count: int) -> list[Color]:
    """``count`` well separated colours (golden-angle hues), so neighbouring lesions are told apart."""
    hues = (np.arange(count) * 0.381966) % 1.0
    return [colorsys.hsv_to_rgb(float(hue), 0.75, 0.95) for hue in hues]


def _color_table(scene, labels: Sequence[int], names: Sequence[str], colors: Sequence[Color]):
    """A colour table whose entry ``label`` carries that lesion's name and colour; the import reads both from it."""
    table = scene.AddNewNodeByClass("vtkMRMLColorTableNode", "LesionColors")
    table.SetTypeToUser()
    table.SetNumberOfColors(int(max(labels)) + 1)
    table.SetColor(0, "Background", 0.0, 0.0, 0.0, 0.0)
    for label, name, color in zip(labels, names, colors, strict=True):
        table.SetColor(int(label), name, *color, 1.0)
    return table


def segmentation_from_labels(
    labels: Volume,
    scene=None,
    reference_node=None,
    name: str = "Lesion candidates",
    names: Sequence[str] | None = None,
    colors: Sequence[Color] | None = None,
):
    """A segmentation node with one segment per non-zero label value of ``labels`` (in increasing label order).

    Segments are named ``names[n]`` (default "Lesion <label>") and coloured ``colors[n]``. With
    ``reference_node`` (the CT) the segmentation uses the CT geometry and sits beside it in the subject hierarchy.
    """
    scene = resolve_scene(scene)
    values = [int(v) for v in np.unique(labels.array) if v != 0]
    names = [f"Lesion {v}" for v in values] if names is None else list(names)
    colors = distinct_colors(len(values)) if colors is None else list(colors)
    if len(names) != len(values) or len(colors) != len(values):
        raise InputError(f"The label map holds {len(values)} lesions but {len(names)} names and {len(colors)} colours.")
    segmentation = scene.AddNewNodeByClass("vtkMRMLSegmentationNode", name)
    segmentation.CreateDefaultDisplayNodes()
    if reference_node is not None:
        segmentation.SetReferenceImageGeometryParameterFromVolumeNode(reference_node)
        place_beside(segmentation, reference_node)
    if not values:
        return segmentation
    label_node = node_from_volume(labels.with_array(labels.array, modality="SEG", units="label"), scene, "_labels")
    color_table = _color_table(scene, values, names, colors)
    label_node.GetDisplayNode().SetAndObserveColorNodeID(color_table.GetID())
    try:
        if not slicer.vtkSlicerSegmentationsModuleLogic.ImportLabelmapToSegmentationNode(label_node, segmentation):
            raise InputError("Slicer could not turn the lesion label map into segments.")
    finally:
        scene.RemoveNode(label_node)
        scene.RemoveNode(color_table)
    return segmentation


def _column(name: str, values: list[Any]) -> vtk.vtkAbstractArray:
    """A typed VTK column: integers (and booleans as 0/1), floating point numbers, else text."""
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, (bool, int, np.integer, np.bool_)) for v in present):
        column, convert = vtk.vtkIntArray(), int
    elif present and all(isinstance(v, (int, float, np.number)) for v in present):
        column, convert = vtk.vtkDoubleArray(), float
    else:
        column, convert = vtk.vtkStringArray(), str
    column.SetName(name)
    for value in values:
        if value is None:
            column.InsertNextValue(float("nan") if convert is float else convert(0 if convert is int else ""))
        else:
            column.InsertNextValue(convert(value))
    return column


def table_from_rows(rows: Sequence[dict[str, Any]], scene=None, name: str = "Lesions", reference_node=None):
    """A table node with one typed column per key (in first-seen order) and one row per dict."""
    scene = resolve_scene(scene)
    keys: list[str] = []
    for row in rows:
        keys.extend(key for key in row if key not in keys)
    table_node = scene.AddNewNodeByClass("vtkMRMLTableNode", name)
    table = table_node.GetTable()
    for key in keys:
        table.AddColumn(_column(key, [row.get(key) for row in rows]))
    table_node.Modified()
    if reference_node is not None:
        place_beside(table_node, reference_node)
    return table_node
