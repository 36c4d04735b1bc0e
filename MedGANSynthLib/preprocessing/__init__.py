"""Preprocessing before the networks: resampling to a common grid and intensity windows from the papers.

The names load on first use (PEP 562), so importing a light submodule (the CLI's ``resample`` choices) does
not import torch, which the windows need.
"""

import importlib

_EXPORTS = {
    "resample_isotropic": "resample",
    "resample_to_reference": "resample",
    "CT_GAN_WINDOW": "windows",
    "RADIOGAN_SUV_WINDOW": "windows",
    "VIRTUAL_PET_CT_WINDOW": "windows",
    "VIRTUAL_PET_SUV_WINDOW": "windows",
    "IntensityWindow": "windows",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
