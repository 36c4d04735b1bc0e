"""The module panel on Slicer's own Python layer (5.10.0 and main): set-up, binding, scenes, pre-selection.

See slicer_module_support.py for what is real (Slicer's parameterNodeWrapper, util and module base classes,
slicer-core MRML, Qt 5 widgets) and what is a stand-in (CTK/qMRML widgets: state and signals only).
"""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pytest
from slicer_module_support import REPO_ROOT, panel, scene, slicer_env, slot_errors  # noqa: F401 -- fixtures

pytestmark = [pytest.mark.slicer_module, pytest.mark.mrml]
PATH_PARAMETERS = ("virtualPet.virtualPetModelFile", "synthesis.ganModelFile", "training.dataFolder",
                   "training.outputFolder")
OUTPUT_SECTION = "outputs"  # node references to what the last Apply made: in the parameter node, not in a widget


def _bound_widgets(widget) -> dict:
    """Parameter name -> the .ui widget whose SlicerParameterName names it."""
    return {w.property("SlicerParameterName"): w for w in vars(widget.ui).values()
            if hasattr(w, "property") and w.property("SlicerParameterName")}


def _volume(scene, name: str):
    """A plain scalar volume node with a 4x4x4 image, as any loader leaves it (no MedGANSynth attributes)."""
    import vtk

    image = vtk.vtkImageData()
    image.SetDimensions(4, 4, 4)
    image.AllocateScalars(vtk.VTK_FLOAT, 1)
    node = scene.AddNewNodeByClass("vtkMRMLScalarVolumeNode", name)
    node.SetAndObserveImageData(image)
    return node


def _other_value(widget, kind: str, scene, tmp_path):
    """A value for ``widget`` different from the one it shows, worked out from the widget's own limits."""
    if kind == "QCheckBox":
        return not widget.checked
    if kind == "QSpinBox":
        return widget.minimum + 1 if widget.value != widget.minimum + 1 else widget.minimum
    if kind == "QDoubleSpinBox":
        middle = round((widget.minimum + widget.maximum) / 3, widget.decimals)
        return middle if abs(middle - widget.value) > 1e-9 else widget.minimum
    if kind == "QComboBox":
        offered = _offered(widget)
        return offered[(offered.index(widget.currentText) + 1) % len(offered)]
    if kind == "QLineEdit":
        return "10:30:00" if widget.text != "10:30:00" else "11:45:00"
    if kind == "ctkPathLineEdit":
        return str(tmp_path / f"chosen-{widget.name}")
    if kind == "qMRMLNodeComboBox":
        return _volume(scene, f"volume for {widget.name}")
    raise AssertionError(f"no test value for a {kind}")


def _offered(combo) -> list[str]:
    """The items a user can pick (the panel hides the classes the chosen model lacks)."""
    return [combo.itemText(i) for i in range(combo.count) if not combo.view().isRowHidden(i)]


def _set_in_gui(widget, kind: str, value) -> None:
    if kind == "QCheckBox":
        widget.checked = value
    elif kind in ("QSpinBox", "QDoubleSpinBox"):
        widget.value = value
    elif kind == "QComboBox":
        widget.currentIndex = widget.findText(value)
    elif kind == "QLineEdit":
        widget.text = value
    elif kind == "ctkPathLineEdit":
        widget.currentPath = value
    else:
        widget.setCurrentNode(value)


def _shown(widget, kind: str):
    return {"QCheckBox": lambda: widget.checked, "QSpinBox": lambda: widget.value,
            "QDoubleSpinBox": lambda: widget.value, "QComboBox": lambda: widget.currentText,
            "QLineEdit": lambda: widget.text, "ctkPathLineEdit": lambda: widget.currentPath,
            "qMRMLNodeComboBox": lambda: widget.currentNode()}[kind]()


def test_every_parameter_is_bound_both_ways(panel, scene, slicer_env, tmp_path):
    parameters = panel._parameterNode
    widgets = _bound_widgets(panel)
    assert set(type(parameters).allParameters) == {"suv", "mip", "virtualPet", "synthesis", "training", OUTPUT_SECTION}
    assert set(widgets) == {name for name in slicer_env.module.parameterNames()
                            if not name.startswith(OUTPUT_SECTION + ".")}
    for name, widget in widgets.items():
        kind = type(widget).__name__
        value = _other_value(widget, kind, scene, tmp_path)
        _set_in_gui(widget, kind, value)
        assert parameters.getValue(name) == value, f"GUI -> parameter node: {name}"
        section, field = name.split(".")
        assert parameters.parameterNode.GetParameter(name) != "" or kind == "qMRMLNodeComboBox", name  # saved
        again = _other_value(widget, kind, scene, tmp_path)
        setattr(getattr(parameters, section), field, again)  # through the section, as the panel's code does
        assert _shown(widget, kind) == again, f"parameter node -> GUI: {name}"


