"""The layering rules of MedGANSynthLib/ARCHITECTURE.md, checked on the source text so a violation fails CI."""

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


# --- the package rules: layers, no cycles, no private imports (ARCHITECTURE.md, "Rules") --------------------------

LIBRARY_NAME = "MedGANSynthLib"
LAYER_OF_PACKAGE = {"mrml": "bridge", "cli": "cli", "__main__": "cli", "app": "app"}  # every other package: core
FORBIDDEN_LAYERS = {"core": {"bridge", "cli", "app"}, "bridge": {"cli", "app"}}


def _dotted_parts(path: Path, library: Path) -> list[str]:
    parts = list(path.relative_to(library).with_suffix("").parts)
    return parts[:-1] if parts[-1] == "__init__" else parts


def _top_level_names(library: Path) -> set[str]:
    return {p.stem for p in library.iterdir() if p.suffix == ".py" or (p / "__init__.py").is_file()} - {"__init__"}


def library_imports(library: Path):
    """(file, dotted module it is in, dotted module imported, names) for every import of the library, at any depth:
    ``import MedGANSynthLib.x``, ``from MedGANSynthLib.x import y`` and relative ``from ..x import y``."""
    for path in sorted(library.rglob("*.py")):
        here = _dotted_parts(path, library)
        package = here if path.name == "__init__.py" else here[:-1]
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    parts = alias.name.split(".")
                    if parts[0] == LIBRARY_NAME:
                        yield path, here, parts[1:], []
            elif isinstance(node, ast.ImportFrom):
                names = [alias.name for alias in node.names]
                module = node.module.split(".") if node.module else []
                if node.level:
                    yield path, here, package[: max(len(package) - node.level + 1, 0)] + module, names
                elif module and module[0] == LIBRARY_NAME:
                    yield path, here, module[1:], names


def _package_of(dotted: list[str]) -> str:
    """The library package a module belongs to: its first name below the library ("" for the library itself)."""
    return dotted[0] if dotted else ""


def package_edges(library: Path) -> set[tuple[str, str, str]]:
    """(importing package, imported package, file) for each import from one package into another."""
    top_level = _top_level_names(library)
    edges = set()
    for path, here, target, names in library_imports(library):
        # "from MedGANSynthLib import pictures" imports the module pictures; "import __version__" the library itself
        packages = {_package_of(target)} if target else {n if n in top_level else "" for n in names}
        edges.update((_package_of(here), p, str(path.relative_to(library))) for p in packages
                     if p != _package_of(here))
    return edges


def layer_violations(library: Path) -> list[str]:
    """Core imports of the bridge, the CLI or the app, and bridge imports of the CLI or the app."""
    def layer(package: str) -> str:
        return LAYER_OF_PACKAGE.get(package, "core")

    return sorted(f"{file} ({layer(a)}) imports {b} ({layer(b)})" for a, b, file in package_edges(library)
                  if layer(b) in FORBIDDEN_LAYERS.get(layer(a), set()))


def package_cycles(library: Path) -> list[list[str]]:
    """Groups of packages that import each other, directly or through others (strongly connected components)."""
    graph: dict[str, set[str]] = {}
    for a, b, _ in package_edges(library):
        graph.setdefault(a, set()).add(b)
        graph.setdefault(b, set())
    reachable = {start: _reachable(graph, start) for start in graph}
    cycles = {tuple(sorted(p for p in graph if p in reachable[start] and start in reachable[p]))
              for start in graph if start in reachable[start]}
    return sorted(list(cycle) for cycle in cycles)


def _reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), list(graph[start])
    while todo:
        package = todo.pop()
        if package not in seen:
            seen.add(package)
            todo.extend(graph[package])
    return seen


def private_imports(library: Path) -> list[str]:
    """``from x import _name`` where x is another module of the library: shared helpers must be public."""
    return sorted(f"{path.relative_to(library)} imports {name} from {'.'.join(target) or LIBRARY_NAME}"
                  for path, here, target, names in library_imports(library) for name in names
                  if name.startswith("_") and not name.startswith("__") and target != here)


def test_core_never_imports_the_bridge_the_cli_or_the_app():
    assert layer_violations(LIBRARY) == []


def test_no_import_cycle_between_packages():
    assert package_cycles(LIBRARY) == []


def test_no_private_name_imported_from_another_module():
    assert private_imports(LIBRARY) == []


def _library(tmp_path: Path, files: dict[str, str]) -> Path:
    """A library tree of real files under tmp_path/MedGANSynthLib; each package gets an __init__.py."""
    library = tmp_path / LIBRARY_NAME
    for name, text in {"__init__.py": "", **files}.items():
        path = library / name
        path.parent.mkdir(parents=True, exist_ok=True)
        for folder in path.relative_to(library).parents:
            (library / folder / "__init__.py").touch()
        path.write_text(text)
    return library


CLEAN = {
    "volume.py": "import numpy\n",
    "pet/suv.py": "from MedGANSynthLib.volume import Volume\nfrom .timestamps import parse\n",
    "pet/timestamps.py": "def parse():\n    pass\n",
    "mrml/logic.py": "from MedGANSynthLib.pet.suv import load\nfrom .. import volume\n",
    "cli/main.py": "import MedGANSynthLib.mrml.logic\nfrom MedGANSynthLib.app.demo import run\n",
    "app/demo.py": "from MedGANSynthLib.mrml import logic\nfrom MedGANSynthLib import __version__\n",
}


def test_the_checks_pass_a_clean_tree(tmp_path):
    library = _library(tmp_path, CLEAN)
    assert (layer_violations(library), package_cycles(library), private_imports(library)) == ([], [], [])


def test_a_core_import_of_the_bridge_cli_or_app_fails(tmp_path):
    library = _library(tmp_path, {**CLEAN,
                                  "pet/suv.py": "def f():\n    from MedGANSynthLib.mrml.logic import Logic\n",
                                  "pet/timestamps.py": "from ..cli import main\n",
                                  "volume.py": "import MedGANSynthLib.app.demo\n"})
    assert layer_violations(library) == ["pet/suv.py (core) imports mrml (bridge)",
                                         "pet/timestamps.py (core) imports cli (cli)",
                                         "volume.py (core) imports app (app)"]


def test_a_bridge_import_of_the_cli_or_app_fails(tmp_path):
    library = _library(tmp_path, {**CLEAN, "mrml/logic.py": "from MedGANSynthLib import cli\nfrom ..app import demo\n"})
    assert layer_violations(library) == ["mrml/logic.py (bridge) imports app (app)",
                                         "mrml/logic.py (bridge) imports cli (cli)"]


def test_an_import_cycle_fails_even_through_a_function_level_relative_import(tmp_path):
    library = _library(tmp_path, {**CLEAN,
                                  "io/read.py": "from MedGANSynthLib.pet.suv import load\n",
                                  "pet/timestamps.py": "def f():\n    from ..io import read\n"})
    assert package_cycles(library) == [["io", "pet"]]


def test_a_private_name_from_another_module_fails(tmp_path):
    library = _library(tmp_path, {**CLEAN,
                                  "pet/suv.py": "from .timestamps import _parse\n",
                                  "cli/main.py": "def f():\n    from MedGANSynthLib.volume import _array\n"})
    assert private_imports(library) == ["cli/main.py imports _array from volume",
                                        "pet/suv.py imports _parse from pet.timestamps"]
