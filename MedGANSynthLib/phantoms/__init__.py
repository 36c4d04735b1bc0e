"""Phantom generators with ground truth: whole-body FDG PET/CT by lesion class, brain FDG-PET by dementia
stage, axial chest CT slices. The bundled models are trained on these; values cite REFERENCE.md (here).

The whole-body generator has five versions (``make_wholebody_case(..., version=N)``, :mod:`versions`), all kept
bit-for-bit: 1 (what the bundled models were trained on), 2 (anatomy on a skeleton frame with arms, muscles, bowel,
published per-subject HU/SUV and an optional portal-venous CT phase; a virtual-PET candidate was trained on it),
3 (version 2 with women's muscle HU by age, women's visceral fat and the nephrographic renal medulla corrected to
published values; the models of issue 29 are trained on it), 4 (version 3 with men's muscle HU by age, women's
marrow SUV by age, muscle, fat, kidney-cortex and cortical-bone SUV, thyroid and pancreas HU and the muscle's and
small bowel's contrast enhancement corrected to published values and diffuse splenic lymphoma above the subject's
own liver; :mod:`values_v4`, REFERENCE.md "Version 4") and 5, the default (frozen in session 26: version 4 with one
subject in both contrast phases, endometrium, eight muscle groups, branching liver and lung vessels, curved iliac
wings, breast gland by density, non-anaemic blood and bowel kept off bone; :mod:`values_v5`, REFERENCE.md
"Version 5" sections).

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
