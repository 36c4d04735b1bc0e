"""The phantoms in Slicer's Sample Data module, on Slicer's own Python layer (5.10.0 and main).

Slicer's SampleData module is not in ../shared/slicer-python, so its registration and button are the stand-in of
sample_data_standin.py (Slicer's names and behaviour for a source with a custom downloader); the module's
registration, the phantom generators, the nodes and the panel that picks them up are real.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest
import sample_data_standin
from slicer_module_support import scene, slicer_env  # noqa: F401 -- fixtures

pytestmark = [pytest.mark.slicer_module, pytest.mark.mrml]
WHOLEBODY, BRAIN = "MedGANSynth whole-body phantom (PET/CT)", "MedGANSynth brain PET phantom"


@pytest.fixture
def phantom_sources(slicer_env):
    """Slicer has started: the module's phantoms are registered with (the stand-in of) Sample Data."""
    sample_data_standin.install()
    slicer_env.app.emit("startupCompleted()")
    yield {source.sampleName: source for source in slicer_env.slicer.modules.sampleDataSources["MedGANSynth"]}
    sys.modules.pop("SampleData", None)
    vars(slicer_env.slicer.modules).pop("sampleDataSources", None)


def test_the_two_phantoms_are_registered_once(phantom_sources, slicer_env):
    assert list(phantom_sources) == [WHOLEBODY, BRAIN]
    assert all(source.customDownloader is not None for source in phantom_sources.values())  # made here, no fetch
    slicer_env.app.emit("startupCompleted()")  # registered again (a reloaded module): nothing is added
    assert len(slicer_env.slicer.modules.sampleDataSources["MedGANSynth"]) == 2


def test_the_brain_phantom_button_loads_the_generators_case(phantom_sources, scene, slicer_env):
    from MedGANSynthLib.mrml.volume_nodes import volume_from_node
    from MedGANSynthLib.phantoms import make_brain_case

    (pet,) = sample_data_standin.press(phantom_sources[BRAIN])
    assert scene.GetNodeByID(pet.GetID()) is pet
    expected = make_brain_case(0, "AD").pet  # the generator's own case, made independently here
    loaded = volume_from_node(pet)
    np.testing.assert_array_equal(loaded.array, expected.array)
    np.testing.assert_allclose(loaded.spacing, expected.spacing)
    assert pet.GetAttribute("MedGANSynth.Modality") == "PT"


def test_the_wholebody_phantom_button_loads_ct_and_pet_that_the_panel_picks(phantom_sources, scene, slicer_env):
    from MedGANSynthLib.phantoms.wholebody import WholeBodyConfig, ct_grid

    ct, pet = sample_data_standin.press(phantom_sources[WHOLEBODY])
    shape, spacing, _ = ct_grid(WholeBodyConfig())  # the clinical-size grid, from the configuration alone
    assert slicer_env.slicer.util.arrayFromVolume(ct).shape == shape
    np.testing.assert_allclose(ct.GetSpacing(), spacing)
    assert slicer_env.slicer.util.arrayFromVolume(ct).min() <= -990  # air around the body
    assert slicer_env.slicer.util.arrayFromVolume(pet).max() > 2.5  # lymphoma lesions above the SUV threshold
    widget = slicer_env.new_widget()
    slicer_env.enter(widget)
    try:
        assert widget._parameterNode.suv.petVolume is pet and widget._parameterNode.virtualPet.ctVolume is ct
    finally:
        slicer_env.exit(widget)
        widget.cleanup()
