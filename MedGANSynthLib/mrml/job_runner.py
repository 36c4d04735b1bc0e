"""Run a CLI command in a child process with live progress, a log, and a cancel that really stops everything.

The Slicer module runs long work (training, volume inference) as ``PythonSlicer -m MedGANSynthLib <command>
... --progress-lines`` so the user interface stays responsive and a crash cannot take Slicer down. This module
starts that child, turns its progress lines (:meth:`Progress.from_line`) into callbacks and keeps every other
line as log.

Cancelling stops the whole process tree: a command may start workers of its own (data loaders, converters), and
killing only the direct child would leave them running (the problem SlicerMONAIAuto3DSeg solves with psutil).
The child first gets SIGINT, which Python turns into ``KeyboardInterrupt``: the CLI catches it, atomic writers
delete their temporary files, and it exits with status 130. Whatever still runs after a grace period is killed.

No Qt and no Slicer here: the module polls :meth:`JobRunner.poll` from a timer, scripts and tests block in
:meth:`JobRunner.wait`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from MedGANSynthLib.errors import Cancelled, InputError, MedGANSynthError
from MedGANSynthLib.jobs.progress import CancelToken, Progress, ProgressCallback

EXIT_INPUT_ERROR = 2
EXIT_CANCELLED = 130
LIBRARY_PARENT = Path(__file__).resolve().parents[2]
"""The folder holding the ``MedGANSynthLib`` package; put on the child's path because inside Slicer the package
sits beside the module file, which ``PythonSlicer -m`` does not search by itself."""

LogCallback = Callable[[str], None]


class JobFailed(MedGANSynthError):
    """The child process ended with an unexpected error; the message carries its last stderr lines."""


@dataclass
class JobResult:
    returncode: int
    log: list[str] = field(default_factory=list)
    """stdout lines that were not progress lines (e.g. the ``--json`` summary)."""
    errors: list[str] = field(default_factory=list)
    """stderr lines."""


def _child_environment(extra: dict[str, str] | None) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"  # progress must arrive while the work runs, not when the pipe buffer fills
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(LIBRARY_PARENT), env.get("PYTHONPATH", "")) if p)
    env.update(extra or {})
    return env


def _new_process_group_options() -> dict:
    """Start the child in its own session/group so signals for the job never reach the parent (Slicer)."""
    if sys.platform == "win32":
        return {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}
    return {"start_new_session": True}


def kill_process_tree(pid: int, grace_seconds: float = 5.0) -> None:
    """Interrupt ``pid`` and all its descendants, then kill whatever is still alive after ``grace_seconds``.

    Descendants are listed before anything is signalled: once the parent dies they are re-parented and can no
    longer be found through it.
    """
    try:
        root = psutil.Process(pid)
        tree = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return
    polite = signal.CTRL_BREAK_EVENT if sys.platform == "win32" else signal.SIGINT
    for process in tree:
        try:
            process.send_signal(polite)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    _, alive = psutil.wait_procs(tree, timeout=grace_seconds)
    for process in alive:
        try:
            process.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(alive, timeout=grace_seconds)


class JobRunner:
    """One running child process. Construct it through :func:`run_job` (or directly, which starts it at once)."""

    def __init__(
        self,
        args: Sequence[str],
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
        python: str = sys.executable,
        cwd: str | os.PathLike | None = None,
        module: str = "MedGANSynthLib",
        log: LogCallback | None = None,
        grace_seconds: float = 5.0,
        env: dict[str, str] | None = None,
    ) -> None:
        self.command = [python, "-m", module, *map(str, args), "--progress-lines"]
        self._progress = progress
        self._log = log
        self._cancel_token = cancel
        self._grace_seconds = grace_seconds
        self._cancel_requested = threading.Event()
        self.log_lines: list[str] = []
        self.error_lines: list[str] = []
        self.last_progress: Progress | None = None
        self.process = subprocess.Popen(
            self.command,
            cwd=cwd,
            env=_child_environment(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
            bufsize=1,
            **_new_process_group_options(),
        )
        self._readers = [
            threading.Thread(target=self._read_stdout, daemon=True),
            threading.Thread(target=self._read_stderr, daemon=True),
        ]
        for reader in self._readers:
            reader.start()
        if cancel is not None:
            threading.Thread(target=self._watch_cancel_token, daemon=True).start()

    # --- reading the child's output (runs in threads) -----------------------------------------------------
    def _read_stdout(self) -> None:
        for raw in self.process.stdout:
            line = raw.rstrip("\n")
            event = Progress.from_line(line)
            if event is not None:
                self.last_progress = event
                if self._progress is not None:
                    self._progress(event)
                continue
            self.log_lines.append(line)
            if self._log is not None:
                self._log(line)

    def _read_stderr(self) -> None:
        for raw in self.process.stderr:
            line = raw.rstrip("\n")
            self.error_lines.append(line)
            if self._log is not None:
                self._log(line)

    def _watch_cancel_token(self) -> None:
        while self.process.poll() is None:
            if self._cancel_token.cancelled:
                self.cancel()
                return
            time.sleep(0.05)

    # --- control ----------------------------------------------------------------------------------------
    @property
    def cancelled(self) -> bool:
        return self._cancel_requested.is_set()

    def poll(self) -> int | None:
        """The exit code once the child has ended, else None (call it from a GUI timer)."""
        return self.process.poll()

    def cancel(self) -> None:
        """Stop the child and every process it started; returns when they are gone."""
        self._cancel_requested.set()
        if self.process.poll() is None:
            kill_process_tree(self.process.pid, self._grace_seconds)
        self.process.wait()

    def wait(self, timeout: float | None = None) -> JobResult:
        """Block until the child ends; raise InputError (exit 2), Cancelled, or JobFailed for other failures."""
        try:
            returncode = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.cancel()
            raise JobFailed(f"The job took longer than {timeout:g} s and was stopped.") from None
        for reader in self._readers:
            reader.join()
        return self._result(returncode)

    def _result(self, returncode: int) -> JobResult:
        result = JobResult(returncode, list(self.log_lines), list(self.error_lines))
        last_error = next((line for line in reversed(self.error_lines) if line.strip()), "")
        if self.cancelled or returncode == EXIT_CANCELLED:
            raise Cancelled("The job was stopped on request; no partial outputs were kept.")
        if returncode == EXIT_INPUT_ERROR:
            raise InputError(last_error or "The job rejected its input (exit status 2).")
        if returncode != 0:
            tail = " | ".join(line for line in self.error_lines[-5:] if line.strip())
            raise JobFailed(f"The job failed with exit status {returncode}: {tail or 'no error message'}")
        return result


def run_job(
    args: Sequence[str],
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    wait: bool = True,
    python: str = sys.executable,
    cwd: str | os.PathLike | None = None,
    module: str = "MedGANSynthLib",
    log: LogCallback | None = None,
    grace_seconds: float = 5.0,
) -> JobResult | JobRunner:
    """Run ``python -m <module> <args> --progress-lines``; block and return a JobResult, or return the JobRunner.

    Inside Slicer pass ``python`` = the PythonSlicer executable so the child uses Slicer's Python and packages.
    Progress callbacks run on a reader thread: a GUI must hand them to its main thread (e.g. store and poll).
    """
    job = JobRunner(args, progress, cancel, python, cwd, module, log, grace_seconds)
    return job.wait() if wait else job
