"""Phantom generators with ground truth: whole-body FDG PET/CT by lesion class, brain FDG-PET by dementia
stage, axial chest CT slices. The bundled models are trained on these; values cite REFERENCE.md (here).

The whole-body generator has four versions (``make_wholebody_case(..., version=N)``, :mod:`versions`): 1 (bit-for-bit
what the bundled models were trained on), 2 (anatomy on a skeleton frame with arms, muscles, bowel, published
per-subject HU/SUV and an optional portal-venous CT phase; bit-for-bit, a virtual-PET candidate was trained on it),
3 (version 2 with women's muscle HU by age, women's visceral fat and the nephrographic renal medulla corrected to
published values; bit-for-bit, the models of issue 29 are trained on it) and 4, the default (version 3 with men's
muscle HU by age, women's marrow SUV by age, muscle, fat, kidney-cortex and cortical-bone SUV, thyroid and pancreas
HU and the muscle's and small bowel's contrast enhancement corrected to published values and diffuse splenic
lymphoma above the subject's own liver; :mod:`values_v4`, REFERENCE.md "Version 4").

The names load on first use (PEP 562), so the CLI's ``--help`` reads the class names without scipy.
"""

import importlib

_EXPORTS = {
    "LESION_CLASSES": "lesions", "STAGES": "brain", "BrainCase": "brain", "BrainConfig": "brain",
    "make_brain_case": "brain", "ChestSliceSet": "ct_slices", "make_chest_ct_slices": "ct_slices",
    "WholeBodyCase": "wholebody", "WholeBodyConfig": "wholebody", "make_wholebody_case": "wholebody",
    "write_case": "writer", "write_case_index": "writer",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
