"""MedGANSynth: GAN image synthesis for PET/CT in 3D Slicer (module, parameter node, panel, logic, self-test).

The panel holds no science: each button calls one method of :class:`MedGANSynthLogic`, which is the library's
``MedGANSynthLib.mrml.logic.MedGANSynthLogic`` — the same methods Slicer's Python console and batch scripts use.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import json
import logging
import pathlib
import re
import sys
from typing import Annotated

import qt
import slicer
import vtk
from slicer import vtkMRMLScalarVolumeNode
from slicer.parameterNodeWrapper import Choice, WithinRange, parameterNodeWrapper
from slicer.ScriptedLoadableModule import (
    ScriptedLoadableModule,
    ScriptedLoadableModuleLogic,
    ScriptedLoadableModuleTest,
    ScriptedLoadableModuleWidget,
)
from slicer.util import VTKObservationMixin

MODULE_DIR = pathlib.Path(__file__).resolve().parent

try:
    import MedGANSynthLib  # noqa: F401 -- installed extension: the package sits beside this file
except ImportError:
    # Source tree added to Slicer's module paths: the package is one level up, beside MedGANSynth/.
    sys.path.insert(0, str(MODULE_DIR.parent))

from MedGANSynthLib.mrml.logic import MedGANSynthLogic as LibraryLogic  # noqa: E402

SLICER_SHIPPED = ("numpy", "SimpleITK", "requests", "scipy", "pydicom")
"""Packages Slicer ships: never reinstalled, a different build can break Slicer itself."""
LESION_CLASSES = ("normal", "head_neck", "oesophagus", "lung", "lymphoma")  # RadioGAN classes (seed 000)
DEMENTIA_STAGES = ("NC", "MCI", "AD")  # brain-PET DCGAN stages (seed 001)


def resourceFile(relativePath: str) -> pathlib.Path:
    """A resource beside the installed module, else in the source tree's top-level Resources/."""
    installed = MODULE_DIR / "Resources" / relativePath
    return installed if installed.exists() else MODULE_DIR.parent / "Resources" / relativePath


def bundledModelIds(task: str) -> list[str]:
    """Catalogue ids for the model combo boxes ("" when none is bundled); read without importing torch."""
    path = resourceFile("Models/catalogue.json")
    try:
        models = json.loads(path.read_text())["models"] if path.is_file() else []
    except (ValueError, KeyError):
        models = []
    return [m["id"] for m in models if m.get("task") == task] or [""]


#
# MedGANSynth
#


class MedGANSynth(ScriptedLoadableModule):
    def __init__(self, parent):
        ScriptedLoadableModule.__init__(self, parent)
        self.parent.title = "MedGANSynth"
        self.parent.categories = ["Nuclear Medicine"]
        self.parent.dependencies = []
        self.parent.contributors = ["MedGANSynth developers"]
        self.parent.helpText = """
PET/CT image synthesis with generative adversarial networks: turn a PET into SUV and maximum-intensity projections,
predict a <b>virtual PET</b> from a CT with its lesion candidates, sample GANs and play latent walks, train GANs.
Every button is one call of <code>MedGANSynthLogic</code>, usable from the Python console and batch scripts.
See the <a href="https://github.com/medgansynth/MedGANSynth#readme">documentation</a> and the
<a href="https://github.com/medgansynth/MedGANSynth/blob/main/Testing/Scripts">batch examples</a>.
Bundled models are trained on software phantoms, not on patients: research use only.
"""
        self.parent.acknowledgementText = """
Built on 3D Slicer and PyTorch. Methods follow RadioGAN (class-conditional MIP PET synthesis), the brain-PET DCGAN
study, and the CT-to-virtual-PET work combining an FCN with a pix2pix GAN (see the README for references).
"""


#
# MedGANSynthParameterNode
#


