"""Apply session 31's blend-base rule (HISTORY.md) to the scores blend_base.sh wrote, and record the choice.

The candidate is the bundled networks with ``--blend-base-levels 1``; the incumbent, the bundled card. Session 20's
rule (virtual_pet_v2_choice.criteria) must hold on the 48 fresh selection phantoms (RUN_ROOT/NAME_sel48.json) and on
all 64 pooled with the first 16 (RUN_ROOT/NAME_selection.json, lesions and false positives summed); the real-CT
criteria come from RUN_ROOT/NAME_real_ct.json. Writes RUN_ROOT/v5_choice.json ({"chosen": "candidate" or
"incumbent", ...}), which install_virtual_pet_v2.py reads to record the chosen blend's real-CT figures. The rule was
written before the 48 phantoms were made; this file only computes it. With ``--record-selection`` (after the
choice) it stores the candidate's selection figures in the bundled card instead.

Usage: .venv/bin/python Testing/Training/blend_base_choice.py RUN_ROOT [--record-selection]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from virtual_pet_v2_choice import criteria, figures

from MedGANSynthLib.virtual_pet.inference import POSTPROCESSING_KEYS
from MedGANSynthLib.virtual_pet.weights import update_card_metrics

CARD = Path(__file__).resolve().parents[2] / "Resources" / "Models" / "virtual_pet_phantom.json"


def blended(root: Path, name: str, scored: str) -> dict:
    return json.loads((root / f"{name}_{scored}.json").read_text())["overall"]["blended"]


def detection(scores: list[dict]) -> dict[str, float]:
    """Margin TPR and false positives per scan over several scored sets, as if they were one."""
    lesions = sum(s["true_lesions"] for s in scores)
    scans = sum(s["labelled_scans"] for s in scores)
    return {"tpr_margin": sum(s["tpr_margin"] * s["true_lesions"] for s in scores) / lesions,
            "fp_margin_per_scan": sum(s["fp_margin_per_scan"] * s["labelled_scans"] for s in scores) / scans}


def judged_on(root: Path, sets: tuple[str, ...]) -> dict[str, bool]:
    old, new = ({**figures(root, name), **detection([blended(root, name, s) for s in sets])}
                for name in ("incumbent", "candidate"))
    print(f"on {' + '.join(sets)}: TPR {new['tpr_margin']:.3f} (incumbent {old['tpr_margin']:.3f}), false positives "
          f"per scan {new['fp_margin_per_scan']:.2f} ({old['fp_margin_per_scan']:.2f}), real-CT |muscle - 0.8| "
          f"{new['muscle_error']:.3f} ({old['muscle_error']:.3f}), outside the body {new['outside_body_max']} "
          f"({old['outside_body_max']})")
    passed = criteria(old, new)
    for name, ok in passed.items():
        print(f"  {'PASS' if ok else 'FAIL'}  {name}")
    return passed


def main(root: Path) -> None:
    verdicts = {"48 fresh": judged_on(root, ("sel48",)), "64 pooled": judged_on(root, ("selection", "sel48"))}
    chosen = "candidate" if all(all(v.values()) for v in verdicts.values()) else "incumbent"
    print(f"chosen: {chosen}")
    (root / "v5_choice.json").write_text(json.dumps({"chosen": chosen, "criteria": verdicts}, indent=2) + "\n")


def record_selection(root: Path) -> None:
    """The chosen blend's figures on the 16 selection phantoms, with its detection rule and the 48-phantom retest."""
    results = json.loads((root / "candidate_selection" / "results.json").read_text())
    retest, before = blended(root, "candidate", "sel48"), blended(root, "incumbent", "sel48")
    rule = {key: results[key] for key in ("threshold_suv", "min_volume_ml", *POSTPROCESSING_KEYS)}
    phantoms = (f"16 version-5 phantoms (8 without contrast, seed 43; 8 portal-venous, seed 44) on which this model "
                f"was chosen in session 26 and its blend base in session 31, scored at float32; optimistic. On 48 more "
                f"(seeds 143 and 144) this blend finds {retest['tpr_margin']:.2f} of {retest['true_lesions']} lesions "
                f"at {retest['fp_margin_per_scan']:.1f} false positives per scan (margin rule), the paper's base "
                f"{before['tpr_margin']:.2f} at {before['fp_margin_per_scan']:.1f}")
    update_card_metrics(CARD, {"selection": {"data": results["data"], "scans": results["scans"], **rule,
                                             **results["overall"], "phantoms": phantoms}})


if __name__ == "__main__":
    arguments = [a for a in sys.argv[1:] if a != "--record-selection"]
    if len(arguments) != 1:
        raise SystemExit(__doc__.splitlines()[-1])
    (record_selection if "--record-selection" in sys.argv else main)(Path(arguments[0]))
