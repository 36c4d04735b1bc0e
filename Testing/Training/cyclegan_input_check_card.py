"""Store what the input check did on held-out phantom CTs, real CTs and non-CT images in the CycleGAN's card.

Reads the rows cycle_error_scores.py --model wrote (cycle_error_scores.json) and writes metrics.input_check: per
group (phantom CT, real CT, not CT) how many inputs were scored, how many the check warned about, and the range of
their median per-slice cycle errors; the rows themselves are kept. Tensors and checksum unchanged.

    .venv/bin/python Testing/Training/cyclegan_input_check_card.py CARD.json cycle_error_scores.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from MedGANSynthLib.virtual_pet.weights import update_card_metrics  # noqa: E402


def summary(rows: list[dict]) -> dict[str, dict]:
    groups: dict[str, dict] = {}
    for row in rows:
        group = groups.setdefault(row["group"], {"scored": 0, "warned": 0, "median_slice_mae_hu": []})
        group["scored"] += 1
        group["warned"] += int(bool(row["input_check_warns"]))
        group["median_slice_mae_hu"].append(row["median_slice_mae_hu"])
    for group in groups.values():
        errors = group.pop("median_slice_mae_hu")
        group["median_slice_mae_hu_range"] = [min(errors), max(errors)]
    return groups


def main(card: Path, scores: Path) -> None:
    rows = json.loads(scores.read_text())
    keep = ("input", "group", "median_slice_mae_hu", "input_check_warns")
    update_card_metrics(card, {"input_check": {"groups": summary(rows),
                                               "rows": [{key: row[key] for key in keep} for row in rows]}})
    for name, group in summary(rows).items():
        print(f"{name}: {group['warned']} of {group['scored']} warned")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__.splitlines()[-1])
    main(Path(sys.argv[1]), Path(sys.argv[2]))
