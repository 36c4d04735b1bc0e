"""The phantoms as sample data: generated on this computer when asked for (nothing is downloaded), then shown.

The Slicer module registers these loaders with Slicer's Sample Data module; scripts call them directly::

    from MedGANSynthLib.mrml.sample_data import load_wholebody_phantom
    ct, pet = load_wholebody_phantom()
"""

from __future__ import annotations

from MedGANSynthLib.mrml.display import PET_HEAT, set_fixed_window, show_overlay, slice_composite_nodes
from MedGANSynthLib.mrml.scene import resolve_scene
from MedGANSynthLib.mrml.volume_nodes import node_from_volume

WHOLEBODY_SAMPLE = "MedGANSynth whole-body phantom (PET/CT)"
BRAIN_SAMPLE = "MedGANSynth brain PET phantom"
BRAIN_SUV_WINDOW = (0.0, 12.0)
"""SUV 0-12: the brain phantom's grey matter is drawn at SUV 8-12 (phantoms/brain.py, PHANTOM_REFERENCE section 1)."""


def load_wholebody_phantom(scene=None, seed: int = 0, lesion_class: str = "lymphoma", config=None) -> list:
    """A whole-body FDG PET/CT phantom case (clinical size unless ``config`` says otherwise) as [CT, PET] nodes,
    the PET over the CT. The nodes carry their modality, so the MedGANSynth panel preselects them."""
    from MedGANSynthLib.phantoms import make_wholebody_case
    from MedGANSynthLib.phantoms.versions import BUNDLED_MODELS_PHANTOM_VERSION

    scene = resolve_scene(scene)
    case = make_wholebody_case(int(seed), lesion_class, config, version=BUNDLED_MODELS_PHANTOM_VERSION)
    ct = node_from_volume(case.ct, scene, f"MedGANSynth phantom CT ({lesion_class})")
    pet = node_from_volume(case.pet, scene, f"MedGANSynth phantom PET ({lesion_class})")
    show_overlay(ct, pet)
    return [ct, pet]


def load_brain_phantom(scene=None, seed: int = 0, stage: str = "AD") -> list:
    """A brain FDG-PET phantom (SUV) of a dementia stage ("NC", "MCI", "AD") as [PET node], shown in PET colours."""
    from MedGANSynthLib.phantoms import make_brain_case

    scene = resolve_scene(scene)
    pet = node_from_volume(make_brain_case(int(seed), stage).pet, scene, f"MedGANSynth brain PET phantom ({stage})")
    set_fixed_window(pet, *BRAIN_SUV_WINDOW, PET_HEAT)
    for composite in slice_composite_nodes(scene):
        composite.SetBackgroundVolumeID(pet.GetID())
        composite.SetForegroundVolumeID(None)
    return [pet]


PHANTOM_SAMPLES = {WHOLEBODY_SAMPLE: load_wholebody_phantom, BRAIN_SAMPLE: load_brain_phantom}
"""Sample name (the button's text in Slicer's Sample Data module) -> its loader."""
