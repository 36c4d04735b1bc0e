"""The library's Logic plus what only the Slicer application has: the parameter node and package installs."""

from __future__ import annotations

import importlib
import importlib.util

import slicer
from slicer.i18n import tr as _
from slicer.ScriptedLoadableModule import ScriptedLoadableModuleLogic

from MedGANSynthLib.mrml.logic import MedGANSynthLogic as LibraryLogic
from MedGANSynthLib.mrml.parameter_names import (
    fill_missing_parameters,
    move_flat_parameters,
    offered_choices,
    replace_values_not_offered,
)
from MedGANSynthLib.mrml.requirements import SLICER_SHIPPED, missing_requirements

from .parameter_node import MedGANSynthParameterNode, parameterNames
from .resources import resourceFile


class MedGANSynthLogic(ScriptedLoadableModuleLogic, LibraryLogic):
    """The library's logic plus what only the Slicer application has: parameter nodes and package installs."""

    def __init__(self) -> None:
        ScriptedLoadableModuleLogic.__init__(self)
        LibraryLogic.__init__(self)

    def getParameterNode(self):
        """The module's parameter node; one saved by an earlier version is brought to the current names first."""
        node = super().getParameterNode()
        move_flat_parameters(node, [name for name in parameterNames() if not name.startswith("outputs.")])
        fill_missing_parameters(node, MedGANSynthParameterNode)
        replace_values_not_offered(node, offered_choices(MedGANSynthParameterNode))
        return MedGANSynthParameterNode(node)

    @staticmethod
    def missingRequirements() -> list[str]:
        """Lines of Resources/requirements.txt not satisfied in Slicer's Python (Slicer's own packages excluded)."""
        return missing_requirements(resourceFile("requirements.txt"))

    def ensureDependencies(self, confirm: bool = True) -> bool:
        """Install what is missing after one confirmation (none in testing mode); False when the user declines.

        torch comes from the PyTorch extension, which picks the CUDA build that matches the driver; the other
        packages of requirements.txt go through ``pip_ensure`` (Slicer >= 5.11/5.12) or ``pip_install`` before.
        """
        needTorch = importlib.util.find_spec("torch") is None
        missing = self.missingRequirements()
        if not needTorch and not missing:
            return True
        listing = ([_("torch (through the PyTorch extension)")] if needTorch else []) + missing
        if confirm and not slicer.app.testingEnabled():
            question = _("MedGANSynth needs these Python packages, which will be downloaded and installed now:") + "\n\n"
            if not slicer.util.confirmOkCancelDisplay(question + "\n".join(f"  - {item}" for item in listing)):
                return False
        if needTorch:
            try:
                import PyTorchUtils
            except ImportError:
                raise RuntimeError(
                    _("MedGANSynth needs the PyTorch extension: install it from the Extensions Manager.")) from None
            if PyTorchUtils.PyTorchUtilsLogic().installTorch(askConfirmation=False) is None:
                return False
        if missing:
            self._pipInstall(missing)
        return True

    @staticmethod
    def _pipInstall(requirements: list[str]) -> None:
        """``slicer.packaging.pip_ensure`` where Slicer has it (>= 5.12), else ``slicer.util.pip_install``.

        The user confirmed once already (ensureDependencies), so pip_ensure must not ask again; in testing mode it
        would install nothing, and the self-test needs the packages.
        """
        try:
            packaging = importlib.import_module("slicer.packaging")
        except ImportError:
            packaging = None
        if packaging is not None and hasattr(packaging, "pip_ensure"):
            packaging.pip_ensure(list(requirements), skip_packages=list(SLICER_SHIPPED), prompt_install=False,
                                 skip_in_testing=False, requester="MedGANSynth")
            return
        slicer.util.pip_install(list(requirements))
