"""The parameter node's sections (Slicer's parameterPack) and what Apply does with the nodes of the previous Apply,
on Slicer's own Python layer (5.10.0 and main): scenes saved before the grouping, re-Apply into the same nodes.

See slicer_module_support.py for what is real and what is a stand-in.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from slicer_module_support import panel, scene, slicer_env, slot_errors  # noqa: F401 -- fixtures

pytestmark = [pytest.mark.slicer_module, pytest.mark.mrml]
FLAT_SCENE = Path(__file__).parent / "fixtures" / "flat_parameters_scene.mrml"
"""Saved by the module as it was before its parameters were grouped (commit d0e02f2), through this tier on Slicer's
layer 5.10.0 in the Slicer-5.10 environment (plain slicer-core: no Segment Editor node, which only a scene with the
Segmentations logic can read back): flat names ("weightKg"), node references under the same names."""


def _saved_flat_parameters() -> tuple[dict[str, str], dict[str, str]]:
    """(name -> stored text, reference role -> node name) of the module's node in the fixture, read from its XML."""
    root = ET.parse(FLAT_SCENE).getroot()
    module = next(e for e in root if e.get("singletonTag") == "MedGANSynth")
    texts = dict(value.split(" ", 1) for key, value in module.attrib.items() if re.fullmatch(r"parameter\d+", key))
    names = {e.get("id"): e.get("name") for e in root}
    references = dict(role.split(":") for role in module.get("references").strip(";").split(";"))
    return texts, {role: names[node_id] for role, node_id in references.items()}


def _inputs(slicer_env) -> list[str]:
    """The grouped names of the panel's inputs (the outputs section is new: a flat scene has none)."""
    return [name for name in slicer_env.module.parameterNames() if not name.startswith("outputs.")]


def _assert_flat_scene_is_shown(widget, grouped_names):
    texts, references = _saved_flat_parameters()
    parameters = widget._parameterNode
    raw = parameters.parameterNode
    checked = 0
    for grouped in grouped_names:
        plain = grouped.split(".")[1]
        if plain in references:
            assert parameters.getValue(grouped).GetName() == references[plain], grouped
            checked += 1
        elif plain in texts:
            assert str(parameters.getValue(grouped)) == texts[plain], grouped
            checked += 1
        assert not raw.HasParameter(plain) and not raw.GetNodeReferenceID(plain), f"{plain} left under its old name"
    assert checked == len(texts)  # every saved parameter arrived somewhere
    # a parameter added to a section after the scene was saved reads as its default (Slicer's wrapper fills in only
    # whole sections): the virtual PET's outside-the-body choice, documented default "zero"
    assert parameters.getValue("virtualPet.outsideBody") == "zero"
    assert widget.ui.weightSpinBox.value == 64.5 and widget.ui.mipAxisComboBox.currentText == "sagittal"
    assert widget.ui.petSelector.currentNode().GetName() == "Fixture PET"
    widget.ui.epochsSpinBox.value = 13  # and the panel is bound to the moved parameters
    assert raw.GetParameter("training.epochs") == "13"


def test_a_scene_saved_with_flat_parameter_names_opens_with_every_value(slicer_env, scene, slot_errors):
    scene.SetURL(str(FLAT_SCENE))
    assert scene.Import()
    widget = slicer_env.new_widget()
    slicer_env.enter(widget)
    try:
        _assert_flat_scene_is_shown(widget, _inputs(slicer_env))
    finally:
        slicer_env.exit(widget)
        widget.cleanup()
    assert slot_errors == []


def test_a_flat_scene_imported_while_the_panel_is_shown_is_shown(panel, slicer_env, scene, slot_errors):
    panel.ui.weightSpinBox.value = 99.0
    scene.SetURL(str(FLAT_SCENE))
    assert scene.Import()
    _assert_flat_scene_is_shown(panel, _inputs(slicer_env))
    assert slot_errors == []


# --- re-Apply ----------------------------------------------------------------------------------------------------


def _pet_in_bqml(scene, seed: int = 3):
    """A PET node in Bq/ml without DICOM headers (the panel then needs weight, dose and times)."""
    from MedGANSynthLib.mrml.volume_nodes import node_from_volume
    from MedGANSynthLib.volume import Volume

    values = np.random.default_rng(seed).uniform(1e3, 2e4, size=(10, 12, 14)).astype(np.float32)
    volume = Volume(array=values, spacing=(4.0, 4.0, 4.0), origin=(0.0, 0.0, 0.0), direction=np.eye(3),
                    modality="PT", units="BQML")
    return node_from_volume(volume, scene, "PET in Bq/ml")


DATA_CLASSES = ("vtkMRMLScalarVolumeNode", "vtkMRMLSegmentationNode", "vtkMRMLTableNode")


def _data_nodes(scene) -> int:
    """Volumes (label maps included), segmentations and tables: what would pile up in the Data module. Display
    nodes are left out: where a removed node's display node goes depends on the application logic (Slicer's and
    trame-slicer's remove it, plain slicer-core's Slicer-5.10 environment here does not)."""
    return sum(scene.GetNumberOfNodesByClass(name) for name in DATA_CLASSES)


def _array(slicer_env, node):
    return slicer_env.slicer.util.arrayFromVolume(node).copy()


