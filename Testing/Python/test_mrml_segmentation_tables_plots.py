"""Lesion segmentation, lesion table and live loss plot as real MRML nodes (slicer-core)."""

from __future__ import annotations

import numpy as np
import pytest
from mrml_support import new_mrml_context, slicer

from MedGANSynthLib.mrml.plots import loss_plot, loss_table, update_loss_plot
from MedGANSynthLib.mrml.segmentation import segmentation_from_labels, table_from_rows
from MedGANSynthLib.mrml.volume_nodes import node_from_volume

pytestmark = pytest.mark.mrml


@pytest.fixture(scope="module")
def mrml():
    return new_mrml_context()


@pytest.fixture
def ct_and_labels(mrml, oblique_volume):
    labels = np.zeros(oblique_volume.array.shape, np.int16)
    labels[1:3, 2:5, 3:7] = 1
    labels[4:6, 6:10, 8:12] = 2
    labels[6, 0, 0] = 5  # a one-voxel lesion with a gap in the numbering
    ct = node_from_volume(oblique_volume, mrml.scene, "CT")
    return ct, oblique_volume.with_array(labels, modality="SEG", units="label")


def _exported_labels(mrml, segmentation, reference) -> np.ndarray:
    """Slicer's own export of all segments onto the CT grid."""
    out = mrml.scene.AddNewNodeByClass("vtkMRMLLabelMapVolumeNode", "exported")
    assert slicer.vtkSlicerSegmentationsModuleLogic.ExportAllSegmentsToLabelmapNode(
        segmentation, out, slicer.vtkSegmentation.EXTENT_REFERENCE_GEOMETRY)
    return np.array(slicer.util.arrayFromVolume(out))


def test_one_named_coloured_segment_per_lesion_with_the_right_voxels(mrml, ct_and_labels):
    ct, labels = ct_and_labels
    names = ["Lesion A (lung)", "Lesion B (liver)", "Lesion C"]
    colors = [(1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)]
    node = segmentation_from_labels(labels, mrml.scene, ct, names=names, colors=colors)
    segmentation = node.GetSegmentation()
    assert segmentation.GetNumberOfSegments() == 3
    segments = [segmentation.GetNthSegment(n) for n in range(3)]
    assert [s.GetName() for s in segments] == names
    for segment, color in zip(segments, colors, strict=True):
        np.testing.assert_allclose(segment.GetColor(), color, atol=1 / 255)
    exported = _exported_labels(mrml, node, ct)
    assert exported.shape == labels.array.shape
    for n, value in enumerate((1, 2, 5)):
        assert np.count_nonzero(exported == n + 1) == np.count_nonzero(labels.array == value)
        assert np.array_equal(exported == n + 1, labels.array == value)
    assert mrml.scene.GetFirstNodeByName("_labels") is None  # the temporary label map is gone


def test_segmentation_without_lesions_is_empty(mrml, ct_and_labels):
    ct, labels = ct_and_labels
    node = segmentation_from_labels(labels.with_array(np.zeros_like(labels.array)), mrml.scene, ct)
    assert node.GetSegmentation().GetNumberOfSegments() == 0


def test_lesion_table_has_typed_columns_and_values(mrml):
    rows = [
        {"label": 1, "name": "Lesion 1", "suv_max": 7.25, "volume_ml": 1.5, "detected": True},
        {"label": 2, "name": "Lesion 2", "suv_max": 4, "volume_ml": 0.25, "detected": False},
    ]
    table = table_from_rows(rows, mrml.scene)
    vtk_table = table.GetTable()
    assert [vtk_table.GetColumnName(c) for c in range(5)] == ["label", "name", "suv_max", "volume_ml", "detected"]
    assert [vtk_table.GetColumn(c).GetClassName() for c in range(5)] == [
        "vtkIntArray", "vtkStringArray", "vtkDoubleArray", "vtkDoubleArray", "vtkIntArray"]
    assert vtk_table.GetNumberOfRows() == 2
    assert table.GetCellText(1, 1) == "Lesion 2"
    assert vtk_table.GetValue(0, 2).ToDouble() == 7.25 and vtk_table.GetValue(1, 2).ToDouble() == 4.0
    assert vtk_table.GetValue(1, 4).ToInt() == 0


def test_loss_plot_has_one_series_per_loss_and_grows_live(mrml):
    history = [{"epoch": e, "loss_g": 1.0 / (e + 1), "loss_d": 0.7 - 0.01 * e} for e in range(3)]
    chart = loss_plot(history, mrml.scene, "GAN loss")
    assert chart.GetNumberOfPlotSeriesNodes() == 2
    series = [chart.GetNthPlotSeriesNode(n) for n in range(2)]
    assert [(s.GetXColumnName(), s.GetYColumnName()) for s in series] == [("epoch", "loss_g"), ("epoch", "loss_d")]
    table = loss_table(chart)
    assert all(s.GetTableNode() is table for s in series)
    assert table.GetNumberOfRows() == 3
    history.append({"epoch": 3, "loss_g": 0.2, "loss_d": 0.66})
    history.append({"epoch": 4, "loss_g": 0.15, "loss_d": 0.65})
    assert update_loss_plot(chart, history) == 2
    assert update_loss_plot(chart, history) == 0
    values = slicer.util.arrayFromTableColumn(table, "loss_g")
    np.testing.assert_allclose(values, [1.0, 0.5, 1 / 3, 0.2, 0.15])
    np.testing.assert_allclose(slicer.util.arrayFromTableColumn(table, "epoch"), [0, 1, 2, 3, 4])
