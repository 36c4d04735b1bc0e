"""Progress callbacks and cancel tokens shared by every long operation.

Every long function takes ``progress: ProgressCallback | None`` and ``cancel: CancelToken | None``. It calls
:func:`report` at natural steps; :func:`report` raises :class:`~MedGANSynthLib.errors.Cancelled` once the token
is set, so cancellation happens between steps and never leaves half-written files (outputs are written
atomically, see :mod:`MedGANSynthLib.io.atomic`).

In a background process the CLI turns progress into machine-readable lines on stdout, one JSON object per line
after the prefix ``MEDGANSYNTH-PROGRESS``, which the Slicer module parses to drive its progress bar.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from MedGANSynthLib.errors import Cancelled

PROGRESS_PREFIX = "MEDGANSYNTH-PROGRESS "


@dataclass
class Progress:
    """One progress event: ``done`` of ``total`` steps of ``stage``, plus free-form numbers (losses, ...)."""

    stage: str
    done: int
    total: int
    message: str = ""
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def fraction(self) -> float:
        return 0.0 if self.total <= 0 else min(1.0, self.done / self.total)

    def to_line(self) -> str:
        return PROGRESS_PREFIX + json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_line(cls, line: str) -> Progress | None:
        """Parse a line written by :meth:`to_line`; None for any other line."""
        if not line.startswith(PROGRESS_PREFIX):
            return None
        try:
            data = json.loads(line[len(PROGRESS_PREFIX):])
            return cls(**data)
        except (ValueError, TypeError):
            return None


ProgressCallback = Callable[[Progress], None]


class CancelToken:
    """Thread-safe flag a caller sets to ask long work to stop at its next step."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise Cancelled("Stopped on request; no output was written for the unfinished step.")


def report(
    progress: ProgressCallback | None,
    cancel: CancelToken | None,
    stage: str,
    done: int,
    total: int,
    message: str = "",
    **values: Any,
) -> None:
    """Send one progress event (if anyone listens) and stop if cancellation was requested."""
    if cancel is not None:
        cancel.raise_if_cancelled()
    if progress is not None:
        progress(Progress(stage, done, total, message, values))


def print_progress_line(event: Progress) -> None:
    """A ProgressCallback that writes machine-readable lines for a parent process."""
    print(event.to_line(), flush=True)
