"""Load MedGANSynth/MedGANSynth.py the way Slicer loads a scripted module, on Slicer's own Python layer.

What is real here:
- ``slicer.util``, ``slicer.parameterNodeWrapper``, ``slicer.ScriptedLoadableModule``, ``slicer.i18n`` and
  ``slicer.packaging`` are Slicer's own sources (``../shared/slicer-python/<version>/slicer``), put first on
  ``slicer.__path__`` beside slicer-core's MRML classes from PyPI; Slicer's own ``slicer/__init__.py`` runs in the
  ``slicer`` namespace, as in the application.
- every widget class that exists in Qt is a real Qt 5 widget (PyQt5, offscreen), exposed as the ``qt`` module;
  the .ui file is parsed by PyQt5's uic, message boxes run a real nested event loop, timers are real ``QTimer``s.
- MRML scene, volumes, subject hierarchy and plots logic are slicer-core's, set up by trame-slicer.

What is not: PythonQt is not on PyPI, so its conventions are reproduced on PyQt5 by :class:`PythonQtConventions`
(a Qt property reads and writes as a Python attribute, ``obj.connect("signal(args)", slot)``, ``obj.name`` is the
object name). CTK and qMRML widgets have thin stand-ins: the state and the signals Slicer's GUI connectors use,
no behaviour a test asserts about. ``slicer.app`` is a stand-in that forwards to the real ``QApplication`` and holds
the real application logic; its only switch is ``testingEnabled``, and its own signals (``startupCompleted()``)
reach the slots connected to them when a test calls ``emit``.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import types
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
QtWidgets = pytest.importorskip("PyQt5.QtWidgets", reason="PyQt5 (Qt 5 widgets for the module tier) is not installed "
                                "or its Qt libraries cannot load")
from PyQt5 import QtCore, QtGui, sip, uic  # noqa: E402
from PyQt5.uic.Loader.loader import DynamicUILoader  # noqa: E402
from PyQt5.uic.Loader.qobjectcreator import LoaderCreatorPolicy  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[2]
SLICER_PYTHON = Path(os.environ.get("MEDGANSYNTH_SLICER_PYTHON", REPO_ROOT.parent / "shared" / "slicer-python"))
SLICER_VERSIONS = ("5.10.0", "main")
MODULE_FILE = REPO_ROOT / "MedGANSynth" / "MedGANSynth.py"
MODULE_PARTS = "MedGANSynthModule"  # the package beside MODULE_FILE that holds the module's classes
SLICER_LAYER = ("util", "parameterNodeWrapper", "ScriptedLoadableModule", "i18n", "packaging", "logic", "cli",
                "testing", "slicerqt", "modules", "moduleNames")


# --- PythonQt's conventions on PyQt5 --------------------------------------------------------------------------


_native = [False]  # True while PyQt5's own code (uic) works on the widgets: it expects PyQt5's conventions


class PythonQtConventions:
    """What PythonQt (Slicer's Qt binding) adds to every QObject, on top of a PyQt5 class."""

    def __getattribute__(self, name):
        if name[:1] != "_" and not _native[0]:
            meta = QtCore.QObject.metaObject(self)
            index = meta.indexOfProperty(name)
            if index >= 0:
                return meta.property(index).read(self)
            if name == "name":
                return QtCore.QObject.objectName(self)
        return super().__getattribute__(name)

    def __setattr__(self, name, value):
        if isinstance(getattr(type(self), name, None), QtCore.pyqtProperty):
            return super().__setattr__(name, value)  # a stand-in's own property
        meta = QtCore.QObject.metaObject(self)
        index = meta.indexOfProperty(name) if name[:1] != "_" and not _native[0] else -1
        if index >= 0:
            if not meta.property(index).write(self, value):
                raise AttributeError(f"cannot write Qt property {name} of {type(self).__name__}")
        elif name == "name" and not _native[0]:
            QtCore.QObject.setObjectName(self, value)
        else:
            super().__setattr__(name, value)

    def __bool__(self):
        """A wrapper is true while its C++ object exists (PyQt5 uses ``len()``: an empty QComboBox is false)."""
        return not sip.isdeleted(self)

    def _signal(self, signature: str):
        name, _, arguments = signature.partition("(")
        bound = getattr(self, name)
        arguments = arguments.rstrip(")").replace(" ", "")
        if arguments:
            try:
                bound = bound[arguments]
            except (KeyError, TypeError, IndexError):
                pass  # a signal with one signature
        return bound

    def connect(self, signature: str, slot):
        self._signal(signature).connect(slot)
        return True

    def disconnect(self, signature: str, slot):
        self._signal(signature).disconnect(slot)
        return True


def _pythonqt_class(base: type, name: str | None = None) -> type:
    return type(name or base.__name__, (PythonQtConventions, base), {"__module__": "qt"})


class _QtModule(types.ModuleType):
    """The ``qt`` module: each Qt class by name, QObject subclasses with PythonQt's conventions."""

    def __init__(self):
        super().__init__("qt", "Qt 5 (PyQt5) with PythonQt's conventions")
        self._cache: dict[str, object] = {}

    def __getattr__(self, name):
        cache = self.__dict__["_cache"]
        if name == "QUiLoader":
            return QUiLoader
        if name not in cache:
            for module in (QtWidgets, QtGui, QtCore):
                found = getattr(module, name, None)
                if found is not None:
                    break
            else:
                raise AttributeError(f"module 'qt' has no attribute '{name}'")
            is_qobject = isinstance(found, type) and issubclass(found, QtCore.QObject)
            cache[name] = _pythonqt_class(found) if is_qobject else found
        return cache[name]


qt = _QtModule()


# --- thin stand-ins for CTK and qMRML widgets (state and signals only) ----------------------------------------


def _state_property(kind, attribute: str, signal: str | None = None):
    """A Qt property kept in ``attribute``; emits ``signal`` when the value changes."""

    def read(self):
        return getattr(self, attribute)

    def write(self, value):
        if getattr(self, attribute) != value:
            object.__setattr__(self, attribute, value)
            if signal:
                getattr(self, signal).emit(value)

    return QtCore.pyqtProperty(kind, read, write)


class ctkCollapsibleButton(PythonQtConventions, QtWidgets.QPushButton):
    _collapsed = False
    contentsCollapsed = QtCore.pyqtSignal(bool)
    collapsed = _state_property(bool, "_collapsed", "contentsCollapsed")

    def setCollapsed(self, value):
        self.collapsed = value


class ctkPathLineEdit(PythonQtConventions, QtWidgets.QWidget):
    # ctkPathLineEdit::Filter takes QDir::Filter's values (ctkPathLineEdit.h)
    Dirs, Files, Drives = int(QtCore.QDir.Dirs), int(QtCore.QDir.Files), int(QtCore.QDir.Drives)
    Readable, Writable = int(QtCore.QDir.Readable), int(QtCore.QDir.Writable)
    NoDot, NoDotDot = int(QtCore.QDir.NoDot), int(QtCore.QDir.NoDotDot)
    _path, _filters, _nameFilters = "", 0, ()
    currentPathChanged = QtCore.pyqtSignal(str)
    currentPath = _state_property(str, "_path", "currentPathChanged")
    filters = _state_property(int, "_filters")
    nameFilters = _state_property(object, "_nameFilters")

    def setCurrentPath(self, path):
        self.currentPath = path

    def setFilters(self, value):
        self.filters = int(value)

    def setNameFilters(self, value):
        self.nameFilters = list(value)


class qMRMLWidget(PythonQtConventions, QtWidgets.QWidget):
    mrmlSceneChanged = QtCore.pyqtSignal(object)
    _scene = None

    def setMRMLScene(self, scene):
        if scene is not self._scene:
            object.__setattr__(self, "_scene", scene)
            self.mrmlSceneChanged.emit(scene)

    def mrmlScene(self):
        return self._scene


class qSlicerScriptedLoadableModuleWidget(qMRMLWidget):
    """The panel's parent widget; ``isEntered`` is set by the harness around enter() and exit()."""

    _entered = False
    isEntered = _state_property(bool, "_entered")


class qMRMLNodeComboBox(PythonQtConventions, QtWidgets.QWidget):
    currentNodeChanged = QtCore.pyqtSignal(object)
    _scene, _node, _types = None, None, ()
    nodeTypes = _state_property(object, "_types")
    showChildNodeTypes = QtCore.pyqtProperty(bool, lambda self: True, lambda self, value: None)
    addEnabled = QtCore.pyqtProperty(bool, lambda self: False, lambda self, value: None)
    removeEnabled = QtCore.pyqtProperty(bool, lambda self: False, lambda self, value: None)
    noneEnabled = QtCore.pyqtProperty(bool, lambda self: True, lambda self, value: None)

    def setNodeTypes(self, value):
        self.nodeTypes = list(value)

    def setShowChildNodeTypes(self, value):
        pass

    setAddEnabled = setRemoveEnabled = setNoneEnabled = setShowChildNodeTypes

    def setMRMLScene(self, scene):
        object.__setattr__(self, "_scene", scene)

    def mrmlScene(self):
        return self._scene

    def currentNode(self):
        return self._node

    def setCurrentNode(self, node):
        if node is not self._node:
            object.__setattr__(self, "_node", node)
            self.currentNodeChanged.emit(node)


class ctkMessageBox(PythonQtConventions, QtWidgets.QMessageBox):
    """Slicer's message boxes are ctkMessageBox, a QMessageBox with a "don't show again" box."""


def _never_instantiated(name: str) -> type:
    """Classes Slicer's GUI connectors compare widget types with; the .ui never makes one."""
    return type(name, (PythonQtConventions, QtWidgets.QWidget), {})


ctk = types.ModuleType("ctk", "thin stand-ins for the CTK widgets the module and Slicer's connectors name")
for _cls in (ctkCollapsibleButton, ctkPathLineEdit, ctkMessageBox):
    setattr(ctk, _cls.__name__, _cls)
for _name in ("ctkCheckBox", "ctkCheckablePushButton", "ctkSliderWidget", "ctkDoubleSlider", "ctkDoubleSpinBox",
              "ctkComboBox", "ctkRangeWidget", "ctkDoubleRangeSlider", "ctkDirectoryButton", "ctkColorPickerButton"):
    setattr(ctk, _name, _never_instantiated(_name))
QMRML_WIDGETS = {cls.__name__: cls for cls in (qMRMLWidget, qMRMLNodeComboBox, qSlicerScriptedLoadableModuleWidget)}
QMRML_WIDGETS.update({name: _never_instantiated(name)
                      for name in ("qMRMLSliderWidget", "qMRMLSpinBox", "qMRMLRangeWidget")})


# --- the .ui loader (PythonQt's QUiLoader) --------------------------------------------------------------------


class _Lookup:
    def __init__(self, namespace):
        self._namespace = namespace

    def search(self, name):
        try:
            return getattr(self._namespace, name)
        except AttributeError:
            return None


class _CustomWidgets:
    def __init__(self):
        self._namespaces = [ctk, types.SimpleNamespace(**QMRML_WIDGETS)]

    def addCustomWidget(self, widgetClass, baseClass, module):
        pass

    def search(self, name):
        return next((getattr(n, name) for n in self._namespaces if hasattr(n, name)), None)


class _Policy(LoaderCreatorPolicy):
    def createQtGuiWidgetsWrappers(self):
        return [_Lookup(qt)]

    def createCustomWidgetLoader(self):
        return _CustomWidgets()


class _UiParser(DynamicUILoader):
    def __init__(self):
        uic.uiparser.UIParser.__init__(self, QtCore, QtGui, QtWidgets, _Policy(""))

    def createConnections(self, elem):
        """Designer connections by name: a qMRML signal carries a vtk object, which PyQt5 types as ``object``."""
        def named(name):
            return self.toplevelWidget if name == self.uiname else getattr(self.toplevelWidget, name)

        for connection in elem:
            signal = getattr(named(connection.findtext("sender")), connection.findtext("signal").split("(")[0])
            signal.connect(getattr(named(connection.findtext("receiver")), connection.findtext("slot").split("(")[0]))


class QUiLoader:
    def load(self, qfile, parent=None):
        _native[0] = True
        try:
            widget = _UiParser().loadUi(qfile.fileName(), None, "_rc")
        finally:
            _native[0] = False
        if parent is not None:
            widget.setParent(parent)
        return widget


# --- slicer.app and the environment ----------------------------------------------------------------------------


class qSlicerModuleManager(PythonQtConventions, QtCore.QObject):
    """The module base classes connect to this signal; Slicer emits it before unloading a module."""

    moduleAboutToBeUnloaded = QtCore.pyqtSignal(str)


class ApplicationStandIn:
    """The parts of ``qSlicerApplication`` the module and Slicer's Python layer call, forwarding to real objects."""

    applicationName = "Slicer"

    def __init__(self, qapp, context, home: Path):
        self._qapp, self._context, self.slicerHome = qapp, context, str(home)
        self.testing = False
        self._moduleManager = qSlicerModuleManager()
        self._slots: dict[str, list] = {}

    def testingEnabled(self):
        return self.testing

    def connect(self, signal: str, slot):
        """qSlicerApplication's own signals (e.g. "startupCompleted()"); the harness emits them with emit()."""
        self._slots.setdefault(signal, []).append(slot)
        return True

    def emit(self, signal: str):
        for slot in self._slots.get(signal, []):
            slot()

    def applicationLogic(self):
        return self._context.app_logic

    def moduleManager(self):
        return self._moduleManager

    def mainWindow(self):
        return None

    def topLevelWidgets(self):
        return QtWidgets.QApplication.topLevelWidgets()

    def translate(self, context, text):
        return QtCore.QCoreApplication.translate(context, text)

    def processEvents(self, *args):
        self._qapp.processEvents(*args)

    def setOverrideCursor(self, cursor):
        QtWidgets.QApplication.setOverrideCursor(cursor)

    def restoreOverrideCursor(self):
        QtWidgets.QApplication.restoreOverrideCursor()


def _replaced_here(name: str) -> bool:
    """Modules a SlicerEnvironment puts in ``sys.modules`` (and takes out when closed)."""
    return name in ("qt", "ctk", "MedGANSynth") or name.split(".")[0] == MODULE_PARTS or name.startswith("slicer.")


def qapplication():
    return QtWidgets.QApplication.instance() or QtWidgets.QApplication(["MedGANSynth module tier"])


class _ModuleLogic:
    def __init__(self, logic):
        self._logic = logic

    def logic(self):
        return self._logic


class SlicerEnvironment:
    """Slicer's Python layer of one version over slicer-core, with the module loaded; ``close()`` undoes it all."""

    def __init__(self, version: str, home: Path):
        import slicer
        import vtk  # noqa: F401 -- slicer-core's classes need vtk loaded first

        from MedGANSynthLib.mrml.scene import new_headless_context

        source = SLICER_PYTHON / version / "slicer"
        if not (source / "util.py").is_file():
            pytest.skip(f"Slicer's Python layer {source} is absent (../shared/slicer-python beside the clone)")
        self.version, self.slicer = version, slicer
        self._saved_path = list(slicer.__path__)
        self._saved_attributes = dict(vars(slicer))
        self._saved_modules = {name: module for name, module in sys.modules.items() if _replaced_here(name)}
        for name in list(sys.modules):
            if name.startswith("slicer.") and name.split(".")[1] in SLICER_LAYER:
                del sys.modules[name]
        sys.modules["qt"], sys.modules["ctk"] = qt, ctk
        slicer.__path__.insert(0, str(source))
        exec(compile((source / "__init__.py").read_text(), str(source / "__init__.py"), "exec"), vars(slicer))
        self.qapp = qapplication()
        self.context = new_headless_context()
        slicer.mrmlScene = self.context.scene
        self.app = slicer.app = ApplicationStandIn(self.qapp, self.context, home)
        # slicer.util finds the main window by this object name; error dialogs are shown only when there is one
        self.mainWindow = qt.QMainWindow()
        self.mainWindow.setObjectName("qSlicerMainWindow")
        for name, cls in QMRML_WIDGETS.items():
            setattr(slicer, name, cls)
        app_logic = self.context.app_logic
        # Slicer's module manager registers every module logic with the application logic; trame-slicer's
        # headless app has no Sequences logic, which the MIP cine and GAN sample sequences need
        if app_logic.GetModuleLogic("Sequences") is None:
            self._sequences = slicer.vtkSlicerSequencesLogic()
            self._sequences.SetMRMLScene(self.context.scene)
            self._sequences.SetMRMLApplicationLogic(app_logic)
            app_logic.SetModuleLogic("Sequences", self._sequences)
        slicer.modules.volumes = _ModuleLogic(self.context.volumes_logic)
        slicer.modules.plots = _ModuleLogic(app_logic.GetModuleLogic("Plots") or slicer.vtkSlicerPlotsLogic())
        for name in ("util", "i18n", "parameterNodeWrapper", "ScriptedLoadableModule"):
            setattr(slicer, name, importlib.import_module(f"slicer.{name}"))
        self.module = self._load_module()

    def _load_module(self):
        """As Slicer does: the file's folder appended to ``sys.path`` (ctkFactoryScriptedItem::load), then the
        file as module ``MedGANSynth`` and its module class (qSlicerScriptedLoadableModule)."""
        sys.path.append(str(MODULE_FILE.parent))
        spec = importlib.util.spec_from_file_location("MedGANSynth", MODULE_FILE)
        module = importlib.util.module_from_spec(spec)
        sys.modules["MedGANSynth"] = module
        spec.loader.exec_module(module)
        parent = types.SimpleNamespace(path=str(MODULE_FILE), icon=None)
        self.moduleInstance = module.MedGANSynth(parent)
        self.moduleParent = parent
        self.slicer.modules.MedGANSynthInstance = self.moduleInstance
        return module

    def new_widget(self):
        """The panel as Slicer makes it: a module widget in a parent with a layout, then setup()."""
        parent = qSlicerScriptedLoadableModuleWidget()
        parent.setLayout(qt.QVBoxLayout())
        parent.setMRMLScene(self.slicer.mrmlScene)
        widget = self.module.MedGANSynthWidget(parent)
        widget.setup()
        self.slicer.modules.MedGANSynthWidget = widget
        return widget

    @staticmethod
    def enter(widget):
        """Selecting the module: Slicer shows its panel, then calls enter()."""
        widget.parent.show()
        widget.parent.isEntered = True
        widget.enter()

    @staticmethod
    def exit(widget):
        widget.exit()
        widget.parent.isEntered = False
        widget.parent.hide()

    def close(self):
        self.mainWindow.close()
        self.mainWindow.deleteLater()
        slicer = self.slicer
        for name in list(sys.modules):
            if _replaced_here(name):
                del sys.modules[name]
        sys.modules.update(self._saved_modules)
        sys.path.remove(str(MODULE_FILE.parent))
        slicer.__path__[:] = self._saved_path
        for name in list(vars(slicer)):
            if name not in self._saved_attributes:
                delattr(slicer, name)
        for name, value in self._saved_attributes.items():
            setattr(slicer, name, value)


def process_events_until(condition, timeout_s: float = 60.0, step_ms: int = 20) -> None:
    """Run the real Qt event loop (timers fire) until ``condition()`` holds."""
    import time

    app = qapplication()
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        app.processEvents(QtCore.QEventLoop.AllEvents, step_ms)
        time.sleep(step_ms / 1000)


# --- fixtures shared by the tier's test files ------------------------------------------------------------------


@pytest.fixture(scope="module", params=SLICER_VERSIONS)
def slicer_env(request, tmp_path_factory):
    """Slicer's Python layer of one version (5.10.0, main) with the module loaded; undone after the test file."""
    env = SlicerEnvironment(request.param, tmp_path_factory.mktemp(f"slicer-{request.param}"))
    yield env
    env.close()


@pytest.fixture
def slot_errors(monkeypatch):
    """Exceptions escaping a Qt slot. PythonQt prints them and goes on; PyQt5 aborts unless sys.excepthook is
    replaced, so it is replaced by one that records them for the test to check."""
    errors = []
    monkeypatch.setattr(sys, "excepthook", lambda kind, value, trace: errors.append(value))
    return errors


@pytest.fixture
def scene(slicer_env):
    scene = slicer_env.slicer.mrmlScene
    scene.Clear(0)
    return scene


@pytest.fixture
def panel(slicer_env, scene, slot_errors):
    """The module panel, set up and entered, as Slicer shows it; left and cleaned up afterwards."""
    widget = slicer_env.new_widget()
    slicer_env.enter(widget)
    yield widget
    if widget.parent.isEntered:
        slicer_env.exit(widget)
    widget.cleanup()
    widget.parent.deleteLater()
    qapplication().processEvents()
