"""The CT GAN stage rule (Testing/Training/ct_gan_stage_choice.py) on stage files written here, in the shapes
`medgansynth evaluate-gan --json` and `ct_gan_real_ct_tissues.py --json` print them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

TRAINING = Path(__file__).resolve().parents[1] / "Training"
sys.path.insert(0, str(TRAINING))

from ct_gan_stage_choice import choose, failed_criteria, figures  # noqa: E402

DATA = {"lung": 0.25, "fat": 0.18, "soft": 0.43, "bone": 0.08, "sample_mean_hu_sd": 40.0}


def write_stage(stages: Path, epoch: int, *, memorisation=1.5, copies=0.0, grid=1.2, shift=0.0, sd=48.0) -> Path:
    """A stage whose generated shares are the data's with ``shift`` moved from soft tissue to lung."""
    stage = stages / f"epoch_{epoch}"
    scored = {"memorisation": {"ratio_pixel": memorisation, "flagged_fraction": copies}, "grid_texture": {"ratio": grid}}
    (stages / f"epoch_{epoch}.selection.json").write_text(json.dumps({"results": {"per_class": {"ct_gan": scored}}}))
    generated = {**DATA, "lung": DATA["lung"] + shift, "soft": DATA["soft"] - shift, "sample_mean_hu_sd": sd}
    rows = {"real CT at the liver (TotalSegmentator)": DATA, "phantom selection: /runs/data/ct": DATA,
            "generated: x.safetensors": generated}
    (stages / f"epoch_{epoch}.tissues.json").write_text(json.dumps(rows))
    return stage


@pytest.fixture()
def stages(tmp_path):
    folder = tmp_path / "ct_gan_64_ema" / "stages"
    folder.mkdir(parents=True)
    return folder


def test_each_criterion_fails_on_its_own_number(stages):
    cases = {"1 memorisation": dict(memorisation=0.89), "2 grid texture": dict(grid=2.0),
             "3 tissue shares": dict(shift=0.11), "4 spread": dict(sd=61.0)}
    for epoch, (criterion, change) in enumerate(cases.items(), start=1):
        assert failed_criteria(figures(write_stage(stages, epoch, **change))) == [criterion]
    assert failed_criteria(figures(write_stage(stages, 9, copies=0.01))) == ["1 memorisation"]
    # on the limits (the gap just inside 0.10: shares are sums of floats): memorisation 0.9 and spread 1.5 x pass
    assert failed_criteria(figures(write_stage(stages, 10, memorisation=0.9, shift=0.0999, sd=60.0))) == []


def test_the_passing_stage_with_the_smallest_largest_gap_wins(stages):
    found = {epoch: figures(write_stage(stages, epoch, shift=shift, grid=grid))
             for epoch, shift, grid in ((80, 0.08, 1.2), (120, 0.05, 1.9), (160, 0.01, 3.0))}
    assert found[120]["largest_gap"] == pytest.approx(0.05)
    assert choose(found) == 120
    assert choose({160: found[160]}) is None


def test_the_script_prints_every_stage_and_its_choice(stages):
    paths = [str(write_stage(stages, 80, shift=0.2)), str(write_stage(stages, 120, shift=0.02))]
    out = subprocess.run([sys.executable, str(TRAINING / "ct_gan_stage_choice.py"), *paths], capture_output=True,
                         text=True, check=True).stdout
    assert "epoch_80" in out and "3 tissue shares" in out
    assert out.strip().splitlines()[-1] == "choice: ct_gan_64_ema epoch_120"
