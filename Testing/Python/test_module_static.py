"""Static checks of the Slicer module against its .ui file and its Logic (no Slicer application needed).

The module's files (``MedGANSynth.py`` and its parts in ``MedGANSynthModule/``) are read with ``ast`` as one
module and the .ui with ``xml.etree``, so these run without Qt: a widget name the code uses but the .ui lacks, a
``SlicerParameterName`` without a parameter, a Logic method that does not exist.
Whether Slicer can bind each widget to its parameter, and how the panel behaves, is tested by running the module
on Slicer's own Python layer (test_module_tier_*.py).
"""

from __future__ import annotations

import ast
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MODULE = REPO / "MedGANSynth" / "MedGANSynth.py"
MODULE_FILES = [MODULE, *sorted((REPO / "MedGANSynth" / "MedGANSynthModule").glob("*.py"))]
UI = REPO / "Resources" / "UI" / "MedGANSynth.ui"
LIBRARY_LOGIC_FILES = sorted((REPO / "MedGANSynthLib" / "mrml").glob("logic*.py"))  # the class and its parts
INPUT_WIDGETS = {"QSpinBox", "QDoubleSpinBox", "QCheckBox", "QComboBox", "QLineEdit", "ctkPathLineEdit",
                 "qMRMLNodeComboBox", "ctkSliderWidget"}


@pytest.fixture(scope="module")
def tree() -> ast.Module:
    """The module's files as one module: the top-level statements of each, in turn."""
    return ast.Module(body=[node for path in MODULE_FILES for node in ast.parse(path.read_text(), str(path)).body],
                      type_ignores=[])


@pytest.fixture(scope="module")
def ui_widgets() -> dict[str, ET.Element]:
    return {widget.get("name"): widget for widget in ET.parse(UI).getroot().iter("widget")}


def _class(tree: ast.Module, name: str) -> ast.ClassDef:
    return next(node for node in tree.body if isinstance(node, ast.ClassDef) and node.name == name)


OUTPUTS = "outputs"  # the section of node references to what Apply made: no widget


def _parameters(tree: ast.Module) -> dict[str, ast.AnnAssign]:
    """"section.name" -> its annotated statement: each section of the parameter node is a parameterPack class."""
    parameters = {}
    for section in _class(tree, "MedGANSynthParameterNode").body:
        if isinstance(section, ast.AnnAssign):
            pack = _class(tree, ast.unparse(section.annotation))
            assert any(ast.unparse(d) == "parameterPack" for d in pack.decorator_list), pack.name
            parameters.update({f"{section.target.id}.{s.target.id}": s for s in pack.body
                               if isinstance(s, ast.AnnAssign)})
    return parameters


def _split(annotation: ast.expr) -> tuple[str, list[ast.expr]]:
    """(base type text, metadata expressions) of ``Annotated[base, *metadata]`` or of a plain annotation."""
    if isinstance(annotation, ast.Subscript) and ast.unparse(annotation.value) == "Annotated":
        base, *metadata = annotation.slice.elts
        return ast.unparse(base), metadata
    return ast.unparse(annotation), []


def _parameter_kinds(tree: ast.Module) -> dict[str, str]:
    """Parameter name -> kind ("bool", "int", "float", "str", "choice", "path", "node") from the annotations."""
    kinds = {}
    for name, statement in _parameters(tree).items():
        base, metadata = _split(statement.annotation)
        if any(ast.unparse(m).startswith(("Choice(", "ModelChoice(")) for m in metadata):
            kind = "choice"
        elif base.startswith("vtkMRML"):
            kind = "node"
        elif base == "pathlib.Path":
            kind = "path"
        else:
            kind = base
        kinds[name] = kind
    return kinds


def _parameter_name(widget: ET.Element) -> str | None:
    for prop in widget.findall("property"):
        if prop.get("name") == "SlicerParameterName":
            return prop.findtext("string")
    return None


def _ui_attributes_used(tree: ast.Module) -> set[str]:
    return {node.attr for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute)
            and node.value.attr == "ui" and isinstance(node.value.value, ast.Name) and node.value.value.id == "self"}


def _logic_calls(node: ast.AST) -> list[str]:
    return [call.func.attr for call in ast.walk(node)
            if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
            and isinstance(call.func.value, ast.Attribute) and call.func.value.attr == "logic"]


def _methods(module: ast.Module, class_name: str) -> set[str]:
    return {item.name for item in _class(module, class_name).body if isinstance(item, ast.FunctionDef)}


def _library_logic_methods() -> set[str]:
    """Methods of the library's MedGANSynthLogic: its own and those of the parts it is made of (its bases)."""
    library = ast.Module(body=[node for path in LIBRARY_LOGIC_FILES for node in ast.parse(path.read_text()).body],
                         type_ignores=[])
    bases = [ast.unparse(base) for base in _class(library, "MedGANSynthLogic").bases]
    return _methods(library, "MedGANSynthLogic").union(*(_methods(library, base) for base in bases))


def test_every_widget_the_code_uses_is_in_the_ui(tree, ui_widgets):
    used = _ui_attributes_used(tree)
    assert used, "the widget uses no self.ui.<name> at all?"
    assert sorted(used - set(ui_widgets)) == []


