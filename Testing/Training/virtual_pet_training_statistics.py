"""Write the out-of-distribution guard's training statistics into a virtual-PET model card.

Reads the CTs of the first ``--cases`` phantoms of a ``medgansynth phantoms`` folder (the model's training data:
the bundled model's is ``phantoms --kind wholebody --phantom-version 1 --count 72 --seed 21 --voxel-mm 4``; the first N cases of a
seed are the same whatever --count, so ``--count 24`` regenerates the first 24 of the 72) and stores
``input_statistics.training_statistics`` of them as the card's ``training_data.statistics``. The weights and
their SHA-256 are unchanged.

    medgansynth phantoms --kind wholebody --phantom-version 1 --count 24 --seed 21 --voxel-mm 4 -o runs/data/vpet_train24
    .venv/bin/python Testing/Training/virtual_pet_training_statistics.py runs/data/vpet_train24 \
        --card Resources/Models/virtual_pet_phantom.json --cases 24
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

from MedGANSynthLib.io.volume_io import read_volume
from MedGANSynthLib.virtual_pet.input_statistics import store_training_statistics, training_statistics


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", help="a 'medgansynth phantoms --kind wholebody' folder (with cases.csv)")
    parser.add_argument("--card", required=True, help="the model card (.json) to write the statistics into")
    parser.add_argument("--cases", type=int, default=24, help="use the first N cases (default 24)")
    parser.add_argument("--description", default=None, help="what the cases are (default: from the folder)")
    args = parser.parse_args()
    folder = Path(args.data)
    with open(folder / "cases.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))[: args.cases]
    cts = [read_volume(folder / row["case_id"] / "ct.nrrd") for row in rows]
    description = args.description or (f"CTs of the first {len(cts)} training phantoms ({folder.name})")
    block = training_statistics(cts, description)
    store_training_statistics(args.card, block)
    print(json.dumps(block, indent=2))


if __name__ == "__main__":
    main()
