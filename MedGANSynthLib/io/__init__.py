"""Reading and writing images with their geometry (NIfTI, NRRD, MHA) and reading DICOM series folders.

The names load on first use (PEP 562), so light submodules (``atomic``, ``output_set``) import without SimpleITK.
"""

import importlib

_EXPORTS = {"atomic_output": "atomic", "read_volume": "volume_io", "write_volume": "volume_io"}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
