"""The JSON model card that travels with every safetensors weights file.

It says what the weights are (architecture + config), how pixel values map to physical units (normalisation), what
the classes are, what the model was trained on (MedGANSynth phantoms, never patients, for bundled weights), how it
scored, which library wrote it, and the SHA-256 of the tensor file so a swapped or damaged file is refused.
"""

from __future__ import annotations

import datetime
import json
import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from MedGANSynthLib import __version__
from MedGANSynthLib.errors import InputError
from MedGANSynthLib.io.atomic import atomic_output

CARD_FORMAT = "MedGANSynth model card"
CARD_FORMAT_VERSION = 1
NORMALISATION_KINDS = {"suv": "SUV", "hu": "HU", "intensity": ""}
PHANTOM_DATA_TEXT = (
    "Trained on MedGANSynth software phantoms (synthetic images with known ground truth), not on patient data."
)


def phantom_training_data(counts: dict[str, int], details: str = "") -> dict[str, Any]:
    """A training-data summary that states plainly the images were phantoms, not patients."""
    text = PHANTOM_DATA_TEXT + (f" {details}" if details else "")
    return {"source": "MedGANSynth phantoms", "patients": False, "description": text, "counts": dict(counts)}


@dataclass
class ModelCard:
    architecture: str
    config: dict[str, Any]
    normalisation: dict[str, Any]  # e.g. {"kind": "suv", "low": 0, "high": 30, "output_range": [-1, 1]}
    class_names: list[str]
    training_data: dict[str, Any]
    epochs: int = 0
    metrics: dict[str, Any] = field(default_factory=dict)
    library_version: str = __version__
    created: str = field(default_factory=lambda: datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"))
    tensor_sha256: str = ""
    tensor_file: str = ""

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise a one-line InputError naming the first field that is wrong."""
        _require(isinstance(self.architecture, str) and self.architecture, "architecture must be a non-empty name")
        _require(isinstance(self.config, dict), "config must be a mapping of network settings")
        _validate_normalisation(self.normalisation)
        _require(isinstance(self.class_names, list) and all(isinstance(n, str) and n for n in self.class_names),
                 "class_names must be a list of non-empty names")
        _require(len(set(self.class_names)) == len(self.class_names), "class_names must not repeat a name")
        _require(isinstance(self.training_data, dict) and isinstance(self.training_data.get("description"), str)
                 and self.training_data["description"].strip(), "training_data needs a 'description' text")
        counts = self.training_data.get("counts", {})
        _require(isinstance(counts, dict) and all(isinstance(v, int) and v >= 0 for v in counts.values()),
                 "training_data counts must map names to image counts")
        _require(isinstance(self.epochs, int) and not isinstance(self.epochs, bool) and self.epochs >= 0,
                 "epochs must be a whole number >= 0")
        _require(isinstance(self.metrics, dict), "metrics must be a mapping")
        _require(isinstance(self.library_version, str), "library_version must be text")
        _require(isinstance(self.created, str), "created must be an ISO date text")
        _require(isinstance(self.tensor_sha256, str) and (self.tensor_sha256 == "" or _is_sha256(self.tensor_sha256)),
                 "tensor_sha256 must be 64 hexadecimal digits")

    @property
    def units(self) -> str:
        return NORMALISATION_KINDS[self.normalisation["kind"]]

    def to_dict(self) -> dict[str, Any]:
        return {"format": CARD_FORMAT, "format_version": CARD_FORMAT_VERSION, **asdict(self)}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=False)

    @classmethod
    def from_dict(cls, data: Any, source: str = "model card") -> ModelCard:
        if not isinstance(data, dict) or data.get("format") != CARD_FORMAT:
            raise InputError(f"{source} is not a MedGANSynth model card (its 'format' is not '{CARD_FORMAT}').")
        version = data.get("format_version")
        if version != CARD_FORMAT_VERSION:
            raise InputError(
                f"{source} is a model card of format version {version!r}; this library reads version {CARD_FORMAT_VERSION}."
            )
        fields = {k: v for k, v in data.items() if k not in ("format", "format_version")}
        required = ("architecture", "config", "normalisation", "class_names", "training_data")
        missing = [name for name in required if name not in fields]
        if missing:
            raise InputError(f"{source} lacks the model card field(s) {', '.join(missing)}.")
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(fields) - known)
        if unknown:
            raise InputError(f"{source} has unknown model card field(s) {', '.join(unknown)}.")
        try:
            return cls(**fields)
        except InputError as error:
            raise InputError(f"{source}: {error}") from None

    @classmethod
    def from_json(cls, text: str, source: str = "model card") -> ModelCard:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise InputError(f"{source} is not valid JSON ({error.msg} at line {error.lineno}).") from None
        return cls.from_dict(data, source)

    def save(self, path: str | os.PathLike) -> Path:
        with atomic_output(path) as temp:
            temp.write_text(self.to_json() + "\n", encoding="utf-8")
        return Path(path)

    @classmethod
    def load(cls, path: str | os.PathLike) -> ModelCard:
        path = Path(path)
        if not path.is_file():
            raise InputError(f"Model card {path} is missing; weights need their JSON card beside them.")
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise InputError(f"Model card {path} is not a text (JSON) file.") from None
        return cls.from_json(text, source=f"Model card {path.name}")


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise InputError(f"Invalid model card: {message}.")


def _is_sha256(text: str) -> bool:
    return len(text) == 64 and all(c in "0123456789abcdef" for c in text)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _validate_normalisation(norm: Any) -> None:
    _require(isinstance(norm, dict), "normalisation must be a mapping")
    _require(norm.get("kind") in NORMALISATION_KINDS,
             f"normalisation kind must be one of {', '.join(NORMALISATION_KINDS)}")
    _require(_is_number(norm.get("low")) and _is_number(norm.get("high")) and norm["low"] < norm["high"],
             "normalisation needs numbers low < high (the physical range, e.g. SUV 0 to 30)")
    out = norm.get("output_range")
    _require(isinstance(out, list | tuple) and len(out) == 2 and all(map(_is_number, out)) and out[0] < out[1],
             "normalisation output_range must be [low, high] of the network output, e.g. [-1, 1]")
