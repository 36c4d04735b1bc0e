"""Training: one generic engine (:mod:`.engine`) shared by every model, plus losses, optimisers and image data sets.

The engine's names load on first use (PEP 562), so light submodules (``run_file``) import without torch.
"""

import importlib

__all__ = ["StepContext", "Trainer", "TrainerCallback", "TrainerConfig", "TrainingResult", "TrainingState", "TrainingTask",
           "default_callbacks"]


def __getattr__(name: str):
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.engine"), name)
