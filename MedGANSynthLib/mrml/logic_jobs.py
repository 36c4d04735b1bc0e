"""The Logic's background jobs: a CLI command in a child process that the panel polls and a script waits for.

No Qt and no threads touching the scene: the child's progress lines are queued by the runner's reader threads and
handed to the callbacks by :meth:`JobControl.processJob`, on the thread that calls it (the panel's timer).
"""

from __future__ import annotations

import os
import queue
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from MedGANSynthLib.errors import Cancelled, InputError
from MedGANSynthLib.jobs.progress import Progress
from MedGANSynthLib.mrml.scene import inside_slicer_application

ProgressHandler = Callable[[Progress], None]


@dataclass
class LogicJob:
    """A running CLI job plus what to do with its outputs; the panel polls it, scripts wait for it."""

    name: str
    runner: Any  # MedGANSynthLib.mrml.job_runner.JobRunner
    finish: Callable[[], Any]
    cleanup: Callable[[], None] = lambda: None
    progress: ProgressHandler | None = None
    on_event: Callable[[Progress], None] | None = None
    events: queue.Queue = field(default_factory=queue.Queue)
    latest: Progress | None = None
    finished: bool = False
    cancelled: bool = False
    result: Any = None
    chart: Any = None
    """The live loss plot of a training job (created with the first losses)."""

    @property
    def fraction(self) -> float:
        return self.latest.fraction if self.latest else 0.0

    @property
    def status(self) -> str:
        if self.cancelled:
            return f"{self.name}: cancelled"
        if self.finished:
            return f"{self.name}: done"
        if self.latest is None:
            return f"{self.name}: starting"
        detail = self.latest.message or f"{self.latest.done}/{self.latest.total}"
        return f"{self.name}: {self.latest.stage} {detail}"


def child_python() -> str:
    """The Python that runs CLI jobs: Slicer's ``PythonSlicer`` inside Slicer (its packages), else this one."""
    if not inside_slicer_application():
        return sys.executable
    import slicer

    names = ("PythonSlicer.exe", "PythonSlicer") if os.name == "nt" else ("PythonSlicer",)
    folders = [Path(sys.executable).parent, Path(slicer.app.slicerHome) / "bin"]
    for folder in folders:
        for name in names:
            if (folder / name).is_file():
                return str(folder / name)
    return shutil.which("PythonSlicer") or sys.executable


class JobControl:
    """The Logic's one job at a time: start it, hand on its progress, wait for it, cancel it.

    Part of :class:`~MedGANSynthLib.mrml.logic.MedGANSynthLogic`, which sets ``currentJob`` to None.
    """

    currentJob: LogicJob | None

    def _start(self, name: str, args: list[str], finish, cleanup=lambda: None, progress=None, on_event=None):
        from MedGANSynthLib.mrml.job_runner import run_job

        if self.currentJob is not None and not self.currentJob.finished:
            raise InputError(f"'{self.currentJob.name}' is still running; wait for it or cancel it first.")
        events: queue.Queue = queue.Queue()
        try:
            runner = run_job(args, progress=events.put, wait=False, python=child_python())
        except BaseException:
            cleanup()
            raise
        self.currentJob = LogicJob(name, runner, finish, cleanup, progress, on_event, events)
        return self.currentJob

    def processJob(self, job: LogicJob | None = None) -> bool:
        """Hand the job's new progress to the callbacks (on the caller's thread) and finish it once it ended.

        Returns True when the job is over. Raises the job's error (InputError, JobFailed) when it failed.
        """
        job = job or self.currentJob
        if job is None or job.finished:
            return True
        _deliver_events(job)
        if job.runner.poll() is None:
            return False
        try:
            try:
                job.runner.wait()  # joins the output readers, so every progress line has arrived
            finally:
                _deliver_events(job)
            job.result = job.finish()
        except Cancelled:
            job.cancelled = True
        finally:
            job.finished = True
            job.cleanup()
        return True

    def waitForJob(self, job: LogicJob | None = None, pollSeconds: float = 0.1):
        """Block until the job ends; returns its result (None when cancelled)."""
        job = job or self.currentJob
        while not self.processJob(job):
            time.sleep(pollSeconds)
        return job.result

    def cancelJob(self) -> None:
        """Stop the running job and every process it started; its temporary files are deleted."""
        job = self.currentJob
        if job is None or job.finished:
            return
        job.runner.cancel()
        self.processJob(job)


def _deliver_events(job: LogicJob) -> None:
    """Hand queued progress events to the job's handlers, on the calling (main) thread."""
    while not job.events.empty():
        job.latest = job.events.get_nowait()
        for handler in (job.on_event, job.progress):
            if handler is not None:
                handler(job.latest)
