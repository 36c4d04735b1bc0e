"""Write phantom cases to disk: one folder per case plus a dataset-level ``cases.csv`` index.

Every file goes through :func:`atomic_output` / :func:`write_volume`, so an interrupted run never leaves a
half-written file behind.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

from MedGANSynthLib.io.atomic import atomic_output
from MedGANSynthLib.io.volume_io import write_volume
from MedGANSynthLib.phantoms.brain import BrainCase
from MedGANSynthLib.phantoms.ct_slices import ChestSliceSet
from MedGANSynthLib.phantoms.wholebody import WholeBodyCase

INDEX_NAME = "cases.csv"
INDEX_COLUMNS = ("case_id", "kind", "label", "seed", "paths")


def write_json(data: dict, path: str | os.PathLike) -> Path:
    with atomic_output(path) as temp:
        temp.write_text(json.dumps(data, indent=2, default=str) + "\n")
    return Path(path)


def write_case(case: WholeBodyCase | BrainCase | ChestSliceSet, folder: str | os.PathLike) -> dict[str, Path]:
    """Write the volumes and manifest.json of one case; returns {name: path}."""
    folder = Path(folder)
    if isinstance(case, WholeBodyCase):
        volumes = {"ct": case.ct, "pet": case.pet, "organs": case.organs, "lesions": case.lesions}
    elif isinstance(case, BrainCase):
        volumes = {"pet": case.pet, "regions": case.regions}
    elif isinstance(case, ChestSliceSet):
        volumes = {"ct": case.ct}
    else:
        raise TypeError(f"not a phantom case: {type(case).__name__}")
    paths = {name: write_volume(volume, folder / f"{name}.nrrd") for name, volume in volumes.items()}
    paths["manifest"] = write_json(case.manifest, folder / "manifest.json")
    return paths


def write_case_index(root: str | os.PathLike, rows: list[dict]) -> Path:
    """``cases.csv``: one row per case; ``paths`` lists the case's files relative to ``root``, ';'-separated."""
    root = Path(root)
    target = root / INDEX_NAME
    with atomic_output(target) as temp, open(temp, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=INDEX_COLUMNS)
        writer.writeheader()
        for row in rows:
            paths = ";".join(Path(p).relative_to(root).as_posix() for p in row["paths"])
            writer.writerow({"case_id": row["case_id"], "kind": row["kind"], "label": row["label"],
                             "seed": row["seed"], "paths": paths})
    return target
