"""Shared set-up of the MRML bridge tests: a real slicer-core scene with application and Colors logic."""

from __future__ import annotations

import numpy as np
import pytest

slicer = pytest.importorskip("slicer", reason="slicer-core (the real MRML libraries from PyPI) is not installed")

from MedGANSynthLib.mrml.scene import MrmlContext, new_headless_context  # noqa: E402

FLIP = np.diag([-1.0, -1.0, 1.0, 1.0])


def new_mrml_context() -> MrmlContext:
    """A headless Slicer context (about a second to build, so test files share one per module)."""
    context = new_headless_context()
    slicer.mrmlScene = context.scene
    return context


def matrix_of(vtk_matrix) -> np.ndarray:
    return np.array([[vtk_matrix.GetElement(r, c) for c in range(4)] for r in range(4)])


def ijk_to_ras_of(node) -> np.ndarray:
    import vtk

    matrix = vtk.vtkMatrix4x4()
    node.GetIJKToRASMatrix(matrix)
    return matrix_of(matrix)
