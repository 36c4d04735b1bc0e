"""The benchmarks' child-process memory measure (Testing/Benchmarks/peak_rss.py) reports the child's own peak.

The reference numbers are the child's own ``/proc/self/status`` (VmHWM, VmRSS), read by the child, and the bytes it
allocates. The parent holds 500 MB while the child runs: a plain child's ``ru_maxrss`` would report that instead.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "Testing" / "Benchmarks"))
from peak_rss import own_peak_rss_bytes, run_with_peak_rss  # noqa: E402

pytestmark = pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="reads Linux's /proc")

MIB = 2**20
PARENT_HOLDS = 500 * MIB
CHILD = """
import json, sys, time
def status(key):
    with open("/proc/self/status") as lines:
        return next(int(line.split()[1]) * 1024 for line in lines if line.startswith(key + ":"))
before = status("VmRSS")
block = b"x" * (int(sys.argv[1]) * 2**20)  # written, so every page is resident
print(json.dumps({"rss_before": before, "hwm": status("VmHWM"), "cpu": time.process_time()}))
"""
LAUNCHER_AND_SLACK = 40 * MIB
"""The most a child may inherit from the launcher (a bare Python, ~14 MB) plus what it touches after its report."""


@pytest.fixture
def parent_holding_500_mb():
    held = b"x" * PARENT_HOLDS
    assert own_peak_rss_bytes() >= PARENT_HOLDS
    yield
    del held


@pytest.mark.parametrize("allocates_mb", [0, 300])
def test_the_peak_is_the_childs_own_not_the_parents(parent_holding_500_mb, allocates_mb):
    run = run_with_peak_rss([sys.executable, "-c", CHILD, str(allocates_mb)], timeout=120)
    assert run.returncode == 0, run.stderr
    child = json.loads(run.stdout)
    assert run.peak_rss_bytes >= child["rss_before"] + allocates_mb * MIB - 4 * MIB  # what it held plus the block
    # The kernel's RSS counters are batched per CPU: ru_maxrss was measured ~0.1 MB below VmHWM.
    assert child["hwm"] - 2 * MIB <= run.peak_rss_bytes <= max(child["hwm"], LAUNCHER_AND_SLACK)
    assert run.peak_rss_bytes < PARENT_HOLDS  # 0 MB: ~11 MB; 300 MB: ~311 MB


def test_a_plain_childs_ru_maxrss_holds_the_parents_peak(parent_holding_500_mb):
    """Why the launcher exists: the same small child started directly reports the parent's 500 MB."""
    child = subprocess.Popen([sys.executable, "-c", CHILD, "0"], stdout=subprocess.PIPE, text=True)
    own = json.loads(child.stdout.read())
    _, _, usage = os.wait4(child.pid, 0)
    child.stdout.close()
    assert own["hwm"] < 100 * MIB <= PARENT_HOLDS <= usage.ru_maxrss * 1024


def test_exit_code_output_and_cpu_time_come_through():
    burn = "import sys, time\nwhile time.process_time() < 0.3: pass\nprint('done'); sys.exit(3)"
    run = run_with_peak_rss([sys.executable, "-c", burn], timeout=120)
    assert (run.returncode, run.stdout) == (3, "done\n")
    assert 0.3 <= run.cpu_seconds <= run.wall_seconds + 0.1


def test_a_timeout_kills_the_command_too(tmp_path):
    pid_file = tmp_path / "pid"
    sleeper = f"import os, time\nopen({str(pid_file)!r}, 'w').write(str(os.getpid()))\ntime.sleep(120)"
    with pytest.raises(subprocess.TimeoutExpired):
        run_with_peak_rss([sys.executable, "-c", sleeper], timeout=5)
    stat = Path("/proc") / pid_file.read_text() / "stat"
    deadline = time.monotonic() + 10
    while _alive(stat) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(stat)


def _alive(stat: Path) -> bool:
    """Running or sleeping; a zombie (killed, not yet reaped by whoever adopted it) is dead."""
    try:
        return stat.read_text().rsplit(")", 1)[1].split()[0] not in "ZX"
    except FileNotFoundError:
        return False
