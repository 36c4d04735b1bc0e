"""MedGANSynth: GAN image synthesis for PET/CT in 3D Slicer (module, parameter node, panel, logic, self-test).

The panel holds no science: each button calls one method of :class:`MedGANSynthLogic`, which is the library's
``MedGANSynthLib.mrml.logic.MedGANSynthLogic`` — the same methods Slicer's Python console and batch scripts use.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import pathlib
import re
import sys
from typing import Annotated

import ctk
import qt
import slicer
import vtk
from slicer import vtkMRMLScalarVolumeNode, vtkMRMLSegmentationNode, vtkMRMLTableNode
from slicer.i18n import tr as _
from slicer.i18n import translate
from slicer.parameterNodeWrapper import (
    Choice,
    GuiConnector,
    WithinRange,
    parameterNodeGuiConnector,
    parameterNodeWrapper,
    parameterPack,
    unannotatedType,
)
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

from MedGANSynthLib.citations import citations_html  # noqa: E402
from MedGANSynthLib.errors import InputError  # noqa: E402
from MedGANSynthLib.mrml.logic import MedGANSynthLogic as LibraryLogic  # noqa: E402
from MedGANSynthLib.mrml.model_choices import catalogue_model_ids, gan_classes  # noqa: E402
from MedGANSynthLib.mrml.output_nodes import keep_outputs  # noqa: E402
from MedGANSynthLib.mrml.parameter_names import (  # noqa: E402
    fill_missing_parameters,
    grouped_parameter_names,
    move_flat_parameters,
    offered_choices,
    replace_values_not_offered,
)
from MedGANSynthLib.mrml.requirements import SLICER_SHIPPED, missing_requirements  # noqa: E402
from MedGANSynthLib.mrml.sample_data import PHANTOM_SAMPLES  # noqa: E402
from MedGANSynthLib.virtual_pet.lesions import PAPER_THRESHOLD_SUV  # noqa: E402
from MedGANSynthLib.virtual_pet.outside_body import DEFAULT_OUTSIDE_BODY, OUTSIDE_BODY_CHOICES  # noqa: E402

LESION_CLASSES = ("normal", "head_neck", "oesophagus", "lung", "lymphoma")  # RadioGAN classes (Amyar et al.)
DEMENTIA_STAGES = ("NC", "MCI", "AD")  # brain-PET DCGAN stages (Islam & Zhang)


def resourceFile(relativePath: str) -> pathlib.Path:
    """A resource beside the installed module, else in the source tree's top-level Resources/."""
    installed = MODULE_DIR / "Resources" / relativePath
    return installed if installed.exists() else MODULE_DIR.parent / "Resources" / relativePath


def bundledModelIds(task: str) -> list[str]:
    """Catalogue ids for the model combo boxes ("" when none is bundled); read without importing torch."""
    return catalogue_model_ids(resourceFile("Models/catalogue.json"), task)


#
# MedGANSynth
#


class MedGANSynth(ScriptedLoadableModule):
    def __init__(self, parent):
        ScriptedLoadableModule.__init__(self, parent)
        self.parent.title = _("MedGANSynth")
        self.parent.categories = [translate("qSlicerAbstractCoreModule", "Nuclear Medicine")]
        self.parent.dependencies = []
        self.parent.contributors = ["MedGANSynth developers (MedGANSynth project)"]
        self.parent.helpText = _("""
PET/CT image synthesis with generative adversarial networks: turn a PET into SUV and maximum-intensity projections,
predict a <b>virtual PET</b> from a CT with its lesion candidates, sample GANs and play latent walks, train GANs.
Every button is one call of <code>MedGANSynthLogic</code>, usable from the Python console and batch scripts.
See the <a href="https://github.com/MedGANSynth/SlicerMedGANSynth#readme">documentation</a> and the
<a href="https://github.com/MedGANSynth/SlicerMedGANSynth/blob/main/Testing/Scripts">batch examples</a>.
The whole-body PET/CT and brain PET phantoms are in the Sample Data module (made on this computer, no download).
If you use MedGANSynth, please cite the papers whose methods it implements: {references}
Bundled models are trained on software phantoms, not on patients: research use only.
""").format(references=citations_html())
        # The base class looks for the icon beside this file (installed layout); the source tree keeps it in
        # the top-level Resources/ with the library's other resources.
        icon = resourceFile("Icons/MedGANSynth.png")
        if icon.is_file():
            self.parent.icon = qt.QIcon(str(icon))
        slicer.app.connect("startupCompleted()", registerSampleData)  # once every module, SampleData too, is there
        self.parent.acknowledgementText = _("""
Built on 3D Slicer and PyTorch. Methods follow RadioGAN (class-conditional MIP PET synthesis), the brain-PET DCGAN
study, and the CT-to-virtual-PET work combining an FCN with a pix2pix GAN (the references are in the help).
""")


