"""Tables and the decision of the phantom -> realistic CT experiment (phantom_to_real_ct.sh wrote the inputs).

Reads OUT/{raw,translated}_real_ct.json (virtual_pet_real_ct_physiology.py --json) and
OUT/{raw,translated}_on_{cut_held,translated_held}.json (evaluate-virtual-pet --json), prints both, applies the rule
written in the shell script before training, and writes OUT/decision.json.

Usage: .venv/bin/python Testing/Training/phantom_to_real_ct_report.py OUT
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

MUSCLE_MIDDLE = 0.8  # the middle of the published skeletal-muscle FDG SUVmean band, 0.6-1.0
ARMS = ("raw", "translated")


def real_ct(out: Path, arm: str) -> list[dict]:
    return json.loads((out / f"{arm}_real_ct.json").read_text())["cases"]


def balance(case: dict) -> float:
    """How far the left/right muscle ratio is from 1, symmetric in the two sides (|log ratio|)."""
    return abs(math.log(max(case["muscle_left_mean"], 1e-6) / max(case["muscle_right_mean"], 1e-6)))


def better_on(raw: dict, translated: dict) -> dict[str, bool]:
    return {"muscle closer to 0.8": abs(translated["muscle_mean"] - MUSCLE_MIDDLE)
            < abs(raw["muscle_mean"] - MUSCLE_MIDDLE),
            "left/right closer to 1": balance(translated) < balance(raw),
            "fat below muscle": translated["fat_mean"] < translated["muscle_mean"]}


def main(out: Path) -> None:
    cases = {arm: real_ct(out, arm) for arm in ARMS}
    print("| real CT | arm | muscle (left / right) | fat | min SUV | max outside body |\n|---|---|---|---|---|---|")
    for index, case in enumerate(cases["raw"]):
        for arm in ARMS:
            c = cases[arm][index]
            print(f"| {case['ct']} | {arm} | {c['muscle_mean']:.2f} ({c['muscle_left_mean']:.2f} / "
                  f"{c['muscle_right_mean']:.2f}) | {c['fat_mean']:.2f} | {c['suv_min']:.2f} | "
                  f"{c['outside_body_max']:.2f} |")
    print("\n| held-out cut phantoms (24) | arm | margin TPR | margin FP / scan | SSIM | MAE (SUV) |\n|---|---|---|---|---|---|")
    for held in ("cut_held", "translated_held"):
        for arm in ARMS:
            path = out / f"{arm}_on_{held}.json"
            if path.exists():
                b = json.loads(path.read_text())["overall"]["blended"]
                print(f"| {held} | {arm} | {b['tpr_margin']:.2f} | {b['fp_margin_per_scan']:.1f} | {b['ssim']:.3f} | "
                      f"{b['mae_suv']:.3f} |")
    checks = {case["ct"]: better_on(case, cases["translated"][i]) for i, case in enumerate(cases["raw"])}
    translated_better = all(all(c.values()) for c in checks.values())
    for ct, c in checks.items():
        print(f"{ct}: " + ", ".join(f"{'PASS' if ok else 'FAIL'} {name}" for name, ok in c.items()))
    print(f"translated better on patient CT: {'yes' if translated_better else 'no'}")
    (out / "decision.json").write_text(json.dumps({"translated_better": translated_better, "checks": checks},
                                                  indent=2) + "\n")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__.splitlines()[-1])
    main(Path(sys.argv[1]))