def test_the_panel_opens_bound_and_reentry_shows_what_changed_while_away(panel, slicer_env, scene):
    ui, parameters = panel.ui, panel._parameterNode
    assert ui.weightSpinBox.value == parameters.suv.weightKg == 70.0
    assert not ui.petApplyButton.enabled  # no PET in the scene
    pet = _volume(scene, "PET")
    ui.petSelector.setCurrentNode(pet)
    assert parameters.suv.petVolume is pet and ui.petApplyButton.enabled

    slicer_env.exit(panel)
    ui.weightSpinBox.value = 55.0  # the panel is not shown: nothing is bound
    assert parameters.suv.weightKg == 70.0
    parameters.suv.doseMBq = 250.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # VTKObservationMixin warns when an observer is removed twice
        slicer_env.enter(panel)
    assert ui.doseSpinBox.value == 250.0
    assert ui.weightSpinBox.value == 70.0  # the parameter node wins on re-entry
    ui.seedSpinBox.value = 42
    assert parameters.synthesis.seed == 42


def test_path_fields_are_empty_when_the_panel_opens_and_stay_empty_when_cleared(panel, tmp_path):
    widgets = _bound_widgets(panel)
    for name in PATH_PARAMETERS:
        assert widgets[name].currentPath == "", name
        widgets[name].currentPath = str(tmp_path)
        widgets[name].currentPath = ""
        assert widgets[name].currentPath == "" and panel._parameterNode.getValue(name) == "", name
    assert not panel.ui.trainButton.enabled  # no output folder


def test_closing_the_scene_rebinds_the_panel_to_a_fresh_parameter_node(panel, scene):
    panel.ui.weightSpinBox.value = 81.5
    _volume(scene, "PET")
    scene.Clear(0)  # File / Close Scene
    assert panel._parameterNode is not None
    assert panel.ui.weightSpinBox.value == panel._parameterNode.suv.weightKg == 70.0
    panel.ui.weightSpinBox.value = 90.0
    assert panel._parameterNode.suv.weightKg == 90.0


def test_a_saved_scene_with_a_model_the_catalogue_lacks_opens_with_the_default(slicer_env, scene, slot_errors,
                                                                                tmp_path, caplog):
    logic = slicer_env.module.MedGANSynthLogic()
    saved = logic.getParameterNode()
    default_model = saved.virtualPet.virtualPetModel
    saved.suv.weightKg = 64.0
    node = saved.parameterNode
    del saved  # no wrapper reads the node while a value the catalogue lacks is in it, as when another Slicer saved it
    node.SetParameter("virtualPet.virtualPetModel", "retired-virtual-pet")
    path = tmp_path / "saved.mrml"
    scene.SetURL(str(path))
    assert scene.Commit()
    scene.Clear(0)
    scene.SetURL(str(path))
    scene.Import()

    widget = slicer_env.new_widget()
    with caplog.at_level(logging.WARNING):
        slicer_env.enter(widget)
    try:
        assert widget.ui.vpetModelComboBox.currentText == widget._parameterNode.virtualPet.virtualPetModel == default_model
        assert widget.ui.weightSpinBox.value == 64.0  # the rest of the saved scene is kept, and bound
        assert any("retired-virtual-pet" in r.getMessage() for r in caplog.records)
        widget.ui.weightSpinBox.value = 66.0
        assert widget._parameterNode.suv.weightKg == 66.0
    finally:
        slicer_env.exit(widget)
        widget.cleanup()
    assert slot_errors == []


def test_pet_and_ct_loaded_through_dicom_are_preselected_from_the_subject_hierarchy(slicer_env, scene):
    """Slicer's DICOM module puts the series modality on the volume's subject hierarchy item, not on the node."""
    constants = slicer_env.slicer.vtkMRMLSubjectHierarchyConstants
    hierarchy = scene.GetSubjectHierarchyNode()
    _volume(scene, "Localizer")  # no modality: must not be picked
    nodes = {}
    for modality in ("CT", "PT"):
        nodes[modality] = _volume(scene, f"2: {modality} series")
        # Slicer's subject hierarchy plugins add an item for each new data node; slicer-core alone does not
        item = hierarchy.GetItemByDataNode(nodes[modality]) or hierarchy.CreateItem(hierarchy.GetSceneItemID(),
                                                                                    nodes[modality])
        hierarchy.SetItemAttribute(item, constants.GetDICOMSeriesModalityAttributeName(), modality)
    assert nodes["PT"].GetAttribute("DICOM.Modality") is None

    widget = slicer_env.new_widget()
    slicer_env.enter(widget)
    try:
        assert widget._parameterNode.suv.petVolume is nodes["PT"]
        assert widget._parameterNode.virtualPet.ctVolume is nodes["CT"]
        assert widget.ui.petSelector.currentNode() is nodes["PT"] and widget.ui.vpetApplyButton.enabled
    finally:
        slicer_env.exit(widget)
        widget.cleanup()


def test_volume_arrays_round_trip_through_slicer_util(slicer_env, scene):
    """slicer.util (Slicer's own) works on slicer-core nodes here: the tier's nodes are real."""
    node = _volume(scene, "array")
    values = np.arange(64, dtype=np.float32).reshape(4, 4, 4)
    slicer_env.slicer.util.updateVolumeFromArray(node, values)
    np.testing.assert_array_equal(slicer_env.slicer.util.arrayFromVolume(node), values)


