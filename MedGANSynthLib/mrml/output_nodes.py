"""Apply again, same output nodes: a new result goes into the node the previous Apply made.

A user who re-runs a panel section after changing an input expects the views, window/level, colour map and
subject-hierarchy place they set up to stay, and the Data module not to fill with copies. The Logic always makes
new nodes (scripts rely on that); the panel hands each new node with the previous one to :func:`keep_output_node`,
and keeps the node references in its parameter node (:func:`keep_outputs`).
"""

from __future__ import annotations

import slicer

from MedGANSynthLib.mrml.display import slice_composite_nodes

_VIEW_ROLES = ("Background", "Foreground", "Label")


def keep_output_node(previous, fresh):
    """The node that holds ``fresh``'s result from now on: ``previous`` with ``fresh``'s content, or ``fresh``.

    ``previous`` keeps its ID, display and storage nodes and place in the subject hierarchy; it takes ``fresh``'s
    content (voxels and geometry, segments, table rows), name and attributes, and the slice views that showed
    ``fresh`` show it instead. ``fresh`` is then removed from the scene. ``fresh`` is kept as it is when there is
    no previous node, when the user deleted it, or when it is of another class.
    """
    if fresh is None or previous is None or previous is fresh:
        return fresh
    scene = fresh.GetScene()
    if scene is None or scene.GetNodeByID(previous.GetID()) is not previous or previous.GetClassName() != fresh.GetClassName():
        return fresh
    modifying = previous.StartModify()
    for name in previous.GetAttributeNames() or ():
        if fresh.GetAttribute(name) is None:  # e.g. warnings of the previous result
            previous.RemoveAttribute(name)
    for name in fresh.GetAttributeNames() or ():
        previous.SetAttribute(name, fresh.GetAttribute(name))
    if previous.IsA("vtkMRMLSegmentationNode"):
        _move_segments(previous.GetSegmentation(), fresh.GetSegmentation())
    else:
        previous.CopyContent(fresh, True)  # deep: the voxels and geometry, or the table's rows
    previous.SetName(fresh.GetName())
    previous.EndModify(modifying)
    _show_instead(scene, fresh.GetID(), previous.GetID())
    _remove_with_display_and_storage(scene, fresh)
    return previous


def _move_segments(target, source) -> None:
    """``target`` (a vtkSegmentation) takes ``source``'s segments and reference geometry. Moving the segment
    objects needs no representation converters, which a deep copy does (plain slicer-core registers none)."""
    target.RemoveAllSegments()
    target.SetSourceRepresentationName(source.GetSourceRepresentationName())
    geometry = slicer.vtkSegmentationConverter.GetReferenceImageGeometryParameterName()
    if source.GetConversionParameter(geometry):
        target.SetConversionParameter(geometry, source.GetConversionParameter(geometry))
    for index in range(source.GetNumberOfSegments()):
        segment_id = source.GetNthSegmentID(index)
        target.AddSegment(source.GetSegment(segment_id), segment_id)


def _remove_with_display_and_storage(scene, node) -> None:
    """Remove ``node`` and its own display and storage nodes (Slicer's application logic removes them with the
    node; a plain slicer-core scene may not)."""
    helpers = [node.GetNthDisplayNodeID(i) for i in range(node.GetNumberOfDisplayNodes())] \
        if hasattr(node, "GetNumberOfDisplayNodes") else []
    helpers += [node.GetNthStorageNodeID(i) for i in range(node.GetNumberOfStorageNodes())] \
        if hasattr(node, "GetNumberOfStorageNodes") else []
    scene.RemoveNode(node)
    for node_id in helpers:
        helper = scene.GetNodeByID(node_id) if node_id else None
        if helper is not None:
            scene.RemoveNode(helper)


def keep_outputs(references, result, names) -> None:
    """For each of ``names``: the new node ``result.<name>`` goes into the node ``references.<name>`` refers to
    (:func:`keep_output_node`), and the reference then points at the node that holds it. ``references`` is a
    parameter pack of node fields; a result without that output (None) leaves its reference as it is."""
    for name in names:
        fresh = getattr(result, name)
        if fresh is not None:
            setattr(references, name, keep_output_node(getattr(references, name), fresh))


def _show_instead(scene, old_id: str, new_id: str) -> None:
    """Slice views that show ``old_id`` (as background, foreground or label layer) show ``new_id`` instead."""
    for composite in slice_composite_nodes(scene):
        for role in _VIEW_ROLES:
            if getattr(composite, f"Get{role}VolumeID")() == old_id:
                getattr(composite, f"Set{role}VolumeID")(new_id)
