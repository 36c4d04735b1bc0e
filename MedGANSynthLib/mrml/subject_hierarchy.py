"""Where output nodes appear in the Data module: beside the input they were computed from."""

from __future__ import annotations

import slicer


def hierarchy_of(scene):
    return slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(scene)


def item_of(node) -> int:
    """The subject-hierarchy item of ``node``, created under the scene when Slicer's plugins did not make one.

    Inside Slicer the subject-hierarchy plugin logic adds an item for each new node; plain ``slicer-core`` has
    no plugin logic, so we add it ourselves.
    """
    hierarchy = hierarchy_of(node.GetScene())
    item = hierarchy.GetItemByDataNode(node)
    if not item:
        item = hierarchy.CreateItem(hierarchy.GetSceneItemID(), node)
    return item


def place_beside(node, reference_node) -> int:
    """Move ``node`` under the same parent (patient, study or folder) as ``reference_node``; returns that parent."""
    hierarchy = hierarchy_of(node.GetScene())
    parent = hierarchy.GetItemParent(item_of(reference_node))
    hierarchy.SetItemParent(item_of(node), parent)
    return parent


def folder_beside(reference_node, name: str) -> int:
    """A folder item named ``name`` next to ``reference_node`` (reused when it exists), for groups of outputs."""
    hierarchy = hierarchy_of(reference_node.GetScene())
    parent = hierarchy.GetItemParent(item_of(reference_node))
    existing = hierarchy.GetItemChildWithName(parent, name)
    return existing or hierarchy.CreateFolderItem(parent, name)


def place_under(node, parent_item: int) -> None:
    hierarchy_of(node.GetScene()).SetItemParent(item_of(node), parent_item)
