"""Peak resident memory (RSS) of a process itself, not of the process that started it (Linux).

A child's ``ru_maxrss`` (``getrusage(RUSAGE_CHILDREN)``, ``os.wait4``) also holds the RSS high-water mark of the
memory it ran in before its exec: Python's ``subprocess`` starts children with vfork, so that is the starting
process's own peak. A test process holding 500 MB made an 11 MB child report 728 MB (Benchmarks README). ``run_with_peak_rss``
therefore starts the command from a small launcher (this file run as a script: a fresh Python importing nothing
heavy) that spawns the command and reports the command's ``os.wait4`` resource usage; all the command inherits is
the launcher's ~14 MB. ``own_peak_rss_bytes`` is the calling process's own high-water mark (``VmHWM``).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ChildRun:
    """A finished command: its exit code, output, and its own resources (with its descendants that it waited for)."""

    returncode: int
    stdout: str
    stderr: str
    peak_rss_bytes: int
    cpu_seconds: float
    """User plus system CPU time, all threads."""
    wall_seconds: float


def own_peak_rss_bytes() -> int:
    """This process's RSS high-water mark so far, from ``/proc/self/status`` (``ru_maxrss`` of RUSAGE_SELF would
    also hold the starting process's peak)."""
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmHWM:"))


def run_with_peak_rss(command: list[str], cwd: str | Path | None = None, env: dict | None = None,
                      timeout: float | None = None) -> ChildRun:
    """Run ``command`` through the launcher, its output captured as text. On ``timeout`` the launcher and the
    command are both killed (they share a new process group) and ``subprocess.TimeoutExpired`` is raised."""
    with tempfile.TemporaryDirectory(prefix="peak-rss-") as folder:
        report = Path(folder) / "usage.json"
        launcher_command = [sys.executable, str(Path(__file__).resolve()), str(report), *command]
        launcher = subprocess.Popen(launcher_command, cwd=cwd, env=env, text=True, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, start_new_session=True)
        try:
            stdout, stderr = launcher.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(launcher.pid, signal.SIGKILL)
            launcher.communicate()
            raise
        if not report.is_file():  # the launcher itself failed, e.g. the command does not exist
            raise RuntimeError(f"could not run {command[0]}: {stderr.strip()[-500:]}")
        usage = json.loads(report.read_text())
    return ChildRun(launcher.returncode, stdout, stderr, **usage)


def _launch(report: str, command: list[str]) -> int:
    """Launcher body: spawn ``command`` with this process's streams, wait, write its usage to ``report``."""
    started = time.perf_counter()
    pid = os.posix_spawnp(command[0], command, os.environ)
    _, status, usage = os.wait4(pid, 0)
    Path(report).write_text(json.dumps({
        "peak_rss_bytes": usage.ru_maxrss * 1024,  # Linux reports kilobytes
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "wall_seconds": time.perf_counter() - started,
    }))
    code = os.waitstatus_to_exitcode(status)
    return code if code >= 0 else 128 - code  # killed by a signal: the shell's convention


if __name__ == "__main__":
    sys.exit(_launch(sys.argv[1], sys.argv[2:]))
