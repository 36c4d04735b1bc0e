"""Training checkpoints: one file holding everything needed to continue a run exactly.

Saved with ``torch.save`` of a dict of tensors and plain Python values (no objects), always atomically (temporary
name, then rename) so a killed process leaves the previous checkpoint intact. Loaded with
``torch.load(weights_only=True)``, which refuses arbitrary pickled objects; only files this module wrote are loaded.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.io.atomic import atomic_output

CHECKPOINT_FORMAT = "medgansynth-training-checkpoint"
CHECKPOINT_VERSION = 1
CHECKPOINT_NAME = "checkpoint_last.pt"


def checkpoint_path(run_dir: str | Path) -> Path:
    return Path(run_dir) / "checkpoints" / CHECKPOINT_NAME


def capture_rng_states(
    device: torch.device, extra_generators: dict[str, torch.Generator] | None = None
) -> dict[str, Any]:
    """Python, NumPy (legacy global), torch CPU and (training on CUDA) CUDA RNG states, plus named generators."""
    numpy_state = np.random.get_state(legacy=False)
    states: dict[str, Any] = {
        "python": random.getstate(),
        "numpy": {
            "bit_generator": numpy_state["bit_generator"],
            "key": torch.from_numpy(numpy_state["state"]["key"].astype(np.int64)),
            "pos": int(numpy_state["state"]["pos"]),
            "has_gauss": int(numpy_state["has_gauss"]),
            "gauss": float(numpy_state["gauss"]),
        },
        "torch": torch.get_rng_state(),
        "generators": {name: gen.get_state() for name, gen in (extra_generators or {}).items()},
    }
    if device.type == "cuda":  # the device was chosen by MedGANSynthLib.device; the CPU path never touches CUDA
        states["cuda"] = torch.get_device_module("cuda").get_rng_state_all()
    return states


def restore_rng_states(
    states: dict[str, Any], device: torch.device, extra_generators: dict[str, torch.Generator] | None = None
) -> None:
    version, internal, gauss = states["python"]
    random.setstate((version, tuple(internal), gauss))
    numpy_state = states["numpy"]
    np.random.set_state({
        "bit_generator": numpy_state["bit_generator"],
        "state": {"key": numpy_state["key"].numpy().astype(np.uint32), "pos": numpy_state["pos"]},
        "has_gauss": numpy_state["has_gauss"],
        "gauss": numpy_state["gauss"],
    })
    torch.set_rng_state(states["torch"])
    if "cuda" in states and device.type == "cuda":
        torch.get_device_module("cuda").set_rng_state_all(states["cuda"])
    for name, gen in (extra_generators or {}).items():
        if name in states["generators"]:
            gen.set_state(states["generators"][name])


def save_checkpoint(state: dict[str, Any], path: str | Path) -> Path:
    """Write ``state`` (tensors, dicts, lists, numbers, strings) to ``path`` atomically."""
    payload = {"format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION, **state}
    target = Path(path)
    with atomic_output(target) as temp:
        torch.save(payload, temp)
    return target


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint`; a damaged or foreign file raises InputError."""
    source = Path(path)
    if not source.is_file():
        raise InputError(f"No training checkpoint at '{source}'; start without --resume to begin a new run.")
    try:
        state = torch.load(source, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises RuntimeError, EOFError, UnpicklingError, ... for damaged files
        raise InputError(
            f"The checkpoint '{source.name}' is damaged or not a MedGANSynth checkpoint; delete it to start over."
        ) from error
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise InputError(f"'{source.name}' is not a MedGANSynth training checkpoint; delete it to start over.")
    if state.get("version") != CHECKPOINT_VERSION:
        raise InputError(
            f"The checkpoint '{source.name}' has format version {state.get('version')}, this library reads "
            f"version {CHECKPOINT_VERSION}; start a new run."
        )
    return state