def registerSampleData() -> None:
    """The phantoms in Slicer's Sample Data module, made on this computer when their button is pressed.

    Sample Data's button calls a source's ``customDownloader``; its ``downloadSample(name)`` would fetch the URI
    instead, so scripts call the loaders of MedGANSynthLib.mrml.sample_data. The URI only names the generator.
    """
    import SampleData

    registered = {source.sampleName for source in SampleData.SampleDataLogic.sampleDataSourcesByCategory("MedGANSynth")}
    for name, load in PHANTOM_SAMPLES.items():
        if name not in registered:  # a reloaded module: Slicer compares sources by their text, downloader included
            SampleData.SampleDataLogic.registerCustomSampleDataSource(
                category="MedGANSynth", sampleName=name, uris=f"medgansynth-phantom:{load.__name__}",
                fileNames=f"{load.__name__}.nrrd", thumbnailFileName=str(resourceFile("Icons/MedGANSynth.png")),
                customDownloader=makePhantom)


def makePhantom(source) -> list:
    """Generate a registered phantom into the scene (seconds for the whole-body case), with a wait cursor; an
    error is shown in a message box."""
    with slicer.util.tryWithErrorDisplay(_("Failed to make the {name}.").format(name=source.sampleName),
                                         waitCursor=True):
        return PHANTOM_SAMPLES[source.sampleName]()


#
# MedGANSynthParameterNode
#


class ModelChoice(Choice):
    """The installed catalogue's model ids, offered by a combo box (Slicer's binding reads ``choices``).

    A scene saved with another catalogue can hold an id this one lacks. Any text passes validation: a section is
    validated whole each time it is read, and Slicer 5.10 keeps every parameter node wrapper it ever bound reading
    the node on each change, so a strict choice would raise in all of them while such a scene is being imported.
    :func:`replace_values_not_offered` puts the default in its place before the panel binds the node.
    """

    def validate(self, value) -> None:
        if not isinstance(value, str):
            raise ValueError(f"A model id is text; got {value!r}.")


@parameterPack
class SuvParameters:
    petVolume: vtkMRMLScalarVolumeNode
    suvFromDicomTags: bool = True
    weightKg: Annotated[float, WithinRange(0.0, 400.0)] = 70.0
    doseMBq: Annotated[float, WithinRange(0.0, 5000.0)] = 370.0
    injectionTime: str = ""
    scanTime: str = ""
    resample: bool = False
    spacingMm: Annotated[float, WithinRange(0.5, 20.0)] = 2.0
    interpolation: Annotated[str, Choice(["auto", "nearest", "linear", "bspline"])] = "auto"


@parameterPack
class MipParameters:
    mipAxis: Annotated[str, Choice(["coronal", "sagittal", "axial"])] = "coronal"
    rotatingMIP: bool = False
    rotatingAngles: Annotated[int, WithinRange(1, 720)] = 36


@parameterPack
class VirtualPetParameters:
    ctVolume: vtkMRMLScalarVolumeNode
    virtualPetModel: Annotated[str, ModelChoice(bundledModelIds("virtual_pet"))] = bundledModelIds("virtual_pet")[0]
    virtualPetModelFile: str = ""
    device: Annotated[str, Choice(["auto", "cpu", "cuda", "mps"])] = "auto"  # also used by synthesis and training
    threshold: Annotated[float, WithinRange(0.5, 30.0)] = PAPER_THRESHOLD_SUV
    uncertainty: bool = False
    outsideBody: Annotated[str, Choice(list(OUTSIDE_BODY_CHOICES))] = DEFAULT_OUTSIDE_BODY


