"""Everything the MedGANSynth panel can do, one method per button, usable without the panel.

The Slicer module's Logic inherits this class; the same methods serve Slicer's Python console, headless batch
scripts (``Slicer --no-main-window --python-script``) and plain Python with ``slicer-core`` from PyPI::

    logic = MedGANSynthLogic()
    suv = logic.computeSUV("/data/PET", weightKg=72)
    mip = logic.computeMIP(suv, axis="coronal")
    result = logic.predictVirtualPET(ctNode, modelId="virtual-pet-phantom")

Names are camelCase like Slicer's own logic classes, so a script writer can guess them. No Qt here: long work
runs as a child process (:mod:`MedGANSynthLib.mrml.job_runner`); ``wait=False`` returns a :class:`LogicJob` that the
panel polls from a timer with :meth:`MedGANSynthLogic.processJob`, ``wait=True`` blocks (scripts and tests).
Library parts are imported where they are used, so torch is loaded only by the actions that need it.

The methods live with their panel section: ``logic_pet`` (SUV, resampling, MIPs), ``logic_virtual_pet``,
``logic_gan`` (samples, latent walks), ``logic_training`` and ``logic_jobs`` (start, poll, wait, cancel); this
class puts them together with the scene. Their public names are importable from here too.
"""

from __future__ import annotations

from MedGANSynthLib.mrml.logic_gan import GanActions
from MedGANSynthLib.mrml.logic_jobs import JobControl, LogicJob, ProgressHandler, child_python
from MedGANSynthLib.mrml.logic_pet import PETActions, PETNodes
from MedGANSynthLib.mrml.logic_training import TrainingActions
from MedGANSynthLib.mrml.logic_virtual_pet import VIRTUAL_PET_OUTPUTS, VirtualPETActions, VirtualPETNodes
from MedGANSynthLib.mrml.node_warnings import WARNINGS_ATTRIBUTE
from MedGANSynthLib.mrml.scene import resolve_scene

__all__ = [
    "VIRTUAL_PET_OUTPUTS",
    "WARNINGS_ATTRIBUTE",
    "LogicJob",
    "MedGANSynthLogic",
    "PETNodes",
    "ProgressHandler",
    "VirtualPETNodes",
    "child_python",
]


class MedGANSynthLogic(PETActions, VirtualPETActions, GanActions, TrainingActions, JobControl):
    """Panel actions as methods, working in ``scene``.

    Without a scene it uses ``slicer.mrmlScene``: Slicer's own inside the application, the one a script set, or
    else (plain Python) a headless scene with the logic classes Slicer's volume and colour code need.
    """

    def __init__(self, scene=None) -> None:
        self._scene = scene
        self.currentJob: LogicJob | None = None
        self.lastWarnings: list[str] = []  # warnings of the last computeSUV or virtual PET

    @property
    def scene(self):
        return resolve_scene(getattr(self, "_scene", None))

    def modelCatalogue(self, task: str | None = None) -> list:
        """Bundled models (catalogue entries with id, title, task, classes), optionally of one task."""
        from MedGANSynthLib.weights.catalogue import load_catalogue

        return [entry for entry in load_catalogue() if task is None or entry.task == task]
