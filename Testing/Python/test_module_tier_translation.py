"""Every text the panel shows goes through Slicer's translation: the module is loaded, on Slicer's own Python
layer (5.10.0 and main), under a Qt translator that marks each string it is asked to translate.

Slicer translates a scripted module's Python strings with ``slicer.i18n.tr`` (``_``), which asks
``slicer.app.translate`` and so the translators installed in the Qt application, and the .ui file's strings
through Qt's own ``QCoreApplication.translate``. A real ``QTranslator`` installed before the module loads sees
both; a shown text without its marks was never offered for translation.
"""

from __future__ import annotations

import pytest
from slicer_module_support import (  # noqa: F401 -- fixtures
    SLICER_VERSIONS,
    QtCore,
    QtWidgets,
    SlicerEnvironment,
    panel,
    qapplication,
    scene,
    slot_errors,
)

pytestmark = [pytest.mark.slicer_module, pytest.mark.mrml]
OPEN, CLOSE = "\u27e6", "\u27e7"
TEXT_PROPERTIES = ("text", "title", "toolTip", "placeholderText", "suffix", "prefix", "specialValueText",
                   "statusTip", "whatsThis")


class MarkingTranslator(QtCore.QTranslator):
    """Qt asks each installed translator for every string; this one answers with the string between marks."""

    def translate(self, context, sourceText, disambiguation=None, n=-1):  # noqa: N802,N803 -- Qt's names
        return f"{OPEN}{sourceText}{CLOSE}" if sourceText else sourceText

    def isEmpty(self):  # noqa: N802 -- Qt installs only translators that hold something
        return False


def marked(text: str) -> bool:
    return text.startswith(OPEN) and text.endswith(CLOSE)


@pytest.fixture(scope="module", params=SLICER_VERSIONS)
def slicer_env(request, tmp_path_factory):
    """The module loaded with the marking translator installed first (as Slicer installs its .qm files first)."""
    app = qapplication()  # held here: PyQt5 deletes an application nothing refers to, and its translators
    translator = MarkingTranslator()
    assert app.installTranslator(translator)
    env = SlicerEnvironment(request.param, tmp_path_factory.mktemp(f"slicer-{request.param}"))
    yield env
    env.close()
    app.removeTranslator(translator)


def test_module_title_help_and_acknowledgement_are_translated(slicer_env):
    parent = slicer_env.moduleParent
    for text in (parent.title, parent.helpText.strip(), parent.acknowledgementText.strip(), *parent.categories):
        assert marked(text), text[:80]


def test_every_text_the_panel_shows_is_translated(panel):
    shown = {}
    for name, widget in vars(panel.ui).items():
        if not hasattr(widget, "metaObject"):
            continue
        for prop in TEXT_PROPERTIES:
            if prop == "text" and not isinstance(widget, (QtWidgets.QLabel, QtWidgets.QAbstractButton)):
                continue  # a spin box's or progress bar's text is its value
            meta = widget.metaObject()
            index = meta.indexOfProperty(prop)
            value = meta.property(index).read(widget) if index >= 0 else None
            if isinstance(value, str) and value.strip():
                shown[f"{name}.{prop}"] = value
    assert len(shown) > 40  # labels, buttons, tooltips of four sections
    assert [f"{key}: {value}" for key, value in shown.items() if not marked(value)] == []


def test_texts_set_while_the_panel_works_are_translated(panel, scene, slicer_env):
    """Field names in error messages, and the Cancel text a running job gives its button."""
    from MedGANSynthLib.errors import InputError

    parameters = panel._parameterNode
    import vtk

    image = vtk.vtkImageData()
    image.SetDimensions(4, 4, 4)
    image.AllocateScalars(vtk.VTK_FLOAT, 1)
    parameters.suv.petVolume = scene.AddNewNodeByClass("vtkMRMLScalarVolumeNode", "PET without headers")
    parameters.suv.petVolume.SetAndObserveImageData(image)
    parameters.suv.suvFromDicomTags = False
    with pytest.raises(InputError) as raised:
        panel.onPetApply()
    assert f"'{OPEN}Injection time{CLOSE}'" in str(raised.value) and f"'{OPEN}Scan time{CLOSE}'" in str(raised.value)

    class Job:  # the attributes the panel reads from the Logic's LogicJob
        status, name, fraction, chart, cancelled, result = "Virtual PET: starting", "Virtual PET", 0.0, None, False, None

    panel._startJob(panel.ui.vpetApplyButton, Job())
    assert panel.ui.vpetApplyButton.text == f"{OPEN}Cancel{CLOSE}"
    panel._endJob("done")
    assert marked(panel.ui.vpetApplyButton.text)  # back to its translated .ui text
