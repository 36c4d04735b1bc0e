"""Session 33's rule for the next virtual-PET candidate (HISTORY.md): session 20's criteria plus organ levels.

Reads, for NAME in incumbent and candidate, RUN_ROOT/NAME_selection.json (evaluate-virtual-pet --json on the 16
selection phantoms), RUN_ROOT/NAME_real_ct.json (virtual_pet_real_ct_physiology.py --json) and
RUN_ROOT/NAME_bias_plain.json, RUN_ROOT/NAME_bias_pv.json (virtual_pet_organ_bias.py --json on the 8 unenhanced
phantoms of seed 246 and the 8 portal-venous of seed 247). Prints each criterion with both models' figures and
writes RUN_ROOT/organ_choice.json naming the chosen model. The rule was written before any candidate existed; this
file only computes it.

Usage: .venv/bin/python Testing/Training/virtual_pet_organ_choice.py RUN_ROOT
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from virtual_pet_real_ct_physiology import PUBLISHED  # noqa: E402
from virtual_pet_v2_choice import criteria as session_20_criteria  # noqa: E402
from virtual_pet_v2_choice import figures as session_20_figures  # noqa: E402
from virtual_pet_v2_choice import print_choice  # noqa: E402

BIAS_ORGANS = ("liver", "spleen", "muscle", "cancellous_bone")
REAL_CT_ORGANS = ("liver", "spleen", "muscle")
PORTAL_VENOUS_CT = "ct-dicom-thorax"  # the real portal-venous CT, the one with a spleen in view


def organ_error(bias_files: list[Path]) -> float:
    """Mean over the organs and phantom sets of |blended - true|, from the script's per-organ means."""
    errors = [abs(organs[name]["blended"] - organs[name]["true"])
              for organs in (json.loads(path.read_text())["organs"] for path in bias_files) for name in BIAS_ORGANS]
    return sum(errors) / len(errors)


def distance_outside(value: float | None, low: float, high: float) -> float:
    """How far a mean lies outside [low, high]; an organ not found counts as 0 (it is in neither model's figure)."""
    return 0.0 if value is None else max(low - value, 0.0, value - high)


def real_ct_organs(path: Path) -> dict[str, float]:
    """On the product's output (outside the body zeroed): the summed distance outside the published ranges, and
    the portal-venous CT's spleen minus liver."""
    cases = [case for case in json.loads(path.read_text())["cases"] if case["outside_body"] == "zero"]
    outside = sum(distance_outside(case[f"{organ}_mean"], *PUBLISHED[organ]) for case in cases
                  for organ in REAL_CT_ORGANS)
    venous = next(case for case in cases if case["ct"] == PORTAL_VENOUS_CT)
    return {"outside_published": round(outside, 4), "spleen_minus_liver": venous["spleen_mean"] - venous["liver_mean"]}


def figures(root: Path, name: str) -> dict:
    return {**session_20_figures(root, name),
            "organ_error": organ_error([root / f"{name}_bias_plain.json", root / f"{name}_bias_pv.json"]),
            **real_ct_organs(root / f"{name}_real_ct.json")}


def criteria(old: dict, new: dict) -> dict[str, bool]:
    earlier = session_20_criteria(old, new)
    return {**earlier,
            "3. phantom organs |blended - true| <= incumbent's": new["organ_error"] <= old["organ_error"],
            "4a. real-CT organs outside published <= incumbent's": new["outside_published"] <= old["outside_published"],
            "4b. real-CT spleen - liver <= incumbent's": new["spleen_minus_liver"] <= old["spleen_minus_liver"]}


def main(root: Path) -> None:
    old, new = figures(root, "incumbent"), figures(root, "candidate")
    passed = criteria(old, new)
    chosen = print_choice(old, new, passed)
    (root / "organ_choice.json").write_text(json.dumps(
        {"chosen": chosen, "criteria": passed, "incumbent": old, "candidate": new}, indent=2) + "\n")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__.splitlines()[-1])
    main(Path(sys.argv[1]))
