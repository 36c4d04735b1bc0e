"""Which phantom lesions the virtual PET misses under the margin rule (issue 29), by lesion site and size.

    .venv/bin/python Testing/Training/virtual_pet_margin_misses.py EVAL/results.json [--method blended]

Reads an ``evaluate-virtual-pet`` results.json (its ``margin_missed_lesions`` per scan) and each phantom case's
manifest.json (lesion id, class, site, diameter, the SUVmax it was drawn with) from the evaluated data folder, and prints the found
and missed lesions per site and per diameter band, then every missed lesion.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

DIAMETER_BANDS_MM = (10.0, 15.0, 20.0, 30.0)


def _band(diameter_mm: float) -> str:
    low = 0.0
    for high in DIAMETER_BANDS_MM:
        if diameter_mm < high:
            return f"{low:g}-{high:g} mm"
        low = high
    return f">= {low:g} mm"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results", type=Path)
    parser.add_argument("--method", default="blended", choices=("fcn", "gan", "blended"))
    args = parser.parse_args()
    results = json.loads(args.results.read_text())
    data = Path(results["data"])
    total, missed_count, missed = Counter(), Counter(), []
    for scan in results["per_scan"]:
        entry = scan[args.method]
        if "margin_missed_lesions" not in entry:
            raise SystemExit(f"{args.results} has no margin_missed_lesions: score it with this version's evaluation.")
        lesions = json.loads((data / scan["case_id"] / "manifest.json").read_text())["lesions"]
        for lesion in lesions:
            keys = (f"site {lesion['class']}/{lesion['site']}", f"diameter {_band(lesion['diameter_mm'])}")
            total.update(keys)
            if lesion["id"] in entry["margin_missed_lesions"]:
                missed_count.update(keys)
                missed.append((scan["case_id"], lesion))
    print(f"{args.method}: {sum(missed_count[k] for k in total if k.startswith('site'))} of "
          f"{sum(total[k] for k in total if k.startswith('site'))} lesions missed under the margin rule")
    print("| group | lesions | missed |\n|---|---|---|")
    for key in sorted(total):
        print(f"| {key} | {total[key]} | {missed_count[key]} |")
    print("\n| case | lesion | class/site | diameter (mm) | set SUVmax |\n|---|---|---|---|---|")
    for case_id, lesion in missed:
        print(f"| {case_id} | {lesion['id']} | {lesion['class']}/{lesion['site']} | {lesion['diameter_mm']:.1f} | "
              f"{lesion['suv_max']:.2f} |")


if __name__ == "__main__":
    main()