@parameterNodeWrapper
class MedGANSynthParameterNode:
    """The panel's state, saved with the scene."""

    # PET -> SUV -> MIP
    petVolume: vtkMRMLScalarVolumeNode
    suvFromDicomTags: bool = True
    weightKg: Annotated[float, WithinRange(0.0, 400.0)] = 70.0
    doseMBq: Annotated[float, WithinRange(0.0, 5000.0)] = 370.0
    injectionTime: str = ""
    scanTime: str = ""
    resample: bool = False
    spacingMm: Annotated[float, WithinRange(0.5, 20.0)] = 2.0
    interpolation: Annotated[str, Choice(["nearest", "linear", "bspline"])] = "nearest"
    mipAxis: Annotated[str, Choice(["coronal", "sagittal", "axial"])] = "coronal"
    rotatingMIP: bool = False
    rotatingAngles: Annotated[int, WithinRange(1, 720)] = 36
    # Virtual PET
    ctVolume: vtkMRMLScalarVolumeNode
    virtualPetModel: Annotated[str, Choice(bundledModelIds("virtual_pet"))] = bundledModelIds("virtual_pet")[0]
    virtualPetModelFile: pathlib.Path = pathlib.Path()
    device: Annotated[str, Choice(["auto", "cpu", "cuda", "mps"])] = "auto"
    threshold: Annotated[float, WithinRange(0.5, 30.0)] = 2.5
    uncertainty: bool = False
    # Synthesis
    ganModel: Annotated[str, Choice(bundledModelIds("gan"))] = bundledModelIds("gan")[0]
    ganModelFile: pathlib.Path = pathlib.Path()
    className: Annotated[str, Choice(["", *LESION_CLASSES, *DEMENTIA_STAGES])] = ""
    sampleCount: Annotated[int, WithinRange(1, 256)] = 8
    seed: Annotated[int, WithinRange(0, 2147483647)] = 0
    walkSteps: Annotated[int, WithinRange(2, 256)] = 10
    seedA: Annotated[int, WithinRange(0, 2147483647)] = 0
    seedB: Annotated[int, WithinRange(0, 2147483647)] = 1
    classA: Annotated[str, Choice(["", *LESION_CLASSES, *DEMENTIA_STAGES])] = ""
    classB: Annotated[str, Choice(["", *LESION_CLASSES, *DEMENTIA_STAGES])] = ""
    # Training
    dataFolder: pathlib.Path = pathlib.Path()
    architecture: Annotated[str, Choice(["radiogan", "brain_dcgan", "ct_gan"])] = "radiogan"
    epochs: Annotated[int, WithinRange(1, 100000)] = 300
    batchSize: Annotated[int, WithinRange(1, 4096)] = 16
    learningRate: Annotated[float, WithinRange(0.0, 1.0)] = 0.0
    outputFolder: pathlib.Path = pathlib.Path()
    resume: bool = False
    startFrom: Annotated[str, Choice(["", *bundledModelIds("gan")])] = ""


def requirementCheck(text: str):
    """(package name, version test) of a requirement line; only presence is tested without ``packaging``."""
    try:
        from packaging.requirements import Requirement
    except ImportError:
        return re.split(r"[<>=!~;\[ ]", text, maxsplit=1)[0], lambda version: True
    requirement = Requirement(text)
    return requirement.name, lambda version: requirement.specifier.contains(version, prereleases=True)


def pathOrNone(path) -> str | None:
    """A path parameter as text, None when empty (an empty ctkPathLineEdit reads as '.')."""
    text = str(path) if path is not None else ""
    return None if text in ("", ".") else text


#
# MedGANSynthWidget
#


