"""Where the module finds its resources (icon, .ui file, model catalogue, requirements.txt)."""

from __future__ import annotations

import pathlib

from MedGANSynthLib.mrml.model_choices import catalogue_model_ids

MODULE_DIR = pathlib.Path(__file__).resolve().parents[1]  # the folder of MedGANSynth.py


def resourceFile(relativePath: str) -> pathlib.Path:
    """A resource beside the installed module, else in the source tree's top-level Resources/."""
    installed = MODULE_DIR / "Resources" / relativePath
    return installed if installed.exists() else MODULE_DIR.parent / "Resources" / relativePath


def bundledModelIds(task: str) -> list[str]:
    """Catalogue ids for the model combo boxes ("" when none is bundled); read without importing torch."""
    return catalogue_model_ids(resourceFile("Models/catalogue.json"), task)
