"""The ``run.json`` of a training folder: the settings a ``--resume`` rebuilds the run from."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.io.atomic import atomic_output

RUN_FILE = "run.json"


def write_run_file(run_dir: Path, settings: dict[str, Any]) -> None:
    run_dir.mkdir(parents=True, exist_ok=True)
    with atomic_output(run_dir / RUN_FILE) as temp:
        temp.write_text(json.dumps(settings, indent=2))


def read_run_file(run_dir: Path, required_keys: Iterable[str], kind: str = "training") -> dict[str, Any]:
    """Settings of the run in ``run_dir``; one clear line when it is missing, damaged or of another kind."""
    path = run_dir / RUN_FILE
    if not path.is_file():
        raise InputError(f"'{run_dir}' holds no {kind} run to resume ({RUN_FILE} is missing); start without --resume.")
    try:
        settings = json.loads(path.read_text())
    except (OSError, ValueError):
        raise InputError(f"'{path}' is damaged; start a new run in another folder.") from None
    missing = [key for key in required_keys if key not in settings]
    if missing:
        raise InputError(f"'{path}' is not a {kind} run file (lacks {', '.join(missing)}); start a new run elsewhere.")
    return settings


def record_learning_rate_change(settings: dict[str, Any], run_dir: Path, **rates: float) -> None:
    """Append to ``settings["learning_rate_changes"]`` the rates a resumed run continues at, with the epoch of the
    checkpoint they take effect after, so run.json and the model card tell the whole schedule."""
    from MedGANSynthLib.training.checkpoint import checkpoint_path, load_checkpoint

    epoch = int(load_checkpoint(checkpoint_path(run_dir))["epoch"])
    settings["learning_rate_changes"] = [*settings.get("learning_rate_changes", []), {"after_epoch": epoch, **rates}]


def training_run_folder(run_dir: str | Path, is_main: bool, *, device: str = "auto", overwrite: bool = False,
                        resume: bool = False):
    """The output rules for a training run folder, which is written in place so that a killed run keeps its
    checkpoint: locked, an existing run refused unless ``resume`` or ``overwrite`` (which starts afresh), and a run
    that fails before its first checkpoint leaves no folder behind. Refuses an absent device before anything is
    written. The helper processes of a multi-process run (not ``is_main``) write nothing and take no lock."""
    import contextlib

    from MedGANSynthLib.device import resolve_device
    from MedGANSynthLib.io.output_set import OutputTarget, staged_outputs
    from MedGANSynthLib.training.checkpoint import checkpoint_path

    resolve_device(device)
    if not is_main:
        return contextlib.nullcontext()
    return staged_outputs([OutputTarget(str(run_dir))], overwrite=overwrite, in_place=True, resume=resume,
                          keep=lambda folder: checkpoint_path(folder).exists())
