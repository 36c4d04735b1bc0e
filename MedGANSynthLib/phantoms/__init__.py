"""Phantom generators with ground truth: whole-body FDG PET/CT by lesion class, brain FDG-PET by dementia
stage, axial chest CT slices. The bundled models are trained on these; values cite PHANTOM_REFERENCE.md."""

from MedGANSynthLib.phantoms.brain import STAGES, BrainCase, BrainConfig, make_brain_case
from MedGANSynthLib.phantoms.ct_slices import ChestSliceSet, make_chest_ct_slices
from MedGANSynthLib.phantoms.lesions import LESION_CLASSES
from MedGANSynthLib.phantoms.wholebody import WholeBodyCase, WholeBodyConfig, make_wholebody_case
from MedGANSynthLib.phantoms.writer import write_case, write_case_index

__all__ = [
    "LESION_CLASSES", "STAGES", "BrainCase", "BrainConfig", "ChestSliceSet", "WholeBodyCase", "WholeBodyConfig",
    "make_brain_case", "make_chest_ct_slices", "make_wholebody_case", "write_case", "write_case_index",
]