@parameterPack
class SynthesisParameters:
    ganModel: Annotated[str, ModelChoice(bundledModelIds("gan"))] = bundledModelIds("gan")[0]
    ganModelFile: str = ""
    className: Annotated[str, Choice(["", *LESION_CLASSES, *DEMENTIA_STAGES])] = ""
    sampleCount: Annotated[int, WithinRange(1, 256)] = 8
    seed: Annotated[int, WithinRange(0, 2147483647)] = 0
    walkSteps: Annotated[int, WithinRange(2, 256)] = 10
    seedA: Annotated[int, WithinRange(0, 2147483647)] = 0
    seedB: Annotated[int, WithinRange(0, 2147483647)] = 1
    classA: Annotated[str, Choice(["", *LESION_CLASSES, *DEMENTIA_STAGES])] = ""
    classB: Annotated[str, Choice(["", *LESION_CLASSES, *DEMENTIA_STAGES])] = ""


@parameterPack
class TrainingParameters:
    dataFolder: str = ""
    architecture: Annotated[str, Choice(["radiogan", "brain_dcgan", "ct_gan"])] = "radiogan"
    epochs: Annotated[int, WithinRange(1, 100000)] = 300
    batchSize: Annotated[int, WithinRange(1, 4096)] = 16
    learningRate: Annotated[float, WithinRange(0.0, 1.0)] = 0.0
    outputFolder: str = ""
    resume: bool = False
    startFrom: Annotated[str, ModelChoice(["", *bundledModelIds("gan")])] = ""


@parameterPack
class OutputNodes:
    """What the last Apply of each section made (names as in the Logic's PETNodes and VirtualPETNodes): the next
    Apply puts its results into these nodes instead of adding new ones."""

    suv: vtkMRMLScalarVolumeNode
    resampled: vtkMRMLScalarVolumeNode
    mip: vtkMRMLScalarVolumeNode
    virtualPET: vtkMRMLScalarVolumeNode  # noqa: N815 -- the Logic's attribute names
    fcn: vtkMRMLScalarVolumeNode
    gan: vtkMRMLScalarVolumeNode
    uncertainty: vtkMRMLScalarVolumeNode
    lesionSegmentation: vtkMRMLSegmentationNode  # noqa: N815
    lesionTable: vtkMRMLTableNode  # noqa: N815


@parameterNodeWrapper
class MedGANSynthParameterNode:
    """The panel's state, saved with the scene: one pack per panel section, stored as "section.name" parameters.

    Scenes saved before the grouping hold the same names without the section ("weightKg", not "suv.weightKg");
    :meth:`MedGANSynthLogic.getParameterNode` moves them (each input name is unique across the input sections;
    ``outputs`` is newer than the flat names and is not moved).
    """

    suv: SuvParameters
    mip: MipParameters
    virtualPet: VirtualPetParameters
    synthesis: SynthesisParameters
    training: TrainingParameters
    outputs: OutputNodes


@parameterNodeGuiConnector
class PathLineEditToTextConnector(GuiConnector):
    """A ctkPathLineEdit bound to a ``str`` parameter, so an empty field stays empty.

    Slicer's own connector binds ``pathlib.Path``, and ``Path("")`` is ``Path(".")``: the field would show "." when
    the panel opens and snap back to "." when cleared.
    """

    @staticmethod
    def canRepresent(widget, datatype) -> bool:
        return type(widget) is ctk.ctkPathLineEdit and unannotatedType(datatype) is str

    @staticmethod
    def create(widget, datatype):
        return PathLineEditToTextConnector(widget) if PathLineEditToTextConnector.canRepresent(widget, datatype) else None

    def __init__(self, widget) -> None:
        super().__init__()
        self._widget = widget

    def _connect(self) -> None:
        self._widget.currentPathChanged.connect(self.changed)

    def _disconnect(self) -> None:
        self._widget.currentPathChanged.disconnect(self.changed)

    def widget(self):
        return self._widget

    def read(self) -> str:
        return self._widget.currentPath

    def write(self, value: str) -> None:
        if value != self._widget.currentPath:
            self._widget.currentPath = value


