"""Apply -> background job -> success, failure, cancel, on Slicer's own Python layer (5.10.0 and main).

The jobs are real ``medgansynth virtual-pet`` child processes (a tiny model on a tiny CT); the panel's QTimer and
the error dialog's nested event loop are real Qt. After every tick of the panel's timer the status line, the
button texts and the progress bar are recorded; the tests check the whole sequence.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np
import pytest
from slicer_module_support import (  # noqa: F401 -- fixtures
    panel,
    process_events_until,
    qapplication,
    qt,
    scene,
    slicer_env,
    slot_errors,
)
from tiny_models import save_tiny_virtual_pet

from MedGANSynthLib.mrml.volume_nodes import node_from_volume
from MedGANSynthLib.volume import Volume

pytestmark = [pytest.mark.slicer_module, pytest.mark.mrml, pytest.mark.slow]


@dataclass(frozen=True)
class Tick:
    status: str
    button: str
    button_enabled: bool
    progress_visible: bool
    dialog_open: bool


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    return save_tiny_virtual_pet(tmp_path_factory.mktemp("tiny-virtual-pet"))


def _small_ct(scene):
    hu = np.full((8, 32, 32), -1000.0, np.float32)
    hu[:, 8:24, 8:24] = 40.0
    return node_from_volume(Volume(hu, spacing=(2.0, 2.0, 2.5), modality="CT", units="HU"), scene, "Small CT")


def _record_ticks(panel) -> list[Tick]:
    """The panel's state after each of its timer's ticks (this slot is connected after the panel's own)."""
    ticks: list[Tick] = []

    def record():
        modal = qapplication().activeModalWidget()
        ticks.append(Tick(panel.ui.statusLabel.text, panel.ui.vpetApplyButton.text,
                          panel.ui.vpetApplyButton.enabled, panel.ui.progressBar.visible, modal is not None))

    panel._timer.timeout.connect(record)
    return ticks


def _start(panel, scene, model_file: str) -> None:
    ct = _small_ct(scene)
    panel.ui.ctSelector.setCurrentNode(ct)
    panel.ui.vpetModelPathLineEdit.currentPath = model_file
    panel.ui.deviceComboBox.currentIndex = panel.ui.deviceComboBox.findText("cpu")
    assert panel.ui.vpetApplyButton.enabled
    panel.ui.vpetApplyButton.click()


def test_apply_runs_the_job_in_the_background_to_success(panel, scene, tiny_model, slot_errors):
    ticks = _record_ticks(panel)
    _start(panel, scene, str(tiny_model))
    assert panel.ui.vpetApplyButton.text == "Cancel" and panel.ui.vpetApplyButton.enabled
    assert not panel.ui.petApplyButton.enabled and not panel.ui.trainButton.enabled  # one job at a time
    process_events_until(lambda: not panel._timer.isActive(), timeout_s=240)

    assert slot_errors == []
    running, last = ticks[:-1], ticks[-1]
    assert running, "the job ended before the first tick"
    assert all(t.button == "Cancel" and t.progress_visible and t.status.startswith("Virtual PET: ") for t in running)
    endings = ("Virtual PET: done", "Virtual PET: cancelled", "Virtual PET failed")
    assert not any(t.status.startswith(endings) for t in running), sorted({t.status for t in running})
    # A 32 x 32 box of 40 HU is nothing like a body: the bundled CycleGAN's input check (the default) warns, and a
    # finished job with a warning still reads "done" and says why.
    assert replace(last, status="") == Tick("", "Apply", True, False, False)
    assert last.status.startswith("Virtual PET: done, with 1 warning(s): ") and "cycle error" in last.status
    assert panel.ui.statusLabel.text == last.status
    names = [scene.GetNthNodeByClass(i, "vtkMRMLScalarVolumeNode").GetName()
             for i in range(scene.GetNumberOfNodesByClass("vtkMRMLScalarVolumeNode"))]
    assert "Small CT virtual PET" in names


def test_a_failed_job_ends_once_with_one_error_dialog_even_when_a_tick_comes_while_it_is_open(
        panel, scene, slicer_env, slot_errors, tmp_path):
    """Slicer shows errors in a modal box whose event loop keeps delivering the panel's timer ticks."""
    slicer_env.app.testing = False  # show the real dialog, as for a user
    dialogs, ticks_during_dialog = [], []
    ticks = _record_ticks(panel)

    def close_dialog_after_a_tick():
        box = qapplication().activeModalWidget()
        if box is None:
            return
        if box not in dialogs:
            dialogs.append(box)
            dialogs.append(box.text)
            panel.onJobTimer()  # a tick already queued when the dialog opened is delivered inside its loop
            ticks_during_dialog.append((panel.ui.statusLabel.text, panel.ui.vpetApplyButton.text))
            time.sleep(0.6)  # more than two timer intervals: a running timer would tick in the dialog's loop
            qapplication().processEvents()
            box.done(qt.QMessageBox.Ok)

    watcher = qt.QTimer()
    watcher.timeout.connect(close_dialog_after_a_tick)
    watcher.start(50)
    try:
        _start(panel, scene, str(tmp_path / "no-such-model.safetensors"))
        process_events_until(lambda: not panel._timer.isActive() and qapplication().activeModalWidget() is None,
                             timeout_s=240)
        time.sleep(0.6)
        qapplication().processEvents()
    finally:
        watcher.stop()
        slicer_env.app.testing = True

    assert slot_errors == []
    boxes = dialogs[0::2]
    assert len(boxes) == 1, f"{len(boxes)} error dialogs"
    assert "Virtual PET failed" in dialogs[1] and "no-such-model" in dialogs[1]
    status = panel.ui.statusLabel.text
    assert status.startswith("Virtual PET failed") and "no-such-model" in status
    assert ticks_during_dialog == [(status, "Apply")]
    assert not any(t.status == "Virtual PET: done" for t in ticks)
    assert panel.ui.vpetApplyButton.text == "Apply" and panel.ui.vpetApplyButton.enabled
    assert not panel.ui.progressBar.visible and not panel._timer.isActive()
    assert panel.logic.currentJob.finished


def test_cancel_stops_the_job_and_resets_the_panel(panel, scene, tiny_model, slot_errors):
    ticks = _record_ticks(panel)
    _start(panel, scene, str(tiny_model))
    process_events_until(lambda: len(ticks) >= 1, timeout_s=60)
    assert ticks[0].button == "Cancel" and panel._job is not None
    volumes_before = scene.GetNumberOfNodesByClass("vtkMRMLScalarVolumeNode")
    panel.ui.vpetApplyButton.click()  # the Apply button reads Cancel while the job runs
    process_events_until(lambda: not panel._timer.isActive(), timeout_s=60)

    assert slot_errors == []
    assert ticks[-1] == Tick("Virtual PET: cancelled", "Apply", True, False, False)
    assert scene.GetNumberOfNodesByClass("vtkMRMLScalarVolumeNode") == volumes_before  # no outputs loaded
    assert panel.logic.currentJob.cancelled


def test_a_finished_virtual_pet_keeps_its_warning_in_the_status_line(panel, scene, tmp_path, slot_errors):
    """The model's card says its training CTs were fat blocks (-100 HU); the small CT (40 HU) is unlike them, so
    the out-of-distribution guard warns, and the status line says so after the job ends (cycle-error warnings of
    the input check travel the same way: summary.json warnings -> lastWarnings -> status line)."""
    from MedGANSynthLib.virtual_pet.input_statistics import store_training_statistics, training_statistics

    model = save_tiny_virtual_pet(tmp_path)
    fat = np.full((8, 32, 32), -1000.0, np.float32)
    fat[:, 8:24, 8:24] = -100.0
    store_training_statistics(model.with_suffix(".json"), training_statistics(
        [Volume(fat, spacing=(2.0, 2.0, 2.5), modality="CT", units="HU")], "fat blocks"))
    _start(panel, scene, str(model))
    process_events_until(lambda: not panel._timer.isActive(), timeout_s=240)
    assert slot_errors == []
    # two warnings: the card's statistics, and the bundled CycleGAN's cycle error (the default input check)
    assert panel.ui.statusLabel.text.startswith(
        "Virtual PET: done, with 2 warning(s): this CT is unlike the model's training CTs"), panel.ui.statusLabel.text
