"""The catalogue of bundled models (``Resources/Models/catalogue.json``) and model look-up by id or path.

A model is a pair ``<stem>.safetensors`` + ``<stem>.json`` (the model card). The catalogue lists the bundled
ones with an id, a task ("gan", "virtual_pet" or "cyclegan"), a title for the Slicer panel and the SHA-256 of the
tensor file, which loading checks. Users may always pass a path to their own ``.safetensors`` instead of an id.

Where the models folder is: ``$MEDGANSYNTH_MODELS`` if set, else ``Resources/Models`` beside the package — in
the source tree (``<repo>/Resources``) and in an installed Slicer extension (the CMake build copies
``Resources/`` next to ``MedGANSynthLib/``) alike — else ``MedGANSynthLib/bundled_models``, where a wheel
(``pip install .``) carries them (setup.py copies them there at build time).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from MedGANSynthLib.errors import InputError

CATALOGUE_NAME = "catalogue.json"
SCHEMA_VERSION = 1
TASKS = ("gan", "virtual_pet", "cyclegan")


@dataclass(frozen=True)
class CatalogueEntry:
    id: str
    task: str
    architecture: str
    file: str
    title: str
    description: str
    sha256: str
    classes: tuple[str, ...] = ()

    def path(self, folder: Path) -> Path:
        return folder / self.file


def models_folder() -> Path:
    override = os.environ.get("MEDGANSYNTH_MODELS")
    if override:
        return Path(override)
    package = Path(__file__).resolve().parents[1]
    beside = package.parent / "Resources" / "Models"
    installed = package / "bundled_models"
    return beside if (beside / CATALOGUE_NAME).is_file() or not (installed / CATALOGUE_NAME).is_file() else installed


def load_catalogue(folder: str | os.PathLike | None = None) -> list[CatalogueEntry]:
    """Entries of the catalogue in ``folder`` (default: the bundled one); [] when there is no catalogue."""
    base = Path(folder) if folder else models_folder()
    path = base / CATALOGUE_NAME
    if not path.exists():
        return []
    try:
        data = json.loads(path.read_text())
    except ValueError as error:
        raise InputError(f"The model catalogue {path} is not valid JSON ({error}).") from error
    if data.get("schema_version") != SCHEMA_VERSION or not isinstance(data.get("models"), list):
        raise InputError(f"The model catalogue {path} has an unknown layout; expected schema_version {SCHEMA_VERSION}.")
    entries = []
    for raw in data["models"]:
        try:
            entry = CatalogueEntry(**{**raw, "classes": tuple(raw.get("classes", ()))})
        except TypeError as error:
            raise InputError(f"A model entry in {path} is malformed: {error}.") from error
        if entry.task not in TASKS:
            raise InputError(f"Model '{entry.id}' in {path} has unknown task '{entry.task}'.")
        entries.append(entry)
    return entries


def resolve_model(id_or_path: str | os.PathLike, task: str | None = None, folder: str | os.PathLike | None = None) -> Path:
    """The ``.safetensors`` file of a catalogue id or of a user path; checks the bundled file's SHA-256."""
    text = str(id_or_path)
    candidate = Path(text)
    if candidate.suffix in (".safetensors", ".json") or candidate.exists():
        tensors = candidate.with_suffix(".safetensors")
        if not tensors.exists():
            raise InputError(f"Model file '{tensors}' does not exist; pass a .safetensors file with its .json card.")
        return tensors
    base = Path(folder) if folder else models_folder()
    entries = load_catalogue(base)
    matches = [entry for entry in entries if entry.id == text]
    if not matches:
        known = ", ".join(entry.id for entry in entries if task is None or entry.task == task) or "none"
        raise InputError(f"Unknown model '{text}'; bundled models: {known}. Or pass a path to a .safetensors file.")
    entry = matches[0]
    if task is not None and entry.task != task:
        raise InputError(f"Model '{text}' is a {entry.task} model; this step needs a {task} model.")
    path = entry.path(base)
    if not path.exists():
        raise InputError(f"Bundled model file {path} is missing; reinstall the extension or fetch it with git lfs.")
    if file_sha256(path) != entry.sha256:
        raise InputError(f"Bundled model file {path} does not match its catalogue checksum; it is damaged.")
    return path


def file_sha256(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def register_model(tensor_path: str | os.PathLike, model_id: str, task: str, architecture: str, title: str,
                   description: str, classes: list[str] | tuple[str, ...] = (),
                   folder: str | os.PathLike | None = None) -> Path:
    """Add the entry of ``model_id`` to ``folder/catalogue.json`` with the file's SHA-256, or replace it in place
    (a re-trained model keeps its place in every listing)."""
    from MedGANSynthLib.io.atomic import atomic_output

    if task not in TASKS:
        raise InputError(f"Unknown task '{task}'; choose {', '.join(TASKS)}.")
    base = Path(folder) if folder else models_folder()
    path = base / CATALOGUE_NAME
    data = json.loads(path.read_text()) if path.is_file() else {"schema_version": SCHEMA_VERSION, "models": []}
    entry = {"id": model_id, "task": task, "architecture": architecture, "file": Path(tensor_path).name,
             "title": title, "description": description, "sha256": file_sha256(tensor_path), "classes": list(classes)}
    models = data.get("models", [])
    ids = [m.get("id") for m in models]
    if model_id in ids:
        models[ids.index(model_id)] = entry
    else:
        models.append(entry)
    data["models"] = models
    with atomic_output(path) as temp:
        temp.write_text(json.dumps(data, indent=2) + "\n")
    return path
