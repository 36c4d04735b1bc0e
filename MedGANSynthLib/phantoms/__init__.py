"""Phantom generators with ground truth: whole-body FDG PET/CT by lesion class, brain FDG-PET by dementia
stage, axial chest CT slices. The bundled models are trained on these; values cite REFERENCE.md (here).

The whole-body generator has two versions: 1 (default, bit-for-bit what the bundled models were trained on) and
2 (``make_wholebody_case(..., version=2)``: anatomy on a skeleton frame with arms, muscles, bowel, published
per-subject HU/SUV and an optional portal-venous CT phase)."""

from MedGANSynthLib.phantoms.brain import STAGES, BrainCase, BrainConfig, make_brain_case
from MedGANSynthLib.phantoms.ct_slices import ChestSliceSet, make_chest_ct_slices
from MedGANSynthLib.phantoms.lesions import LESION_CLASSES
from MedGANSynthLib.phantoms.wholebody import WholeBodyCase, WholeBodyConfig, make_wholebody_case
from MedGANSynthLib.phantoms.writer import write_case, write_case_index

__all__ = [
    "LESION_CLASSES", "STAGES", "BrainCase", "BrainConfig", "ChestSliceSet", "WholeBodyCase", "WholeBodyConfig",
    "make_brain_case", "make_chest_ct_slices", "make_wholebody_case", "write_case", "write_case_index",
]