def test_every_parameter_name_in_the_ui_is_a_parameter_and_every_parameter_has_a_widget(tree, ui_widgets):
    kinds = {name: kind for name, kind in _parameter_kinds(tree).items() if not name.startswith(OUTPUTS + ".")}
    bound = {_parameter_name(w): name for name, w in ui_widgets.items() if _parameter_name(w)}
    assert sorted(set(bound) - set(kinds)) == []
    assert sorted(set(kinds) - set(bound)) == []


def test_every_input_widget_is_bound_to_the_parameter_node(ui_widgets):
    unbound = [name for name, widget in ui_widgets.items()
               if widget.get("class") in INPUT_WIDGETS and not _parameter_name(widget)]
    assert unbound == []


def test_every_logic_method_the_widget_calls_exists(tree):
    widget = _class(tree, "MedGANSynthWidget")
    called = set(_logic_calls(widget))
    available = _methods(tree, "MedGANSynthLogic") | _library_logic_methods()
    available |= {"getParameterNode"}  # ScriptedLoadableModuleLogic's own
    assert {"computeSUVAndMIP", "predictVirtualPET", "sampleGAN", "latentWalk", "trainModel"} <= called
    assert sorted(called - available) == []


def test_each_button_runs_exactly_one_logic_action(tree):
    """A button handler calls one Logic action (plus, for Cancel, cancelJob); dependencies are checked in _run."""
    widget = _class(tree, "MedGANSynthWidget")
    handlers = {item.name: item for item in widget.body if isinstance(item, ast.FunctionDef)}
    connected = [call.args[1].attr for call in ast.walk(widget)
                 if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "connect"
                 and len(call.args) == 2 and "clicked" in ast.unparse(call.args[0])]
    assert len(connected) == 5
    for name in connected:
        actions = [call for call in _logic_calls(handlers[name]) if call != "cancelJob"]
        assert len(actions) == 1, f"{name} calls {actions}"


def test_literal_choice_defaults_are_among_the_choices(tree):
    checked = 0
    for statement in _parameters(tree).values():
        for item in _split(statement.annotation)[1]:
            if isinstance(item, ast.Call) and ast.unparse(item.func) == "Choice" and isinstance(item.args[0], ast.List) \
                    and all(isinstance(e, ast.Constant) for e in item.args[0].elts):
                assert ast.literal_eval(statement.value) in ast.literal_eval(item.args[0]), statement.target.id
                checked += 1
    assert checked >= 4  # interpolation, MIP axis, device, architecture


def test_node_selectors_follow_the_scene_and_the_ui_loads_as_xml(ui_widgets):
    root = ET.parse(UI).getroot()
    receivers = {c.findtext("receiver") for c in root.iter("connection") if c.findtext("slot").startswith("setMRMLScene")}
    selectors = {name for name, w in ui_widgets.items() if w.get("class") == "qMRMLNodeComboBox"}
    assert selectors and selectors <= receivers
    titles = {w.find("property/string").text for w in ui_widgets.values() if w.get("class") == "ctkCollapsibleButton"}
    assert titles == {"PET \u2192 SUV \u2192 MIP", "Virtual PET", "Synthesis", "Training"}
    assert {"progressBar", "statusLabel"} <= set(ui_widgets)


def test_module_follows_the_template_and_stays_small(tree):
    classes = {node.name for node in tree.body if isinstance(node, ast.ClassDef)}
    assert {"MedGANSynth", "MedGANSynthParameterNode", "MedGANSynthWidget", "MedGANSynthLogic",
            "MedGANSynthTest"} <= classes
    entry = ast.parse(MODULE.read_text()).body
    # Slicer finds the classes in the file it loads; the module class's runTest looks up <name>Test in its own module
    assert "MedGANSynth" in {node.name for node in entry if isinstance(node, ast.ClassDef)}
    named = {alias.asname or alias.name for node in entry if isinstance(node, ast.ImportFrom) for alias in node.names}
    assert {"MedGANSynthWidget", "MedGANSynthLogic", "MedGANSynthTest"} <= named
    lines = {path.name: len(path.read_text().splitlines()) for path in MODULE_FILES}
    assert max(lines.values()) <= 600, lines  # one concept a file
    assert sum(lines.values()) < 850, lines  # beyond that, non-GUI helpers go to MedGANSynthLib/mrml
    text = "\n".join(path.read_text() for path in MODULE_FILES)
    assert 'self.parent.categories = [translate("qSlicerAbstractCoreModule", "Nuclear Medicine")]' in text
    assert "connectGui(self.ui)" in text
    assert "slicer.pydeps" not in text  # no Slicer version has it; slicer.packaging is the real module
    imports = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert "torch" not in imports  # torch is imported lazily, after the dependency check


def test_the_job_timer_slot_does_not_use_try_with_error_display(tree):
    """slicer.util.tryWithErrorDisplay shows the error and re-raises: out of a timer slot that leaves the job
    half-ended (the tier's failure test shows what follows); the slot catches and ends the job itself."""
    slot = next(item for item in _class(tree, "MedGANSynthWidget").body
                if isinstance(item, ast.FunctionDef) and item.name == "onJobTimer")
    assert "tryWithErrorDisplay" not in ast.unparse(slot)
    assert any(isinstance(node, ast.Try) for node in ast.walk(slot))


def test_library_logic_imports_no_qt():
    imported = set()
    for node in (node for path in LIBRARY_LOGIC_FILES for node in ast.walk(ast.parse(path.read_text()))):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert not imported & {"qt", "ctk", "PythonQt", "torch"}