class MedGANSynthWidget(ScriptedLoadableModuleWidget, VTKObservationMixin):
    def __init__(self, parent=None) -> None:
        ScriptedLoadableModuleWidget.__init__(self, parent)
        VTKObservationMixin.__init__(self)
        self.logic = None
        self._parameterNode = None
        self._parameterNodeGuiTag = None
        self._job = None
        self._jobButton = None
        self._jobButtonText = ""
        self._chartShown = False

    def setup(self) -> None:
        ScriptedLoadableModuleWidget.setup(self)
        uiWidget = slicer.util.loadUI(str(resourceFile("UI/MedGANSynth.ui")))
        self.layout.addWidget(uiWidget)
        self.ui = slicer.util.childWidgetVariables(uiWidget)
        uiWidget.setMRMLScene(slicer.mrmlScene)
        self.logic = MedGANSynthLogic()

        self._timer = qt.QTimer()
        self._timer.setInterval(250)
        self._timer.timeout.connect(self.onJobTimer)

        self.addObserver(slicer.mrmlScene, slicer.mrmlScene.StartCloseEvent, self.onSceneStartClose)
        self.addObserver(slicer.mrmlScene, slicer.mrmlScene.EndCloseEvent, self.onSceneEndClose)

        self.ui.petApplyButton.connect("clicked(bool)", self.onPetApply)
        self.ui.vpetApplyButton.connect("clicked(bool)", self.onVirtualPetApply)
        self.ui.sampleButton.connect("clicked(bool)", self.onSample)
        self.ui.walkButton.connect("clicked(bool)", self.onWalk)
        self.ui.trainButton.connect("clicked(bool)", self.onTrain)
        self.initializeParameterNode()

    def cleanup(self) -> None:
        self._timer.stop()
        if self._job is not None:
            self.logic.cancelJob()
        self.removeObservers()

    def enter(self) -> None:
        self.initializeParameterNode()

    def exit(self) -> None:
        if self._parameterNode:
            self._parameterNode.disconnectGui(self._parameterNodeGuiTag)
            self._parameterNodeGuiTag = None
            self.removeObserver(self._parameterNode, vtk.vtkCommand.ModifiedEvent, self._updateButtons)

    def onSceneStartClose(self, caller, event) -> None:
        self.setParameterNode(None)

    def onSceneEndClose(self, caller, event) -> None:
        if self.parent.isEntered:
            self.initializeParameterNode()

    def initializeParameterNode(self) -> None:
        self.setParameterNode(self.logic.getParameterNode())
        if not self._parameterNode.petVolume:
            self._parameterNode.petVolume = self._firstVolume("PT")
        if not self._parameterNode.ctVolume:
            self._parameterNode.ctVolume = self._firstVolume("CT")

    @staticmethod
    def _firstVolume(modality: str):
        """A loaded volume of that modality (DICOM or MedGANSynth attribute), to preselect the obvious input."""
        for node in slicer.util.getNodesByClass("vtkMRMLScalarVolumeNode"):
            if modality in (node.GetAttribute("DICOM.Modality"), node.GetAttribute("MedGANSynth.Modality")):
                return node
        return None

    def setParameterNode(self, inputParameterNode) -> None:
        if self._parameterNode:
            self._parameterNode.disconnectGui(self._parameterNodeGuiTag)
            self.removeObserver(self._parameterNode, vtk.vtkCommand.ModifiedEvent, self._updateButtons)
        self._parameterNode = inputParameterNode
        if self._parameterNode:
            self._parameterNodeGuiTag = self._parameterNode.connectGui(self.ui)
            self.addObserver(self._parameterNode, vtk.vtkCommand.ModifiedEvent, self._updateButtons)
            self._updateButtons()

    def _updateButtons(self, caller=None, event=None) -> None:
        """Enable each action when its inputs are there; a running job keeps only its Cancel button enabled."""
        p = self._parameterNode
        running = self._job is not None
        enabled = [
            (self.ui.petApplyButton, bool(p and p.petVolume)),
            (self.ui.vpetApplyButton, bool(p and p.ctVolume)),
            (self.ui.sampleButton, bool(p and (p.ganModel or pathOrNone(p.ganModelFile)))),
            (self.ui.walkButton, bool(p and (p.ganModel or pathOrNone(p.ganModelFile)))),
            (self.ui.trainButton, bool(p and pathOrNone(p.outputFolder) and (pathOrNone(p.dataFolder) or p.resume))),
        ]
        for button, ready in enabled:
            button.enabled = (button is self._jobButton) if running else ready

    # --- actions: one Logic call each --------------------------------------------------------------------------

    def _run(self, message: str, action) -> None:
        with slicer.util.tryWithErrorDisplay(message, waitCursor=True):
            if self.logic.ensureDependencies():
                action()

    def onPetApply(self) -> None:
        p = self._parameterNode
        manual = not p.suvFromDicomTags
        self._run("Failed to compute the SUV and MIP.", lambda: self.logic.computeSUVAndMIP(
            p.petVolume,
            weightKg=p.weightKg if manual else None,
            doseMBq=p.doseMBq if manual else None,
            injectionTime=(p.injectionTime or None) if manual else None,
            scanTime=(p.scanTime or None) if manual else None,
            spacingMm=p.spacingMm if p.resample else None,
            interpolation=p.interpolation,
            axis=p.mipAxis,
            rotatingAngles=p.rotatingAngles if p.rotatingMIP else None,
        ))

    def onVirtualPetApply(self) -> None:
        if self._jobButton is self.ui.vpetApplyButton:
            self.logic.cancelJob()
            return
        p = self._parameterNode
        model = pathOrNone(p.virtualPetModelFile) or p.virtualPetModel
        self._run("Failed to start the virtual PET.", lambda: self._startJob(self.ui.vpetApplyButton, self.logic.predictVirtualPET(
            p.ctVolume, modelId=model, device=p.device, threshold=p.threshold, uncertainty=p.uncertainty, wait=False)))

    def onSample(self) -> None:
        p = self._parameterNode
        model = pathOrNone(p.ganModelFile) or p.ganModel
        self._run("Failed to sample the GAN.", lambda: self.logic.sampleGAN(
            model, className=p.className or None, count=p.sampleCount, seed=p.seed, device=p.device))

    def onWalk(self) -> None:
        p = self._parameterNode
        model = pathOrNone(p.ganModelFile) or p.ganModel
        self._run("Failed to compute the latent walk.", lambda: self.logic.latentWalk(
            model, steps=p.walkSteps, seedA=p.seedA, seedB=p.seedB, classA=p.classA or None, classB=p.classB or None,
            device=p.device))

    def onTrain(self) -> None:
        if self._jobButton is self.ui.trainButton:
            self.logic.cancelJob()
            return
        p = self._parameterNode
        self._run("Failed to start training.", lambda: self._startJob(self.ui.trainButton, self.logic.trainModel(
            p.architecture, pathOrNone(p.dataFolder), pathOrNone(p.outputFolder), epochs=p.epochs,
            batchSize=p.batchSize, learningRate=p.learningRate or None, resume=p.resume, wait=False, device=p.device,
            initWeights=p.startFrom or None)))

    # --- background jobs: Apply becomes Cancel, a timer drives the progress bar ---------------------------------

    def _startJob(self, button, job) -> None:
        self._job, self._jobButton, self._jobButtonText = job, button, button.text
        self._chartShown = False
        button.text = "Cancel"
        self.ui.progressBar.visible = True
        self.ui.progressBar.value = 0
        self.ui.statusLabel.text = job.status
        self._updateButtons()
        self._timer.start()

    def onJobTimer(self) -> None:
        job = self._job
        failed = True
        with slicer.util.tryWithErrorDisplay(f"{job.name} failed.", waitCursor=False):
            finished = self.logic.processJob(job)  # raises the job's one-line error when it failed
            failed = False
        if failed:
            self._endJob(f"{job.name} failed")
            return
        self.ui.progressBar.value = int(100 * job.fraction)
        self.ui.statusLabel.text = job.status
        if job.chart is not None and not self._chartShown:
            slicer.modules.plots.logic().ShowChartInLayout(job.chart)  # the live loss plot
            self._chartShown = True
        if finished:
            self._endJob(job.status)

    def _endJob(self, status: str) -> None:
        self._timer.stop()
        self._jobButton.text = self._jobButtonText
        self._job, self._jobButton = None, None
        self.ui.progressBar.visible = False
        self.ui.statusLabel.text = status
        self._updateButtons()


