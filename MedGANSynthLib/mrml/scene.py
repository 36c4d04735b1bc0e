"""One MRML scene (and the application logic Slicer's logic classes need) in and outside the Slicer app.

Inside Slicer, ``slicer.mrmlScene`` and ``slicer.app.applicationLogic()`` already exist and are used as they are.
In plain Python (``slicer-core`` from PyPI) nothing sets them up: volume and colour logic complain about an
"invalid Colors module logic" unless an application logic with a registered ``Colors`` logic exists. We then
build one, preferably through ``trame_slicer.core.SlicerApp`` (which also registers volumes, segmentations,
subject hierarchy logic and the default colour nodes), else with the bare MRML classes.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any

import slicer


@dataclass
class MrmlContext:
    """The scene plus the logic objects the bridge uses; ``app`` is the trame-slicer SlicerApp when one exists."""

    scene: Any
    app_logic: Any
    volumes_logic: Any
    app: Any = None


_headless_context: MrmlContext | None = None
_logics_by_scene: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def inside_slicer_application() -> bool:
    """True in Slicer's own Python (the GUI or ``--no-main-window``), where ``slicer.app`` exists."""
    return hasattr(slicer, "app") and getattr(slicer, "mrmlScene", None) is not None


def new_headless_context() -> MrmlContext:
    """A fresh scene with application, Colors and Volumes logic for plain Python (tests, scripts)."""
    try:
        from trame_slicer.core import SlicerApp
    except ImportError:
        return new_bare_context()
    app = SlicerApp()
    return MrmlContext(scene=app.scene, app_logic=app.app_logic, volumes_logic=app.volumes_logic, app=app)


def new_bare_context() -> MrmlContext:
    """The minimum that makes the volumes logic work without trame-slicer (application + Colors + Volumes logic)."""
    scene = slicer.vtkMRMLScene()
    app_logic = slicer.vtkSlicerApplicationLogic()
    app_logic.SetMRMLScene(scene)
    color_logic = app_logic.GetColorLogic()
    color_logic.SetMRMLScene(scene)
    color_logic.AddDefaultColorNodes()
    app_logic.SetModuleLogic("Colors", color_logic)
    volumes_logic = slicer.vtkSlicerVolumesLogic()
    volumes_logic.SetMRMLScene(scene)
    volumes_logic.SetMRMLApplicationLogic(app_logic)
    app_logic.SetModuleLogic("Volumes", volumes_logic)
    return MrmlContext(scene=scene, app_logic=app_logic, volumes_logic=volumes_logic)


def current_context() -> MrmlContext:
    """Slicer's own scene and logic inside the app; otherwise one headless context per process.

    The headless scene is also published as ``slicer.mrmlScene`` because ``slicer.util`` helpers look there.
    """
    global _headless_context
    if inside_slicer_application():
        return MrmlContext(
            scene=slicer.mrmlScene,
            app_logic=slicer.app.applicationLogic(),
            volumes_logic=slicer.modules.volumes.logic(),
        )
    if _headless_context is None:
        _headless_context = new_headless_context()
        slicer.mrmlScene = _headless_context.scene
    return _headless_context


def current_scene():
    """``slicer.mrmlScene`` when it is set (inside Slicer, or by a script), else the headless scene."""
    scene = getattr(slicer, "mrmlScene", None)
    return scene if scene is not None else current_context().scene


def resolve_scene(scene=None):
    """The scene a bridge function should use: the one passed, else :func:`current_scene`."""
    return scene if scene is not None else current_scene()


def module_logic(scene, name: str, logic_class):
    """The module logic ``name`` (e.g. "Sequences") bound to ``scene``, created once per scene and kept alive.

    It must stay alive: logic classes register node classes in the scene and observe nodes (the sequences logic
    updates the shown frame when the browser moves), which stops when the logic object is deleted.
    """
    if inside_slicer_application() and scene is slicer.mrmlScene:
        return slicer.app.applicationLogic().GetModuleLogic(name)
    app_logic = _headless_context.app_logic if _headless_context and _headless_context.scene is scene else None
    logics = _logics_by_scene.setdefault(scene, {})
    if name not in logics:
        logic = app_logic.GetModuleLogic(name) if app_logic is not None else None
        if logic is None:
            logic = logic_class()
            logic.SetMRMLScene(scene)
            if app_logic is not None:
                logic.SetMRMLApplicationLogic(app_logic)
                app_logic.SetModuleLogic(name, logic)
        logics[name] = logic
    return logics[name]
