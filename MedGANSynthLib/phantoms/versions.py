"""Whole-body phantom generator versions: which exist, which is the default, which the bundled models need.

Kept free of numpy/scipy so the command line's ``--help`` can name them.
"""

PHANTOM_VERSIONS = (1, 2, 3, 4, 5)
DEFAULT_PHANTOM_VERSION = 4
"""Version 2's anatomy with the published corrections of REFERENCE.md - version 3's (women's muscle HU by age,
women's visceral fat, the nephrographic renal medulla) and version 4's (men's muscle HU by age, women's marrow SUV
by age, muscle, fat, kidney-cortex and cortical-bone SUV, thyroid and pancreas HU, muscle and small-bowel contrast
enhancement, splenic lymphoma above the subject's liver) and its redrawn head and neck, thorax and pelvis: what new
data sets should use. Versions 3 and 4 stay bit-for-bit (4 frozen in session 24): the models of issue 29 are
trained on them (their scripts name the version). Version 5 (session 25) is under construction: it may still
change, so no data set or model should rely on it until it is frozen and made the default."""
REALISTIC_PHANTOM_VERSIONS = (2, 3, 4, 5)
"""The versions on the skeleton-frame anatomy: contrast phase, arm position, count noise, whole-body chest slices."""
BUNDLED_MODELS_PHANTOM_VERSION = 1
"""The bundled models (Resources/Models) were trained on version 1: the demo, the sample data and every check of
a bundled model's outputs pass it explicitly, so changing the default never changes what they show."""


def spoken_versions(versions: tuple[int, ...]) -> str:
    """"1, 2, 3 or 4": the versions as an error message or a help text names them."""
    return ", ".join(map(str, versions[:-1])) + f" or {versions[-1]}"
