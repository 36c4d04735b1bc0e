"""Volume <-> volume node against real slicer-core: every voxel, and RAS geometry checked three independent ways."""

from __future__ import annotations

import numpy as np
import pytest
from mrml_support import FLIP, ijk_to_ras_of, new_mrml_context, slicer

from MedGANSynthLib.io.volume_io import write_volume
from MedGANSynthLib.mrml.subject_hierarchy import hierarchy_of, item_of
from MedGANSynthLib.mrml.volume_nodes import node_from_volume, volume_from_node
from MedGANSynthLib.volume import Volume

pytestmark = pytest.mark.mrml


@pytest.fixture(scope="module")
def mrml():
    return new_mrml_context()


def _hand_made_ijk_to_ras(volume: Volume) -> np.ndarray:
    """Column by column: axis a of the voxel grid is spacing[a] * direction[:, a] in LPS; RAS negates x and y."""
    matrix = np.eye(4)
    for axis in range(3):
        lps_step = volume.spacing[axis] * volume.direction[:, axis]
        matrix[:3, axis] = [-lps_step[0], -lps_step[1], lps_step[2]]
    x, y, z = volume.origin
    matrix[:3, 3] = [-x, -y, z]
    return matrix


def test_oblique_volume_round_trip_keeps_every_voxel_and_the_ras_geometry(mrml, oblique_volume):
    node = node_from_volume(oblique_volume, mrml.scene, "oblique")
    assert node.IsA("vtkMRMLScalarVolumeNode") and not node.IsA("vtkMRMLLabelMapVolumeNode")
    np.testing.assert_allclose(ijk_to_ras_of(node), _hand_made_ijk_to_ras(oblique_volume), atol=1e-9)
    assert np.array_equal(slicer.util.arrayFromVolume(node), oblique_volume.array)
    back = volume_from_node(node)
    assert back.array.dtype == oblique_volume.array.dtype
    assert np.array_equal(back.array, oblique_volume.array)
    np.testing.assert_allclose(back.spacing, oblique_volume.spacing, atol=1e-9)
    np.testing.assert_allclose(back.origin, oblique_volume.origin, atol=1e-9)
    np.testing.assert_allclose(back.direction, oblique_volume.direction, atol=1e-9)
    assert (back.modality, back.units) == ("CT", "HU")


def test_a_ras_point_maps_to_the_same_voxel_in_slicer_and_in_the_library(mrml, oblique_volume):
    node = node_from_volume(oblique_volume, mrml.scene, "points")
    ijk = np.array([3.0, 5.0, 2.0, 1.0])
    ras = ijk_to_ras_of(node) @ ijk
    lps = FLIP @ ras
    np.testing.assert_allclose(oblique_volume.continuous_index(lps[:3]), ijk[:3], atol=1e-9)
    # and back: a physical point of the library lands on its voxel through Slicer's RAS-to-IJK matrix
    import vtk

    ras_to_ijk = vtk.vtkMatrix4x4()
    node.GetRASToIJKMatrix(ras_to_ijk)
    point_lps = oblique_volume.physical_point([7.25, 1.5, 4.0])
    point_ras = [-point_lps[0], -point_lps[1], point_lps[2], 1.0]
    np.testing.assert_allclose(ras_to_ijk.MultiplyPoint(point_ras)[:3], [7.25, 1.5, 4.0], atol=1e-9)


@pytest.mark.parametrize("suffix", [".nrrd", ".nii.gz"])
def test_file_written_by_the_library_and_read_by_slicer_gives_the_same_node(mrml, oblique_volume, tmp_path, suffix):
    """Slicer's own reader applies its own LPS->RAS conversion: the strongest check of ours."""
    path = tmp_path / f"oblique{suffix}"
    write_volume(oblique_volume, path)
    loaded = mrml.volumes_logic.AddArchetypeVolume(str(path), "from file")
    assert loaded is not None
    ours = node_from_volume(oblique_volume, mrml.scene, "ours")
    np.testing.assert_allclose(ijk_to_ras_of(loaded), ijk_to_ras_of(ours), atol=1e-4)
    assert np.array_equal(slicer.util.arrayFromVolume(loaded), oblique_volume.array)
    back = volume_from_node(loaded)
    assert back.same_grid(oblique_volume, tolerance_mm=1e-4)


def test_label_volume_becomes_a_label_map_node_and_keeps_its_labels(mrml, rng):
    labels = rng.integers(0, 5, size=(4, 6, 5)).astype(np.int64)
    volume = Volume(labels, spacing=(2.0, 2.0, 3.0), origin=(1.0, 2.0, 3.0), modality="SEG", units="label")
    node = node_from_volume(volume, mrml.scene, "labels")
    assert node.IsA("vtkMRMLLabelMapVolumeNode")
    back = volume_from_node(node)
    assert np.array_equal(back.array, labels) and back.modality == "SEG" and back.units == "label"


def test_linear_parent_transform_is_part_of_the_geometry_read_from_a_node(mrml, oblique_volume):
    node = node_from_volume(oblique_volume, mrml.scene, "moved")
    transform = mrml.scene.AddNewNodeByClass("vtkMRMLLinearTransformNode")
    import vtk

    shift = vtk.vtkMatrix4x4()
    shift.SetElement(0, 3, 10.0)  # 10 mm towards patient Right in RAS = -10 mm in LPS x
    transform.SetMatrixTransformToParent(shift)
    node.SetAndObserveTransformNodeID(transform.GetID())
    back = volume_from_node(node)
    np.testing.assert_allclose(np.array(back.origin) - oblique_volume.origin, [-10.0, 0.0, 0.0], atol=1e-9)


def test_output_node_is_placed_beside_its_input_in_the_subject_hierarchy(mrml, oblique_volume):
    hierarchy = hierarchy_of(mrml.scene)
    patient = hierarchy.CreateSubjectItem(hierarchy.GetSceneItemID(), "Patient 1")
    study = hierarchy.CreateStudyItem(patient, "PET/CT study")
    ct = node_from_volume(oblique_volume, mrml.scene, "CT")
    hierarchy.SetItemParent(item_of(ct), study)
    pet = node_from_volume(oblique_volume.with_array(oblique_volume.array * 0), mrml.scene, "virtual PET",
                           reference_node=ct)
    assert hierarchy.GetItemParent(hierarchy.GetItemByDataNode(pet)) == study


def test_bare_context_without_trame_slicer_reads_files_and_has_the_pet_colours(oblique_volume, tmp_path):
    """The fallback set-up (no trame-slicer): no "invalid Colors module logic", PET colour maps present."""
    from MedGANSynthLib.mrml.scene import new_bare_context

    context = new_bare_context()
    assert context.app_logic.GetModuleLogic("Colors") is not None
    assert context.scene.GetNodeByID("vtkMRMLPETProceduralColorNodePET-Heat") is not None
    path = tmp_path / "bare.nrrd"
    write_volume(oblique_volume, path)
    loaded = context.volumes_logic.AddArchetypeVolume(str(path), "bare")
    np.testing.assert_allclose(ijk_to_ras_of(loaded), _hand_made_ijk_to_ras(oblique_volume), atol=1e-4)
