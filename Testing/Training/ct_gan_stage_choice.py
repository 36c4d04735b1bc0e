"""Session 23's CT GAN rule applied to the stages of a 64 x 64 run, scored on the selection slices (HISTORY.md).

    .venv/bin/python Testing/Training/ct_gan_stage_choice.py RUN/stages/epoch_80 [RUN/stages/epoch_120 ...]

Each STAGE stands for two files beside it: STAGE.selection.json (``medgansynth evaluate-gan STAGE/ct_gan.safetensors
--against selection --json``) and STAGE.tissues.json (``ct_gan_real_ct_tissues.py STAGE/ct_gan.safetensors --data
ROOT --split selection --json``). A stage passes when (1) its memorisation ratio (pixel space) is at least 0.9 with
no near copies, (2) its grid-texture ratio (generated / selection slices) is below 2 and below the incumbent's 17.1
(session 22), (3) each tissue share (lung, fat, soft tissue, bone) lies within 0.10 of the selection slices' and
(4) the SD of its per-sample mean HU is at most 1.5 times the selection slices'. Among passing stages the one with
the smallest largest tissue-share gap wins. Prints one row per stage and the choice.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

MEMORISATION_TARGET = 0.9
GRID_RATIO_LIMIT = 2.0
INCUMBENT_GRID_RATIO = 17.1  # the bundled 40 x 40 model on its own held-out slices (HISTORY.md, session 22)
SHARE_GAP_LIMIT = 0.10
SPREAD_FACTOR_LIMIT = 1.5
TISSUES = ("lung", "fat", "soft", "bone")


def _row(rows: dict, prefix: str) -> dict:
    return next(row for name, row in rows.items() if name.startswith(prefix))


def figures(stage: Path) -> dict:
    """The numbers the rule reads, from a stage's two JSON files."""
    scored = json.loads(stage.with_name(stage.name + ".selection.json").read_text())["results"]["per_class"]["ct_gan"]
    rows = json.loads(stage.with_name(stage.name + ".tissues.json").read_text())
    data, generated = _row(rows, "phantom selection"), _row(rows, "generated")
    gaps = {name: abs(generated[name] - data[name]) for name in TISSUES}
    return {
        "memorisation": scored["memorisation"]["ratio_pixel"],
        "copies": scored["memorisation"]["flagged_fraction"],
        "grid_ratio": scored["grid_texture"]["ratio"],
        "largest_gap": max(gaps.values()),
        "gaps": gaps,
        "spread_factor": generated["sample_mean_hu_sd"] / data["sample_mean_hu_sd"],
    }


def failed_criteria(stage: dict) -> list[str]:
    checks = {
        "1 memorisation": stage["memorisation"] >= MEMORISATION_TARGET and stage["copies"] == 0,
        "2 grid texture": stage["grid_ratio"] < min(GRID_RATIO_LIMIT, INCUMBENT_GRID_RATIO),
        "3 tissue shares": stage["largest_gap"] <= SHARE_GAP_LIMIT,
        "4 spread": stage["spread_factor"] <= SPREAD_FACTOR_LIMIT,
    }
    return [name for name, passed in checks.items() if not passed]


def choose(stages: dict[str, dict]) -> str | None:
    """The passing stage with the smallest largest tissue-share gap, or None when none passes."""
    passing = [name for name, stage in stages.items() if not failed_criteria(stage)]
    return min(passing, key=lambda name: stages[name]["largest_gap"]) if passing else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stages", type=Path, nargs="+")
    args = parser.parse_args()
    stages = {f"{path.parents[1].name} {path.name}": figures(path) for path in args.stages}
    print(f"{'stage':36s} {'memo':>5s} {'copies':>6s} {'grid':>6s} "
          + " ".join(f"{name:>5s}" for name in TISSUES) + f" {'spread':>6s}  fails")
    for name, stage in stages.items():
        print(f"{name:36s} {stage['memorisation']:5.2f} {stage['copies']:6.0%} {stage['grid_ratio']:6.2f} "
              + " ".join(f"{stage['gaps'][t]:5.3f}" for t in TISSUES)
              + f" {stage['spread_factor']:6.2f}  {', '.join(failed_criteria(stage)) or 'none'}")
    winner = choose(stages)
    print(f"choice: {winner}" if winner else "choice: none passes; the incumbent stays")


if __name__ == "__main__":
    main()
