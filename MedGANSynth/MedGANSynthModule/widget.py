"""The panel: each button calls one method of :class:`MedGANSynthLogic`; a background job turns its button into
Cancel while a timer drives the progress bar."""

from __future__ import annotations

import logging

import qt
import slicer
import vtk
from slicer.i18n import tr as _
from slicer.ScriptedLoadableModule import ScriptedLoadableModuleWidget
from slicer.util import VTKObservationMixin

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.mrml.model_choices import gan_classes
from MedGANSynthLib.mrml.output_nodes import keep_outputs

from .logic import MedGANSynthLogic
from .panel_words import inPanelWords, pathOrNone
from .resources import resourceFile


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
