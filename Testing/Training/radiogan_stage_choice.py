"""Session 22's RadioGAN rule applied to candidates scored on the selection split (HISTORY.md).

    .venv/bin/python Testing/Training/radiogan_stage_choice.py INCUMBENT.json CANDIDATE.json [CANDIDATE.json ...] \
        [--incumbent-specks 0.66]

Each file is the JSON that ``medgansynth evaluate-gan MODEL --against selection --json`` printed. A candidate
passes when (1) its worst class accuracy is at least the incumbent's, (2) its mean per-class feature-space recall
is at least the incumbent's, (3) every class's memorisation ratio (pixel space) is at least 0.9 with no near
copies, and (4) its share of MIPs with specks outside the body is at most the incumbent's. Among passing
candidates the highest worst-class accuracy wins (ties: the higher recall). Prints one row per model and the choice.
The incumbent's selection JSON (session 22) predates the speck count: its share measured on its own draw that
session (0.66, HISTORY.md) is passed with --incumbent-specks.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

MEMORISATION_TARGET = 0.9


def figures(path: Path, specks: float | None = None) -> dict:
    """The four numbers the rule reads, from one evaluate-gan JSON (``specks`` where the JSON has none)."""
    results = json.loads(path.read_text())["results"]
    if specks is None:
        specks = results["overall"]["specks_outside_body"]["generated"]["images_with_specks"]
    classes = results["per_class"].values()
    return {
        "worst": min(c["class_accuracy"] for c in classes),
        "recall": sum(c["precision_recall"]["generated"]["recall"] for c in classes) / len(classes),
        "memorisation": min(c["memorisation"]["ratio_pixel"] for c in classes),
        "copies": max(c["memorisation"]["flagged_fraction"] for c in classes),
        "specks": specks,
    }


def failed_criteria(candidate: dict, incumbent: dict) -> list[str]:
    checks = {
        "1 worst class": candidate["worst"] >= incumbent["worst"],
        "2 recall": candidate["recall"] >= incumbent["recall"],
        "3 memorisation": candidate["memorisation"] >= MEMORISATION_TARGET and candidate["copies"] == 0,
        "4 specks": candidate["specks"] <= incumbent["specks"],
    }
    return [name for name, passed in checks.items() if not passed]


def label(path: Path) -> str:
    """A stage's run and epoch (RUN/stages/epoch_N.selection.json), else the file's stem."""
    return f"{path.parents[1].name} {path.stem.split('.')[0]}" if path.parent.name == "stages" else path.stem


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("incumbent", type=Path)
    parser.add_argument("candidates", type=Path, nargs="+")
    parser.add_argument("--incumbent-specks", type=float, help="the incumbent's share of MIPs with specks, where "
                        "its JSON has none")
    args = parser.parse_args()
    incumbent = figures(args.incumbent, args.incumbent_specks)
    print("| model | worst class | recall, mean | memorisation, lowest class | near copies, highest class | "
          "MIPs with specks | fails |")
    print("|---|---|---|---|---|---|---|")
    rows = [(args.incumbent, incumbent, [])] + [(p, figures(p), None) for p in args.candidates]
    passing = []
    for path, row, fails in rows:
        fails = failed_criteria(row, incumbent) if fails is None else fails
        if path != args.incumbent and not fails:
            passing.append((row["worst"], row["recall"], path))
        print(f"| {label(path)} | {row['worst']:.2f} | {row['recall']:.2f} | {row['memorisation']:.2f} | "
              f"{row['copies']:.0%} | {row['specks']:.0%} | {', '.join(fails) or '-'} |")
    chosen = max(passing)[2] if passing else None
    print(f"chosen: {label(chosen) if chosen else 'the incumbent (no candidate passes)'}")


if __name__ == "__main__":
    main()