#
# MedGANSynthLogic
#


class MedGANSynthLogic(ScriptedLoadableModuleLogic, LibraryLogic):
    """The library's logic plus what only the Slicer application has: parameter nodes and package installs."""

    def __init__(self) -> None:
        ScriptedLoadableModuleLogic.__init__(self)
        LibraryLogic.__init__(self)

    def getParameterNode(self):
        return MedGANSynthParameterNode(super().getParameterNode())

    @staticmethod
    def missingRequirements() -> list[str]:
        """Lines of Resources/requirements.txt not satisfied in Slicer's Python (Slicer's own packages excluded)."""
        missing = []
        for line in resourceFile("requirements.txt").read_text().splitlines():
            text = line.split("#", 1)[0].strip()
            if not text:
                continue
            name, accepts = requirementCheck(text)
            if name.lower() in (shipped.lower() for shipped in SLICER_SHIPPED):
                continue
            try:
                installed = importlib.metadata.version(name)
            except importlib.metadata.PackageNotFoundError:
                installed = None
            if installed is None or not accepts(installed):
                missing.append(text)
        return missing

    def ensureDependencies(self, confirm: bool = True) -> bool:
        """Install what is missing after one confirmation (none in testing mode); False when the user declines.

        torch comes from the PyTorch extension, which picks the CUDA build that matches the driver; the other
        packages of requirements.txt go through ``pip_ensure`` (Slicer >= 5.11/5.12) or ``pip_install`` before.
        """
        needTorch = importlib.util.find_spec("torch") is None
        missing = self.missingRequirements()
        if not needTorch and not missing:
            return True
        listing = (["torch (through the PyTorch extension)"] if needTorch else []) + missing
        if confirm and not slicer.app.testingEnabled():
            question = "MedGANSynth needs these Python packages, which will be downloaded and installed now:\n\n"
            if not slicer.util.confirmOkCancelDisplay(question + "\n".join(f"  - {item}" for item in listing)):
                return False
        if needTorch:
            try:
                import PyTorchUtils
            except ImportError:
                raise RuntimeError(
                    "MedGANSynth needs the PyTorch extension: install it from the Extensions Manager.") from None
            if PyTorchUtils.PyTorchUtilsLogic().installTorch(askConfirmation=False) is None:
                return False
        if missing:
            self._pipInstall(missing)
        return True

    @staticmethod
    def _pipInstall(requirements: list[str]) -> None:
        for moduleName in ("slicer.pydeps", "slicer.packaging"):
            try:
                helpers = importlib.import_module(moduleName)
            except ImportError:
                continue
            if hasattr(helpers, "pip_ensure"):
                from packaging.requirements import Requirement

                helpers.pip_ensure([Requirement(r) for r in requirements], skip_packages=list(SLICER_SHIPPED),
                                   requester="MedGANSynth")
                return
        slicer.util.pip_install(" ".join(requirements))


