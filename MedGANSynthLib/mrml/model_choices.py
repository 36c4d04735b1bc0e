"""What the panel's model and class combo boxes offer, read from JSON only (no torch before the user acts)."""

from __future__ import annotations

import json
from pathlib import Path


def catalogue_model_ids(catalogue_file: Path, task: str) -> list[str]:
    """Ids of the catalogue's models of ``task`` (``[""]`` when none is bundled: a combo box needs one item)."""
    try:
        models = json.loads(Path(catalogue_file).read_text())["models"] if Path(catalogue_file).is_file() else []
    except (ValueError, KeyError):
        models = []
    return [m["id"] for m in models if m.get("task") == task] or [""]


def gan_classes(catalogue_file: Path, model_id: str, model_file: str | None) -> list[str]:
    """Class names of a GAN from its model card (the .json beside a .safetensors file) or its catalogue entry."""
    try:
        if model_file:
            return list(json.loads(Path(model_file).with_suffix(".json").read_text()).get("class_names", []))
        models = json.loads(Path(catalogue_file).read_text())["models"]
    except (OSError, ValueError, KeyError, AttributeError):
        return []
    return next((list(m.get("classes", [])) for m in models if m.get("id") == model_id), [])
