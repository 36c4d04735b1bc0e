"""Apply the blend-veto rule of HISTORY.md (session 27) to the scores blend_veto.sh wrote, and record the choice.

Reads RUN_ROOT/{fcn,vetoV}_selection.json (evaluate-virtual-pet --json on the selection phantoms) and
RUN_ROOT/{fcn,vetoV}_real_ct.json (virtual_pet_real_ct_physiology.py --json); ``fcn`` is the paper's blend. A level
passes when, against the paper's blend: (1) margin false positives per scan <= 0.8 x, (2) margin TPR >= - 0.02,
(3) blended SSIM >= - 0.01, (4) on each real CT the muscle mean, and over both the largest value outside the body,
no higher. Chosen: the passing level with the fewest margin false positives, else the paper's blend. Writes
RUN_ROOT/v5_choice.json ({"chosen": "vetoV" or "fcn", ...}), which install_virtual_pet_v2.py reads to record the
chosen blend's real-CT figures. The rule was written before any level was scored; this file only computes it.

Usage: .venv/bin/python Testing/Training/blend_veto_choice.py RUN_ROOT LEVEL...
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from virtual_pet_v2_choice import figures

FP_RATIO, TPR_SLACK, SSIM_SLACK = 0.8, 0.02, 0.01


def criteria(paper: dict, level: dict) -> dict[str, bool]:
    return {
        "1. FP per scan (margin) <= 0.8 x the paper blend's": level["fp_margin_per_scan"] <= FP_RATIO * paper["fp_margin_per_scan"],
        "2. TPR (margin) >= the paper blend's - 0.02": level["tpr_margin"] >= paper["tpr_margin"] - TPR_SLACK,
        "3. SSIM >= the paper blend's - 0.01": level["ssim"] >= paper["ssim"] - SSIM_SLACK,
        "4. real-CT muscle (each CT) and max outside the body no higher": all(
            new <= old for new, old in zip(level["muscle_means"], paper["muscle_means"], strict=True))
        and level["outside_body_max"] <= paper["outside_body_max"],
    }


def main(root: Path, levels: list[str]) -> None:
    paper = figures(root, "fcn")
    passing = {}
    for level in levels:
        scores = figures(root, f"veto{level}")
        passed = criteria(paper, scores)
        print(f"veto {level}: TPR {scores['tpr_margin']:.3f} (paper {paper['tpr_margin']:.3f}), FP "
              f"{scores['fp_margin_per_scan']:.2f} ({paper['fp_margin_per_scan']:.2f}), SSIM {scores['ssim']:.3f} "
              f"({paper['ssim']:.3f}), muscle {scores['muscle_means']} ({paper['muscle_means']}), outside "
              f"{scores['outside_body_max']} ({paper['outside_body_max']})")
        for name, ok in passed.items():
            print(f"  {'PASS' if ok else 'FAIL'}  {name}")
        if all(passed.values()):
            passing[level] = scores["fp_margin_per_scan"]
    chosen = f"veto{min(passing, key=passing.get)}" if passing else "fcn"
    print(f"chosen: {chosen}")
    (root / "v5_choice.json").write_text(json.dumps({"chosen": chosen, "passing": passing}, indent=2) + "\n")


if __name__ == "__main__":
    if len(sys.argv) < 3:
        raise SystemExit(__doc__.splitlines()[-1])
    main(Path(sys.argv[1]), sys.argv[2:])
