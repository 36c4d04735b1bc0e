"""Whole-body phantom generator versions: which exist, which is the default, which the bundled models need.

Kept free of numpy/scipy so the command line's ``--help`` can name them.
"""

PHANTOM_VERSIONS = (1, 2, 3)
DEFAULT_PHANTOM_VERSION = 3
"""Version 2's anatomy with the published corrections of REFERENCE.md (women's muscle HU by age, women's visceral
fat, the nephrographic renal medulla): what new data sets should use."""
BUNDLED_MODELS_PHANTOM_VERSION = 1
"""The bundled models (Resources/Models) were trained on version 1: the demo, the sample data and every check of
a bundled model's outputs pass it explicitly, so changing the default never changes what they show."""
