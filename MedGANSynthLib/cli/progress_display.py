"""Turn library progress events into a tqdm bar (people) or JSON lines (the Slicer module's child process)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from tqdm import tqdm

from MedGANSynthLib.jobs.progress import Progress, ProgressCallback, print_progress_line


@contextmanager
def progress_display(machine_lines: bool, quiet: bool = False) -> Iterator[ProgressCallback]:
    """Yield a callback; one tqdm bar per stage, closed when the stage changes or the block ends. ``quiet``
    (``--quiet``) shows no bar; machine lines (``--progress-lines``, the Slicer module's protocol) still flow."""
    if machine_lines:
        yield print_progress_line
        return
    if quiet:
        yield _silent
        return
    bars: dict[str, tqdm] = {}

    def show(event: Progress) -> None:
        bar = bars.get(event.stage)
        if bar is None:
            for other in bars.values():
                other.close()
            bars.clear()
            bar = bars[event.stage] = tqdm(total=event.total, desc=event.stage, file=sys.stderr, leave=False)
        bar.total = event.total
        bar.n = event.done
        if event.values:
            bar.set_postfix({k: v for k, v in event.values.items() if isinstance(v, (int, float, str))})
        bar.refresh()

    try:
        yield show
    finally:
        for bar in bars.values():
            bar.close()


def _silent(event: Progress) -> None:
    """Progress under --quiet: nothing shown."""
