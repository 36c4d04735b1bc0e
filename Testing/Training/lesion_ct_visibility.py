"""How many phantom lesions can a CT show at all? An upper bound for any CT-only virtual PET.

    .venv/bin/python Testing/Training/lesion_ct_visibility.py CASES_FOLDER   (e.g. RUN/data/vpet_heldout)

Phantom cases name each lesion's site in their manifest.json (liver, lung, cervical_node, ...); the summary is then
given per site as well, e.g. for the liver lesions that ``evaluate-virtual-pet --region liver`` scores.

For each labelled lesion: the mean HU inside it against a shell 1-2 voxels outside it, and Rose's criterion for an
ideal observer, k = |mean inside - mean of shell| / noise SD * sqrt(voxels inside) >= 5 (Rose 1948). The noise SD
is taken inside the lesion (uniform soft tissue plus scanner noise and texture); the shell's own SD would also
measure the tissues it straddles. A lesion that fails it is indistinguishable from its surroundings in the CT,
whatever the network; the phantoms draw lesions as soft tissue (~40 HU), so nodes and primaries inside soft
tissue carry almost no CT contrast.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
from scipy import ndimage

from MedGANSynthLib.virtual_pet.cases import discover_cases, load_case

ROSE_K = 5.0


def lesion_rows(folder: str) -> list[dict]:
    rows = []
    for case in discover_cases(folder):
        pair = load_case(case)
        if pair.lesions is None:
            continue
        hu, truth = pair.ct.array.astype(np.float64), pair.lesions.array
        sites = lesion_sites(case.folder)
        for lesion_id in np.unique(truth[truth > 0]):
            inside = truth == lesion_id
            shell = ndimage.binary_dilation(inside, iterations=2) & ~ndimage.binary_dilation(inside) & (truth == 0)
            contrast = abs(hu[inside].mean() - hu[shell].mean())
            k = contrast / hu[inside].std() * np.sqrt(inside.sum())
            rows.append({"case": pair.case_id, "lesion": int(lesion_id), "site": sites.get(int(lesion_id), "?"),
                         "voxels": int(inside.sum()),
                         "contrast_hu": round(float(contrast), 1), "rose_k": round(float(k), 1),
                         "visible": bool(k >= ROSE_K)})
    return rows


def lesion_sites(folder: Path | None) -> dict[int, str]:
    """Lesion id -> site from a phantom case's manifest.json; empty for other cases."""
    manifest = folder / "manifest.json" if folder is not None else None
    if manifest is None or not manifest.is_file():
        return {}
    return {int(lesion["id"]): lesion["site"] for lesion in json.loads(manifest.read_text()).get("lesions", [])}


def visible_line(label: str, rows: list[dict]) -> str:
    visible = sum(row["visible"] for row in rows)
    return f"{label}: visible in CT (Rose k >= {ROSE_K:g}) {visible}/{len(rows)} = {visible / max(1, len(rows)):.2f}"


def main(folder: str) -> None:
    rows = lesion_rows(folder)
    by_site = defaultdict(list)
    for row in rows:
        print(row)
        by_site[row["site"]].append(row)
    if len(by_site) > 1 or "?" not in by_site:
        for site in sorted(by_site):
            print(visible_line(site, by_site[site]))
    print(visible_line("all lesions", rows))


if __name__ == "__main__":
    main(sys.argv[1])
