"""train-cyclegan under torchrun: two CPU ranks (gloo), the generators called several times per step under DDP."""

from __future__ import annotations

import json

from cyclegan_data import write_unpaired_folders
from test_ddp import _torchrun

from MedGANSynthLib.jobs.progress import Progress
from MedGANSynthLib.training.checkpoint import checkpoint_path, load_checkpoint


def test_train_cyclegan_under_torchrun(tmp_path):
    folder_a, folder_b = write_unpaired_folders(tmp_path)
    run = tmp_path / "run"
    done = _torchrun("-m", "MedGANSynthLib", "train-cyclegan", "--data-a", str(folder_a), "--data-b", str(folder_b),
                     "-o", str(run), "--epochs", "2", "--batch-size", "2", "--image-size", "32", "--width", "0.125",
                     "--residual-blocks", "1", "--device", "cpu", "--progress-lines", "--json", cwd=tmp_path, run=run)
    assert done.returncode == 0, done.stderr[-3000:]
    events = [e for e in (Progress.from_line(line) for line in done.stdout.splitlines()) if e is not None]
    # 12 items / 2 ranks = 6 each, batch 2 -> 3 steps per epoch; only rank 0 reports
    assert [event.done for event in events if event.stage == "train"] == [1, 2, 3, 4, 5, 6]
    summary = json.loads("\n".join(line for line in done.stdout.splitlines() if Progress.from_line(line) is None))
    assert summary["world_size"] == 2 and summary["global_step"] == 6
    assert load_checkpoint(checkpoint_path(run))["epoch"] == 2
    assert (run / "weights" / "cyclegan.safetensors").is_file()