def parameterNames() -> list[str]:
    """Every parameter as Slicer's binding names it: "section.name" (e.g. "suv.weightKg")."""
    return grouped_parameter_names(MedGANSynthParameterNode)


# The library's messages name command-line flags (or Logic arguments); the panel names its field to change instead.
PANEL_LABELS = {  # literal _() so Slicer's string extraction finds each label
    "--weight-kg": _("Patient weight"), "--dose-mbq": _("Injected dose"), "--injection-time": _("Injection time"),
    "--scan-time": _("Scan time"), "--spacing": _("Voxel size"), "--threshold": _("Lesion threshold"),
    "--model": _("Model"), "--device": _("Device"), "-o/--output": _("Output folder"), "--output": _("Output folder"),
    "--data": _("Dataset folder"), "--epochs": _("Epochs"), "--batch-size": _("Batch size"),
    "--lr": _("Learning rate"), "--init-weights": _("Start from"), "--count": _("Images"), "--seed": _("Seed"),
    # ... and the Logic's keyword arguments, which its messages name for Python users
    "weightKg": _("Patient weight"), "doseMBq": _("Injected dose"), "injectionTime": _("Injection time"),
    "scanTime": _("Scan time"),
}
_FLAG = re.compile(r"(?<![\w-])(" + "|".join(re.escape(flag) for flag in sorted(PANEL_LABELS, key=len, reverse=True))
                   + r")(?![\w-])")


def inPanelWords(message: str) -> str:
    """``message`` with each command-line flag replaced by the panel field it stands for, in quotes."""
    return _FLAG.sub(lambda match: f"'{PANEL_LABELS[match.group(1)]}'", message)


