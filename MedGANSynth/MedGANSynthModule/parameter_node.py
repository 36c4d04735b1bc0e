"""The panel's state: one parameter pack per panel section, the parameter node that groups them, and the binding
of a path field to a text parameter."""

from __future__ import annotations

from typing import Annotated

import ctk
from slicer import vtkMRMLScalarVolumeNode, vtkMRMLSegmentationNode, vtkMRMLTableNode
from slicer.parameterNodeWrapper import (
    Choice,
    GuiConnector,
    WithinRange,
    parameterNodeGuiConnector,
    parameterNodeWrapper,
    parameterPack,
    unannotatedType,
)

from MedGANSynthLib.mrml.parameter_names import grouped_parameter_names
from MedGANSynthLib.virtual_pet.lesions import PAPER_THRESHOLD_SUV
from MedGANSynthLib.virtual_pet.outside_body import DEFAULT_OUTSIDE_BODY, OUTSIDE_BODY_CHOICES

from .resources import bundledModelIds

LESION_CLASSES = ("normal", "head_neck", "oesophagus", "lung", "lymphoma")  # RadioGAN classes (Amyar et al.)
DEMENTIA_STAGES = ("NC", "MCI", "AD")  # brain-PET DCGAN stages (Islam & Zhang)


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
