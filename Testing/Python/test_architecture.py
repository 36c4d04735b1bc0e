"""The layering rules of ARCHITECTURE.md, checked on the source text so a violation fails CI."""

from __future__ import annotations

import ast
from pathlib import Path

LIBRARY = Path(__file__).resolve().parents[2] / "MedGANSynthLib"
GUI_MODULES = {"qt", "ctk", "slicer.qt"}
SLICER_MODULES = {"slicer", "vtk", "vtkmodules", "mrml", "trame_slicer"}


def _imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_core_never_imports_slicer_vtk_or_qt():
    offenders = []
    for path in LIBRARY.rglob("*.py"):
        if "mrml" in path.relative_to(LIBRARY).parts:
            continue
        bad = _imported_roots(path) & (SLICER_MODULES | GUI_MODULES)
        if bad:
            offenders.append(f"{path.relative_to(LIBRARY)} imports {sorted(bad)}")
    assert offenders == []


def test_mrml_bridge_never_imports_qt():
    bridge = LIBRARY / "mrml"
    offenders = [
        str(p.relative_to(LIBRARY)) for p in bridge.rglob("*.py") if _imported_roots(p) & GUI_MODULES
    ] if bridge.exists() else []
    assert offenders == []


def test_no_pickle_loading_anywhere():
    """Weights are safetensors + JSON; a user-supplied file is never unpickled."""
    offenders = []
    for path in LIBRARY.rglob("*.py"):
        text = path.read_text()
        if "import pickle" in text or "torch.load(" in text and "weights_only=True" not in text:
            offenders.append(str(path.relative_to(LIBRARY)))
    assert offenders == []


def test_slicer_logic_imports_without_torch():
    """The module must load in Slicer before torch is installed (it is installed on first use)."""
    import subprocess
    import sys

    code = "import sys, MedGANSynthLib.mrml.logic; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