def pathOrNone(path) -> str | None:
    """A path parameter as text, None when empty ("." is what scenes saved by earlier versions hold for empty)."""
    text = str(path).strip() if path is not None else ""
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
        self._onJobResult = None
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
        self.addObserver(slicer.mrmlScene, slicer.mrmlScene.StartImportEvent, self.onSceneStartClose)
        self.addObserver(slicer.mrmlScene, slicer.mrmlScene.EndImportEvent, self.onSceneEndImport)

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
            self.removeObserver(self._parameterNode, vtk.vtkCommand.ModifiedEvent, self._onParameterNodeModified)

    def onSceneStartClose(self, caller, event) -> None:
        self.setParameterNode(None)

    def onSceneEndClose(self, caller, event) -> None:
        if self.parent.isEntered:
            self.initializeParameterNode()

    def onSceneEndImport(self, caller, event) -> None:
        """A scene added to this one: the panel lets go of its parameter node first (onSceneStartClose), as a
        section is validated whole when read and an older scene can hold values that are checked and brought
        to the current names only by getParameterNode; then shows the imported parameters."""
        if self.parent.isEntered:
            self.initializeParameterNode()

    def initializeParameterNode(self) -> None:
        self.setParameterNode(self.logic.getParameterNode())
        if not self._parameterNode.suv.petVolume:
            self._parameterNode.suv.petVolume = self._firstVolume("PT")
        if not self._parameterNode.virtualPet.ctVolume:
            self._parameterNode.virtualPet.ctVolume = self._firstVolume("CT")

    @staticmethod
    def _firstVolume(modality: str):
        """A loaded volume of that modality, to preselect the obvious input.

        Slicer's DICOM module keeps the modality on the volume's subject hierarchy item (DICOM.Modality);
        volumes made by MedGANSynth carry it as a node attribute.
        """
        shNode = slicer.mrmlScene.GetSubjectHierarchyNode()
        attribute = slicer.vtkMRMLSubjectHierarchyConstants.GetDICOMSeriesModalityAttributeName()
        for node in slicer.util.getNodesByClass("vtkMRMLScalarVolumeNode"):
            item = shNode.GetItemByDataNode(node) if shNode else 0
            seriesModality = shNode.GetItemAttribute(item, attribute) if item else ""
            if modality in (seriesModality, node.GetAttribute(attribute), node.GetAttribute("MedGANSynth.Modality")):
                return node
        return None

    def setParameterNode(self, inputParameterNode) -> None:
        if self._parameterNode:
            self._parameterNode.disconnectGui(self._parameterNodeGuiTag)
            # exit() already removed the observer when the panel was left (re-entry comes through here)
            if self.hasObserver(self._parameterNode, vtk.vtkCommand.ModifiedEvent, self._onParameterNodeModified):
                self.removeObserver(self._parameterNode, vtk.vtkCommand.ModifiedEvent, self._onParameterNodeModified)
        self._parameterNode = inputParameterNode
        if self._parameterNode:
            self._parameterNodeGuiTag = self._parameterNode.connectGui(self.ui)
            self.addObserver(self._parameterNode, vtk.vtkCommand.ModifiedEvent, self._onParameterNodeModified)
            self._onParameterNodeModified()

    def _onParameterNodeModified(self, caller=None, event=None) -> None:
        self._updateClassChoices()
        self._updateButtons()

    def _updateClassChoices(self) -> None:
        """Offer only the classes (or dementia stages) of the chosen GAN, from its model card; a class the new
        model lacks is cleared. Items are hidden, not removed: Slicer's combo-box binding maps indices to choices."""
        p = self._parameterNode
        if not p:
            return
        offered = {""} | set(gan_classes(resourceFile("Models/catalogue.json"), p.synthesis.ganModel,
                                         pathOrNone(p.synthesis.ganModelFile)))
        for name, combo in (("className", self.ui.classComboBox), ("classA", self.ui.classAComboBox),
                            ("classB", self.ui.classBComboBox)):
            items = combo.model()
            for index in range(combo.count):
                hidden = combo.itemText(index) not in offered
                combo.view().setRowHidden(index, hidden)
                items.item(index).setEnabled(not hidden)
            if getattr(p.synthesis, name) not in offered:
                setattr(p.synthesis, name, "")

    def _updateButtons(self, caller=None, event=None) -> None:
        """Enable each action when its inputs are there; a running job keeps only its Cancel button enabled."""
        p = self._parameterNode
        running = self._job is not None
        enabled = [
            (self.ui.petApplyButton, bool(p and p.suv.petVolume)),
            (self.ui.vpetApplyButton, bool(p and p.virtualPet.ctVolume)),
            (self.ui.sampleButton, bool(p and (p.synthesis.ganModel or pathOrNone(p.synthesis.ganModelFile)))),
            (self.ui.walkButton, bool(p and (p.synthesis.ganModel or pathOrNone(p.synthesis.ganModelFile)))),
            (self.ui.trainButton, bool(p and pathOrNone(p.training.outputFolder) and (pathOrNone(p.training.dataFolder) or p.training.resume))),
        ]
        for button, ready in enabled:
            button.enabled = (button is self._jobButton) if running else ready

    # --- actions: one Logic call each --------------------------------------------------------------------------

    def _run(self, message: str, action) -> None:
        with slicer.util.tryWithErrorDisplay(message, waitCursor=True):
            try:
                if self.logic.ensureDependencies():
                    action()
            except InputError as error:  # one line, in the panel's words
                raise InputError(inPanelWords(str(error))) from None

    def onPetApply(self) -> None:
        suv, mip = self._parameterNode.suv, self._parameterNode.mip
        manual = not suv.suvFromDicomTags
        self._run(_("Failed to compute the SUV and MIP."), lambda: self._keepPetOutputs(self.logic.computeSUVAndMIP(
            suv.petVolume,
            weightKg=suv.weightKg if manual else None,
            doseMBq=suv.doseMBq if manual else None,
            injectionTime=(suv.injectionTime or None) if manual else None,
            scanTime=(suv.scanTime or None) if manual else None,
            spacingMm=suv.spacingMm if suv.resample else None,
            interpolation=suv.interpolation,
            axis=mip.mipAxis,
            rotatingAngles=mip.rotatingAngles if mip.rotatingMIP else None,
        )))

    def _keepPetOutputs(self, nodes) -> None:
        """The new SUV, resampled and MIP volumes go into the nodes of the previous Apply."""
        keep_outputs(self._parameterNode.outputs, nodes, ("suv", "resampled", "mip"))
        self._showSuvWarnings(nodes.warnings)

    def _showSuvWarnings(self, warnings: list[str]) -> None:
        """Plausible but unusual header values (dose, uptake time, weight, SUVmax): the SUV is computed, and the
        panel says so in its status line and once in a message (only logged in testing mode)."""
        if not warnings:
            return
        self.ui.statusLabel.text = _("SUV computed with {count} warning(s): {first}").format(
            count=len(warnings), first=warnings[0])
        slicer.util.warningDisplay("\n".join(warnings), windowTitle=_("MedGANSynth: check the PET header"))

    def onVirtualPetApply(self) -> None:
        if self._jobButton is self.ui.vpetApplyButton:
            self.logic.cancelJob()
            return
        vpet = self._parameterNode.virtualPet
        model = pathOrNone(vpet.virtualPetModelFile) or vpet.virtualPetModel
        self._run(_("Failed to start the virtual PET."), lambda: self._startJob(
            self.ui.vpetApplyButton, self.logic.predictVirtualPET(
                vpet.ctVolume, modelId=model, device=vpet.device, threshold=vpet.threshold,
                uncertainty=vpet.uncertainty, outsideBody=vpet.outsideBody, wait=False),
            self.keepVirtualPetOutputs))

    def keepVirtualPetOutputs(self, result) -> None:
        """A finished virtual PET (:class:`VirtualPETNodes`) goes into the nodes of the previous one."""
        keep_outputs(self._parameterNode.outputs, result,
                     ("virtualPET", "fcn", "gan", "uncertainty", "lesionSegmentation", "lesionTable"))

    def onSample(self) -> None:
        p = self._parameterNode
        gan = p.synthesis
        self._run(_("Failed to sample the GAN."), lambda: self.logic.sampleGAN(
            pathOrNone(gan.ganModelFile) or gan.ganModel, className=gan.className or None, count=gan.sampleCount,
            seed=gan.seed, device=p.virtualPet.device))

    def onWalk(self) -> None:
        p = self._parameterNode
        gan = p.synthesis
        self._run(_("Failed to compute the latent walk."), lambda: self.logic.latentWalk(
            pathOrNone(gan.ganModelFile) or gan.ganModel, steps=gan.walkSteps, seedA=gan.seedA, seedB=gan.seedB,
            classA=gan.classA or None, classB=gan.classB or None, device=p.virtualPet.device))

    def onTrain(self) -> None:
        if self._jobButton is self.ui.trainButton:
            self.logic.cancelJob()
            return
        p = self._parameterNode
        train = p.training
        self._run(_("Failed to start training."), lambda: self._startJob(self.ui.trainButton, self.logic.trainModel(
            train.architecture, pathOrNone(train.dataFolder), pathOrNone(train.outputFolder), epochs=train.epochs,
            batchSize=train.batchSize, learningRate=train.learningRate or None, resume=train.resume, wait=False,
            device=p.virtualPet.device, initWeights=train.startFrom or None)))

    # --- background jobs: Apply becomes Cancel, a timer drives the progress bar ---------------------------------

    def _startJob(self, button, job, onResult=None) -> None:
        """Show ``job`` running on ``button``; ``onResult`` gets the job's result when it ends well."""
        self._job, self._jobButton, self._jobButtonText = job, button, button.text
        self._onJobResult = onResult
        self._chartShown = False
        button.text = _("Cancel")
        self.ui.progressBar.visible = True
        self.ui.progressBar.value = 0
        self.ui.statusLabel.text = job.status
        self._updateButtons()
        self._timer.start()

    def onJobTimer(self) -> None:
        job = self._job
        if job is None:  # a tick queued before the job ended (e.g. while its error dialog was open)
            return
        try:
            finished = self.logic.processJob(job)  # raises the job's one-line error when it failed
        except Exception as error:
            # The panel is reset before the dialog opens: the dialog's event loop keeps delivering ticks.
            # (slicer.util.tryWithErrorDisplay would re-raise out of this slot and leave the job half-ended.)
            reason = inPanelWords(str(error))
            self._endJob(_("{job} failed: {error}").format(job=job.name, error=reason))
            logging.exception(f"{job.name} failed")
            slicer.util.errorDisplay(_("{job} failed.").format(job=job.name) + f"\n\n{reason}")
            return
        self.ui.progressBar.value = int(100 * job.fraction)
        self.ui.statusLabel.text = job.status
        if job.chart is not None and not self._chartShown:
            slicer.modules.plots.logic().ShowChartInLayout(job.chart)  # the live loss plot
            self._chartShown = True
        if finished:
            if self._onJobResult is not None and not job.cancelled and job.result is not None:
                self._onJobResult(job.result)
            self._endJob(self._statusWithWarnings(job))

    def _statusWithWarnings(self, job) -> str:
        """A finished virtual PET keeps its warnings (a CT unlike the model's training CTs) in the status line."""
        warnings = self.logic.lastWarnings if job.name == "Virtual PET" and not job.cancelled else []
        if not warnings:
            return job.status
        return _("{status}, with {count} warning(s): {first}").format(status=job.status, count=len(warnings),
                                                                     first=warnings[0])

    def _endJob(self, status: str) -> None:
        self._timer.stop()
        if self._jobButton is None:
            return
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

    def _logicWithDependencies(self):
        """Each test ensures its own packages: ctest runs the test_ methods one at a time, in name order."""
        logic = MedGANSynthLogic()
        if not logic.ensureDependencies():
            self.skipTest("MedGANSynth's Python packages are not installed (the installation was declined)")
        return logic

    def _phantom(self):
        from MedGANSynthLib.mrml.volume_nodes import node_from_volume
        from MedGANSynthLib.phantoms import WholeBodyConfig, make_wholebody_case

        case = make_wholebody_case(1, "lymphoma", WholeBodyConfig().with_voxel_mm(12), version=1)  # bundled models'
        return case, node_from_volume(case.ct, name="Phantom CT"), node_from_volume(case.pet, name="Phantom PET")

    def test_SuvAndMip(self) -> None:
        self.delayDisplay("SUV and MIP of a phantom PET")
        import numpy as np

        logic = self._logicWithDependencies()
        pet = self._phantom()[2]
        nodes = logic.computeSUVAndMIP(pet, spacingMm=6.0, axis="coronal")
        mip = slicer.util.arrayFromVolume(nodes.mip)
        resampled = slicer.util.arrayFromVolume(nodes.resampled)  # axis-aligned phantom: array axis 1 is A-P
        self.assertEqual(mip.shape[1], 1)
        self.assertTrue(np.allclose(mip[:, 0, :], resampled.max(axis=1)))
        browser = logic.computeRotatingMIP(nodes.suv, angles=6)
        self.assertEqual(browser.GetMasterSequenceNode().GetNumberOfDataNodes(), 6)
        self.delayDisplay("Test passed")

    def test_VirtualPet(self) -> None:
        logic = self._logicWithDependencies()
        if not logic.modelCatalogue("virtual_pet"):
            self.skipTest("no bundled virtual-PET model")
        self.delayDisplay("Virtual PET of a phantom CT")
        ct = self._phantom()[1]
        from MedGANSynthLib.mrml.display import slice_composite_nodes

        result = logic.predictVirtualPET(ct, modelId=logic.modelCatalogue("virtual_pet")[0].id, device="cpu")
        for composite in slice_composite_nodes(slicer.mrmlScene):
            self.assertEqual(composite.GetForegroundVolumeID(), result.virtualPET.GetID())
            self.assertEqual(composite.GetBackgroundVolumeID(), ct.GetID())
        self.assertEqual(result.lesionTable.GetNumberOfRows(), len(result.lesions))
        self.delayDisplay("Test passed")

    def test_SampleAndWalk(self) -> None:
        logic = self._logicWithDependencies()
        models = logic.modelCatalogue("gan")
        if not models:
            self.skipTest("no bundled GAN")
        self.delayDisplay("Sample a GAN and walk its latent space")
        model = models[0]
        className = model.classes[0] if len(model.classes) > 1 else None
        samples = logic.sampleGAN(model.id, className=className, count=3, seed=5, device="cpu")
        self.assertEqual(samples.GetMasterSequenceNode().GetNumberOfDataNodes(), 3)
        walk = logic.latentWalk(model.id, steps=4, seedA=0, seedB=1, classA=className, classB=className, device="cpu")
        self.assertEqual(walk.GetMasterSequenceNode().GetNumberOfDataNodes(), 4)
        self.delayDisplay("Test passed")