def test_apply_twice_updates_the_nodes_of_the_first_apply(panel, slicer_env, scene, slot_errors):
    view = scene.AddNewNodeByClass("vtkMRMLSliceCompositeNode")  # what a slice view shows (no views here)
    view.SetLayoutName("Red")
    parameters = panel._parameterNode
    parameters.suv.petVolume = _pet_in_bqml(scene)
    parameters.suv.suvFromDicomTags = False
    parameters.suv.weightKg, parameters.suv.doseMBq = 70.0, 300.0
    parameters.suv.injectionTime, parameters.suv.scanTime = "09:00:00", "10:00:00"
    parameters.suv.resample = True
    parameters.suv.spacingMm = 8.0
    panel.ui.petApplyButton.click()
    first = {name: getattr(parameters.outputs, name) for name in ("suv", "resampled", "mip")}
    assert all(first.values()), first
    ids = {name: node.GetID() for name, node in first.items()}
    suv_before, mip_before = _array(slicer_env, first["suv"]), _array(slicer_env, first["mip"])
    count = _data_nodes(scene)
    display = first["mip"].GetDisplayNode()
    display.SetWindowLevelMinMax(0.5, 1.5)  # the user's own window on the MIP
    display_id = display.GetID()

    parameters.suv.weightKg = 80.0  # SUV = activity * weight / decayed dose: every voxel grows by 80/70
    panel.ui.petApplyButton.click()
    outputs = parameters.outputs
    assert _data_nodes(scene) == count
    assert {name: getattr(outputs, name).GetID() for name in ids} == ids
    np.testing.assert_allclose(_array(slicer_env, outputs.suv), suv_before * 80.0 / 70.0, rtol=1e-5)
    np.testing.assert_allclose(_array(slicer_env, outputs.mip), mip_before * 80.0 / 70.0, rtol=1e-4)
    mip = outputs.mip
    assert mip.GetDisplayNode().GetID() == display_id and mip.GetDisplayNode().GetWindowLevelMin() == 0.5
    assert view.GetBackgroundVolumeID() == mip.GetID()  # the view shows the MIP it showed

    hierarchy = scene.GetSubjectHierarchyNode()  # the user deletes the MIP in the Data module: its item goes
    assert hierarchy.RemoveItem(hierarchy.GetItemByDataNode(mip))  # with the node; the next Apply makes a new one
    assert scene.GetNodeByID(ids["mip"]) is None
    panel.ui.petApplyButton.click()
    outputs = parameters.outputs
    assert outputs.mip is not None and outputs.mip.GetScene() is scene and outputs.mip.GetID() != ids["mip"]
    assert _data_nodes(scene) == count
    assert outputs.suv.GetID() == ids["suv"]
    assert slot_errors == []


def test_a_second_virtual_pet_goes_into_the_nodes_of_the_first(panel, slicer_env, scene, tmp_path):
    """The panel's end-of-job step on the Logic's real loader (the job itself is tested in test_module_tier_jobs)."""
    import json

    from MedGANSynthLib.io.volume_io import write_volume
    from MedGANSynthLib.mrml.volume_nodes import node_from_volume
    from MedGANSynthLib.volume import Volume

    grid = dict(spacing=(3.0, 3.0, 3.0), origin=(0.0, 0.0, 0.0), direction=np.eye(3))
    ct = node_from_volume(Volume(array=np.zeros((6, 7, 8), np.float32), modality="CT", units="HU", **grid),
                          scene, "CT")

    def job_output(folder: Path, suv: float, lesions: int) -> Path:
        values = np.full((6, 7, 8), suv, np.float32)
        write_volume(Volume(array=values, modality="PT", units="SUV", **grid), folder / "virtual_pet.nrrd")
        labels = np.zeros((6, 7, 8), np.int16)
        labels[2:4, 2:4, 2:4] = 1
        if lesions == 2:
            labels[4:6, 5:7, 6:8] = 2
        write_volume(Volume(array=labels, modality="SEG", units="label", **grid), folder / "lesion_labels.nrrd")
        (folder / "lesions.json").write_text(json.dumps([{"label": 1, "suv_max": suv, "volume_ml": 0.2}]))
        return folder

    logic = panel.logic
    panel.keepVirtualPetOutputs(logic.loadVirtualPET(ct, job_output(tmp_path / "a", 3.0, lesions=1)))
    outputs = panel._parameterNode.outputs
    ids = [outputs.virtualPET.GetID(), outputs.lesionSegmentation.GetID(), outputs.lesionTable.GetID()]
    count = _data_nodes(scene)
    panel.keepVirtualPetOutputs(logic.loadVirtualPET(ct, job_output(tmp_path / "b", 7.0, lesions=2)))
    assert [outputs.virtualPET.GetID(), outputs.lesionSegmentation.GetID(), outputs.lesionTable.GetID()] == ids
    assert _data_nodes(scene) == count
    assert np.all(_array(slicer_env, outputs.virtualPET) == 7.0)
    table = outputs.lesionTable
    column = next(c for c in range(table.GetNumberOfColumns()) if table.GetColumnName(c) == "suv_max")
    assert table.GetNumberOfRows() == 1 and float(table.GetCellText(0, column)) == 7.0
    assert outputs.lesionSegmentation.GetSegmentation().GetNumberOfSegments() == 2  # the second run's two lesions
