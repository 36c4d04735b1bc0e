"""Volume nodes <-> :class:`~MedGANSynthLib.volume.Volume`, with every voxel and the full geometry.

Slicer places voxels with an IJK-to-RAS matrix; the library (like ITK and the files it reads) uses LPS. The two
frames differ by a flip of the first two axes, so ``IJKToRAS = diag(-1, -1, 1, 1) @ IJKToLPS`` where
``IJKToLPS = [[direction @ diag(spacing), origin], [0, 0, 0, 1]]``. Slicer's NRRD/NIfTI readers apply the same
flip, which the tests check by loading a file written by the library.
"""

from __future__ import annotations

import numpy as np
import slicer
import vtk

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.mrml.scene import resolve_scene
from MedGANSynthLib.mrml.subject_hierarchy import place_beside
from MedGANSynthLib.volume import Volume

LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])
"""Homogeneous 4x4 flip; it is its own inverse, so it also maps RAS to LPS."""

LABEL_MODALITY = "SEG"
MODALITY_ATTRIBUTE = "MedGANSynth.Modality"
UNITS_ATTRIBUTE = "MedGANSynth.Units"


def ijk_to_ras(volume: Volume) -> np.ndarray:
    """4x4 matrix mapping (i, j, k, 1) of ``volume`` to RAS millimetres."""
    return LPS_TO_RAS @ volume.index_to_physical


def ras_to_lps(point_ras) -> np.ndarray:
    """An RAS point (mm) in LPS."""
    x, y, z = np.asarray(point_ras, dtype=float)
    return np.array([-x, -y, z])


def vtk_matrix(matrix: np.ndarray) -> vtk.vtkMatrix4x4:
    result = vtk.vtkMatrix4x4()
    for row in range(4):
        for column in range(4):
            result.SetElement(row, column, float(matrix[row, column]))
    return result


def numpy_matrix(matrix: vtk.vtkMatrix4x4) -> np.ndarray:
    return np.array([[matrix.GetElement(row, column) for column in range(4)] for row in range(4)])


def is_label_volume(volume: Volume) -> bool:
    return volume.modality == LABEL_MODALITY or volume.units == "label"


def _vtk_compatible(array: np.ndarray, label: bool) -> np.ndarray:
    """VTK has no bool voxels and Slicer refuses 64-bit integers (they do not render); narrow them losslessly."""
    if array.dtype == np.bool_:
        return array.astype(np.uint8)
    if array.dtype.kind in "iu" and array.dtype.itemsize == 8:
        low, high = (int(array.min()), int(array.max())) if array.size else (0, 0)
        if np.iinfo(np.int32).min <= low and high <= np.iinfo(np.int32).max:
            return array.astype(np.int32)
        raise InputError("Voxel values exceed the 32-bit integer range Slicer can display; rescale the image.")
    if label and array.dtype.kind == "f":
        if not np.all(np.isfinite(array)) or np.any(array != np.round(array)):
            raise InputError("A label map must hold whole numbers; this one has fractional or missing values.")
        return array.astype(np.int32)
    return array


def node_from_volume(
    volume: Volume,
    scene=None,
    name: str = "Volume",
    reference_node=None,
    node_class: str | None = None,
):
    """A new volume node in ``scene`` holding a copy of ``volume`` on its exact grid.

    A label volume (modality "SEG" or units "label") becomes a ``vtkMRMLLabelMapVolumeNode`` unless
    ``node_class`` says otherwise. With ``reference_node`` the new node is placed beside it in the subject
    hierarchy (same patient/study folder), which is where a user looks for results derived from it.
    """
    scene = resolve_scene(scene)
    label = is_label_volume(volume)
    node_class = node_class or ("vtkMRMLLabelMapVolumeNode" if label else "vtkMRMLScalarVolumeNode")
    node = scene.AddNewNodeByClass(node_class, name)
    update_node_from_volume(node, volume)
    node.CreateDefaultDisplayNodes()
    if reference_node is not None:
        place_beside(node, reference_node)
    return node


def update_node_from_volume(node, volume: Volume) -> None:
    """Replace voxels and geometry of an existing volume node (used for live previews and sequence frames)."""
    label = node.IsA("vtkMRMLLabelMapVolumeNode")
    node.SetIJKToRASMatrix(vtk_matrix(ijk_to_ras(volume)))
    slicer.util.updateVolumeFromArray(node, _vtk_compatible(volume.array, label))
    if volume.modality:
        node.SetAttribute(MODALITY_ATTRIBUTE, volume.modality)
    if volume.units:
        node.SetAttribute(UNITS_ATTRIBUTE, volume.units)


def _node_to_world_ras(node) -> np.ndarray:
    """IJK-to-world matrix including a linear parent transform, as Slicer displays the volume."""
    ijk_to_node_ras = vtk.vtkMatrix4x4()
    node.GetIJKToRASMatrix(ijk_to_node_ras)
    matrix = numpy_matrix(ijk_to_node_ras)
    transform_node = node.GetParentTransformNode()
    if transform_node is None:
        return matrix
    if not transform_node.IsTransformToWorldLinear():
        raise InputError(
            f"Volume '{node.GetName()}' is under a non-linear transform; harden the transform (Data module) first."
        )
    to_world = vtk.vtkMatrix4x4()
    transform_node.GetMatrixTransformToWorld(to_world)
    return numpy_matrix(to_world) @ matrix


def volume_from_node(node) -> Volume:
    """A :class:`Volume` (LPS) holding a copy of the node's voxels and its world geometry."""
    if node is None or node.GetImageData() is None:
        raise InputError("The selected volume has no image data; load or select another volume.")
    if node.GetImageData().GetNumberOfScalarComponents() != 1:
        raise InputError(f"Volume '{node.GetName()}' has several components per voxel; select a scalar volume.")
    index_to_lps = LPS_TO_RAS @ _node_to_world_ras(node)
    axes = index_to_lps[:3, :3]
    spacing = np.linalg.norm(axes, axis=0)
    label = node.IsA("vtkMRMLLabelMapVolumeNode")
    modality = node.GetAttribute(MODALITY_ATTRIBUTE) or (LABEL_MODALITY if label else "")
    units = node.GetAttribute(UNITS_ATTRIBUTE) or ("label" if label else "")
    return Volume(
        array=np.array(slicer.util.arrayFromVolume(node), copy=True),
        spacing=tuple(spacing),
        origin=tuple(index_to_lps[:3, 3]),
        direction=axes / spacing,
        modality=modality,
        units=units,
        metadata={"name": node.GetName()},
    )