def test_module_metadata_as_slicer_reads_it(slicer_env):
    """Title and category go through Slicer's translation functions; the icon is found from the source tree."""
    parent = slicer_env.moduleParent
    assert parent.title == "MedGANSynth" and parent.categories == ["Nuclear Medicine"]
    assert "virtual PET" in parent.helpText and "research use only" in parent.helpText
    assert parent.icon is not None and not parent.icon.isNull()
    assert all(" (" in name and name.endswith(")") for name in parent.contributors)


VERIFIED_DOIS = {"10.1186/s40708-020-00104-2"}  # the brain-PET paper (Brain Informatics); no other DOI was checked


def test_help_cites_the_five_source_papers_with_checked_dois_only(slicer_env):
    """Five references in the help panel; a DOI link only where one was checked; what the seed texts of the papers
    state (RadioGAN's title and authors, the primer's journal, volume and year) matches the citation."""
    import re

    help_text = slicer_env.moduleParent.helpText
    references = re.findall(r"<li>(.*?)</li>", help_text)
    assert len(references) == 5
    assert set(re.findall(r'href="https://doi.org/([^"]+)"', help_text)) == VERIFIED_DOIS
    seeds = REPO_ROOT.parent / "shared" / "seeds"
    if not seeds.is_dir():
        pytest.skip(f"the source papers' seed texts {seeds} are absent")
    seed_title = " ".join((seeds / "000_26560c9cbe1f8da3.txt").read_text().split("A. Amyar")[0].split()).lower()
    assert seed_title.startswith("radiogan:")  # the seed text opens with the title, in capitals
    assert any(seed_title in " ".join(re.sub(r"<.*?>", "", ref).split()).lower() for ref in references)
    assert any(all(f" {name.split()[-1]}" in f" {ref}" for name in ("Amyar", "Ruan", "Vera", "Decazes", "Modzelewski"))
               for ref in references)
    primer = (seeds / "003_c3c91177c628fb1d.txt").read_text()
    assert "RadioGraphics" in primer and "Volume 41 Number 3" in primer and "RSNA, 2021" in primer
    assert any("RadioGraphics 41(3) (2021)" in ref for ref in references)


def test_class_choices_follow_the_chosen_models_card(panel, tmp_path):
    """RadioGAN offers its five lesion classes, a brain DCGAN its one stage, the CT GAN none; a class the newly
    chosen model lacks is cleared. Expected classes are read from the catalogue file, not from the module."""
    import json

    catalogue = json.loads((REPO_ROOT / "Resources/Models/catalogue.json").read_text())["models"]
    classes = {m["id"]: m["classes"] for m in catalogue if m["task"] == "gan"}
    ui, parameters = panel.ui, panel._parameterNode
    for model, expected in classes.items():
        ui.ganModelComboBox.currentIndex = ui.ganModelComboBox.findText(model)
        for combo in (ui.classComboBox, ui.classAComboBox, ui.classBComboBox):
            assert sorted(_offered(combo)) == sorted(["", *expected]), model
    radiogan = next(m for m, c in classes.items() if len(c) > 1)
    single = next(m for m, c in classes.items() if len(c) == 1)
    ui.ganModelComboBox.currentIndex = ui.ganModelComboBox.findText(radiogan)
    ui.classComboBox.currentIndex = ui.classComboBox.findText(classes[radiogan][1])
    assert parameters.synthesis.className == classes[radiogan][1]
    ui.ganModelComboBox.currentIndex = ui.ganModelComboBox.findText(single)
    assert parameters.synthesis.className == "" and ui.classComboBox.currentText == ""
    card = tmp_path / "mine.json"  # a user's own model: its card beside the .safetensors names its classes
    card.write_text(json.dumps({"class_names": ["lung", "lymphoma"]}))
    ui.ganModelPathLineEdit.currentPath = str(card.with_suffix(".safetensors"))
    assert sorted(_offered(ui.classComboBox)) == ["", "lung", "lymphoma"]


def test_errors_name_the_panel_fields_not_the_command_line_flags(panel, scene, slicer_env):
    """SUV typed in by hand without the times: the library names --injection-time and --scan-time; the panel's
    error names its own 'Injection time' and 'Scan time' fields instead (and leaves flags it has no field for)."""
    from MedGANSynthLib.errors import InputError

    parameters = panel._parameterNode
    parameters.suv.petVolume = _volume(scene, "PET without headers")
    parameters.suv.suvFromDicomTags = False
    parameters.suv.injectionTime = parameters.suv.scanTime = ""
    with pytest.raises(InputError) as raised:
        panel.onPetApply()
    message = str(raised.value)
    assert "'Injection time'" in message and "'Scan time'" in message
    assert "--injection-time" not in message and "--scan-time" not in message
    assert slicer_env.module.inPanelWords("pass --data-a or -o/--output") == "pass --data-a or 'Output folder'"
