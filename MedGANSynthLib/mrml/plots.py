"""Training losses as a Slicer plot that grows while training runs.

A ``vtkMRMLTableNode`` holds one row per logged step (the x column plus one column per loss); one
``vtkMRMLPlotSeriesNode`` per loss draws a column against x, and a ``vtkMRMLPlotChartNode`` groups them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import vtk

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.mrml.scene import resolve_scene
from MedGANSynthLib.mrml.segmentation import distinct_colors

X_COLUMN_CANDIDATES = ("step", "iteration", "epoch")


def _x_column(history: Sequence[dict[str, Any]]) -> str:
    first = history[0] if history else {}
    return next((name for name in X_COLUMN_CANDIDATES if name in first), "step")


def loss_plot(
    history: Sequence[dict[str, Any]],
    scene=None,
    name: str = "Training loss",
    loss_names: Sequence[str] | None = None,
):
    """A chart with one series per loss; ``history`` is a list of rows like ``{"epoch": 1, "loss_g": 0.7, ...}``.

    The x axis is the "step", "iteration" or "epoch" column (the row number when none exists). ``loss_names``
    defaults to every other numeric key of the first row.
    """
    if not history and not loss_names:
        raise InputError("There is no training history to plot yet; name the losses to start an empty plot.")
    scene = resolve_scene(scene)
    x_name = _x_column(history)
    if loss_names is None:
        loss_names = [k for k, v in history[0].items() if k != x_name and isinstance(v, (int, float))]
    table_node = scene.AddNewNodeByClass("vtkMRMLTableNode", f"{name} table")
    for column_name in (x_name, *loss_names):
        column = vtk.vtkDoubleArray()
        column.SetName(column_name)
        table_node.GetTable().AddColumn(column)
    chart = scene.AddNewNodeByClass("vtkMRMLPlotChartNode", name)
    chart.SetTitle(name)
    chart.SetXAxisTitle(x_name)
    chart.SetYAxisTitle("loss")
    for loss_name, color in zip(loss_names, distinct_colors(len(loss_names)), strict=True):
        series = scene.AddNewNodeByClass("vtkMRMLPlotSeriesNode", loss_name)
        series.SetAndObserveTableNodeID(table_node.GetID())
        series.SetXColumnName(x_name)
        series.SetYColumnName(loss_name)
        series.SetPlotType(series.PlotTypeScatter)
        series.SetMarkerStyle(series.MarkerStyleNone)
        series.SetColor(*color)
        chart.AddAndObservePlotSeriesNodeID(series.GetID())
    update_loss_plot(chart, history)
    return chart


def loss_table(chart):
    """The table node behind the chart's series."""
    series = chart.GetNthPlotSeriesNode(0)
    return series.GetTableNode() if series is not None else None


def update_loss_plot(chart, history: Sequence[dict[str, Any]]) -> int:
    """Append the rows of ``history`` the plot does not show yet (call it from a progress callback); returns how many.

    ``history`` is the whole list so far; rows already in the table are skipped, so repeated calls are cheap.
    """
    table_node = loss_table(chart)
    table = table_node.GetTable()
    start = table.GetNumberOfRows()
    x_name = table.GetColumnName(0)
    for row_number, row in enumerate(history[start:], start=start):
        table.InsertNextBlankRow(float("nan"))
        table.SetValue(row_number, 0, float(row.get(x_name, row_number)))
        for column in range(1, table.GetNumberOfColumns()):
            value = row.get(table.GetColumnName(column))
            table.SetValue(row_number, column, float("nan") if value is None else float(value))
    added = table.GetNumberOfRows() - start
    if added:
        table.Modified()
        table_node.Modified()
    return added