#
# MedGANSynthTest
#


class MedGANSynthTest(ScriptedLoadableModuleTest):
    """The panel's flows on phantom data, through the same Logic calls (no dialogs: testing mode)."""

    def setUp(self) -> None:
        slicer.mrmlScene.Clear()

    def runTest(self) -> None:
        self.setUp()
        self.test_SuvAndMip()
        self.setUp()
        self.test_VirtualPet()
        self.setUp()
        self.test_SampleAndWalk()

    def _phantom(self):
        from MedGANSynthLib.mrml.volume_nodes import node_from_volume
        from MedGANSynthLib.phantoms import WholeBodyConfig, make_wholebody_case

        case = make_wholebody_case(1, "lymphoma", WholeBodyConfig().with_voxel_mm(12))
        return case, node_from_volume(case.ct, name="Phantom CT"), node_from_volume(case.pet, name="Phantom PET")

    def test_SuvAndMip(self) -> None:
        self.delayDisplay("SUV and MIP of a phantom PET")
        import numpy as np

        logic = MedGANSynthLogic()
        self.assertTrue(logic.ensureDependencies())
        _, _, pet = self._phantom()
        nodes = logic.computeSUVAndMIP(pet, spacingMm=6.0, axis="coronal")
        mip = slicer.util.arrayFromVolume(nodes.mip)
        resampled = slicer.util.arrayFromVolume(nodes.resampled)  # axis-aligned phantom: array axis 1 is A-P
        self.assertEqual(mip.shape[1], 1)
        self.assertTrue(np.allclose(mip[:, 0, :], resampled.max(axis=1)))
        browser = logic.computeRotatingMIP(nodes.suv, angles=6)
        self.assertEqual(browser.GetMasterSequenceNode().GetNumberOfDataNodes(), 6)
        self.delayDisplay("Test passed")

    def test_VirtualPet(self) -> None:
        logic = MedGANSynthLogic()
        if not logic.modelCatalogue("virtual_pet"):
            logging.warning("MedGANSynthTest: no bundled virtual-PET model; virtual PET test skipped")
            return
        self.delayDisplay("Virtual PET of a phantom CT")
        _, ct, _ = self._phantom()
        from MedGANSynthLib.mrml.display import slice_composite_nodes

        result = logic.predictVirtualPET(ct, modelId=logic.modelCatalogue("virtual_pet")[0].id, device="cpu")
        for composite in slice_composite_nodes(slicer.mrmlScene):
            self.assertEqual(composite.GetForegroundVolumeID(), result.virtualPET.GetID())
            self.assertEqual(composite.GetBackgroundVolumeID(), ct.GetID())
        self.assertEqual(result.lesionTable.GetNumberOfRows(), len(result.lesions))
        self.delayDisplay("Test passed")

    def test_SampleAndWalk(self) -> None:
        logic = MedGANSynthLogic()
        models = logic.modelCatalogue("gan")
        if not models:
            logging.warning("MedGANSynthTest: no bundled GAN; sampling test skipped")
            return
        self.delayDisplay("Sample a GAN and walk its latent space")
        model = models[0]
        className = model.classes[0] if len(model.classes) > 1 else None
        samples = logic.sampleGAN(model.id, className=className, count=3, seed=5, device="cpu")
        self.assertEqual(samples.GetMasterSequenceNode().GetNumberOfDataNodes(), 3)
        walk = logic.latentWalk(model.id, steps=4, seedA=0, seedB=1, classA=className, classB=className, device="cpu")
        self.assertEqual(walk.GetMasterSequenceNode().GetNumberOfDataNodes(), 4)
        self.delayDisplay("Test passed")
