"""The background-process runner against real child processes (a helper module that reports progress and sleeps)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import psutil
import pytest

from MedGANSynthLib.errors import Cancelled, InputError
from MedGANSynthLib.jobs.progress import CancelToken
from MedGANSynthLib.mrml.job_runner import JobResult, JobRunner, run_job

HERE = Path(__file__).resolve().parent
HELPER = "job_helper_module"


def _run(args, **kwargs):
    return run_job(args, module=HELPER, cwd=HERE, python=sys.executable, **kwargs)


def _wait_for(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def test_blocking_run_turns_progress_lines_into_callbacks_and_keeps_other_lines_as_log(tmp_path):
    events, log = [], []
    output = tmp_path / "out.txt"
    result = _run(["--steps", "4", "--output", output], progress=events.append, log=log.append)
    assert isinstance(result, JobResult) and result.returncode == 0
    assert [(e.stage, e.done, e.total) for e in events] == [("helper", n, 4) for n in range(1, 5)]
    assert [e.values["loss"] for e in events] == pytest.approx([1.0, 0.5, 1 / 3, 0.25])
    assert result.log == ["starting work", "done"]
    assert "starting work" in log and not any(line.startswith("MEDGANSYNTH-PROGRESS") for line in log)
    assert output.read_text().splitlines() == [f"step {n}" for n in range(4)]


def test_exit_status_2_becomes_input_error_with_the_one_stderr_line():
    message = "PET has no PatientWeight; pass --weight-kg."
    with pytest.raises(InputError) as caught:
        _run(["--input-error", message])
    assert str(caught.value) == f"job_helper_module: error: {message}"
    assert "\n" not in str(caught.value) and "Traceback" not in str(caught.value)


def _pids_of(job: JobRunner) -> list[int]:
    _wait_for(lambda: any(line.startswith("grandchild ") for line in job.log_lines))
    grandchild = int(next(line for line in job.log_lines if line.startswith("grandchild ")).split()[1])
    return [job.process.pid, grandchild]


def _running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_cancel_kills_the_whole_tree_including_a_grandchild_that_ignores_sigint(tmp_path):
    output = tmp_path / "partial.txt"
    events = []
    job = _run(
        ["--steps", "200", "--sleep", "0.05", "--grandchild", "--output", output],
        progress=events.append,
        wait=False,
        grace_seconds=1.0,
    )
    assert isinstance(job, JobRunner)
    pids = _pids_of(job)
    _wait_for(lambda: len(events) >= 2)
    assert job.poll() is None
    job.cancel()
    assert job.poll() is not None
    assert [pid for pid in pids if _running(pid)] == []
    assert list(tmp_path.iterdir()) == []  # neither the output nor its temporary file is left
    with pytest.raises(Cancelled):
        job.wait()


def test_cancel_token_stops_a_blocking_run(tmp_path):
    token = CancelToken()

    def cancel_after_first_step(event):
        token.cancel()

    started = time.monotonic()
    with pytest.raises(Cancelled):
        _run(["--steps", "200", "--sleep", "0.05", "--output", tmp_path / "x.txt"],
             progress=cancel_after_first_step, cancel=token, grace_seconds=1.0)
    assert time.monotonic() - started < 8.0
    assert list(tmp_path.iterdir()) == []


def test_non_blocking_handle_polls_then_waits():
    job = _run(["--steps", "3", "--sleep", "0.05"], wait=False)
    assert job.command[-1] == "--progress-lines"
    result = job.wait(timeout=30)
    assert job.poll() == 0 and result.returncode == 0
    assert job.last_progress is not None and job.last_progress.fraction == 1.0


def test_library_cli_runs_through_the_runner():
    """The real ``python -m MedGANSynthLib`` as a child: an unknown command is an input error (exit 2)."""
    with pytest.raises(InputError) as caught:
        run_job(["no-such-command"], python=sys.executable)
    assert "no-such-command" in str(caught.value)
