"""Apply the selection rule of train_virtual_pet_v2.sh to the scores it wrote, and record the choice.

Reads RUN_ROOT/{incumbent,candidate}_selection.json (evaluate-virtual-pet --json on the selection phantoms) and
RUN_ROOT/{incumbent,candidate}_real_ct.json (virtual_pet_real_ct_physiology.py --json), prints each criterion with
both models' figures, and writes RUN_ROOT/vN_choice.json naming the chosen model (N: the phantom version the
candidate learned from, 2 unless given). The rule is the one written in
the shell script before any candidate was scored; this file only computes it.

Usage: .venv/bin/python Testing/Training/virtual_pet_v2_choice.py RUN_ROOT [PHANTOM_VERSION]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

MUSCLE_MIDDLE = 0.8  # the middle of the published skeletal-muscle FDG SUVmean, 0.6-1.0
TPR_SLACK = 0.05
INCUMBENT = "Resources/Models/virtual_pet_phantom.safetensors"


def figures(root: Path, name: str) -> dict[str, float]:
    blended = json.loads((root / f"{name}_selection.json").read_text())["overall"]["blended"]
    real = [case for case in json.loads((root / f"{name}_real_ct.json").read_text())["cases"]
            if case.get("outside_body", "keep") == "keep"]  # the networks' own output, as the rule was written for
    return {"tpr_margin": blended["tpr_margin"], "fp_margin_per_scan": blended["fp_margin_per_scan"],
            "ssim": blended["ssim"], "tpr": blended["tpr"], "fp_per_scan": blended["fp_per_scan"],
            "muscle_error": sum(abs(case["muscle_mean"] - MUSCLE_MIDDLE) for case in real) / len(real),
            "outside_body_max": max(case["outside_body_max"] for case in real),
            "muscle_means": [case["muscle_mean"] for case in real], "fat_means": [case["fat_mean"] for case in real]}


def criteria(old: dict[str, float], new: dict[str, float]) -> dict[str, bool]:
    return {"1. FP per scan (margin) <= incumbent's": new["fp_margin_per_scan"] <= old["fp_margin_per_scan"],
            "2. TPR (margin) >= incumbent's - 0.05": new["tpr_margin"] >= old["tpr_margin"] - TPR_SLACK,
            "3a. real-CT |muscle - 0.8| <= incumbent's": new["muscle_error"] <= old["muscle_error"],
            "3b. real-CT max outside body <= incumbent's": new["outside_body_max"] <= old["outside_body_max"]}


def print_choice(old: dict, new: dict, passed: dict[str, bool]) -> str:
    """Prints both models' figures and each criterion; returns the choice (the candidate only if all pass)."""
    for key in old:
        print(f"{key:20s} incumbent {old[key]!s:28s} candidate {new[key]!s}")
    for name, ok in passed.items():
        print(f"{'PASS' if ok else 'FAIL'}  {name}")
    chosen = "candidate" if all(passed.values()) else "incumbent"
    print(f"chosen: {chosen}")
    return chosen


def main(root: Path, version: int = 2) -> None:
    old, new = figures(root, "incumbent"), figures(root, "candidate")
    passed = criteria(old, new)
    chosen = print_choice(old, new, passed)
    model = INCUMBENT if chosen == "incumbent" else str(root / f"virtual_pet_v{version}/weights/virtual_pet.safetensors")
    (root / f"v{version}_choice.json").write_text(json.dumps(
        {"chosen": chosen, "chosen_model": model, "criteria": passed, "incumbent": old, "candidate": new},
        indent=2) + "\n")


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        raise SystemExit(__doc__.splitlines()[-1])
    main(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) == 3 else 2)
