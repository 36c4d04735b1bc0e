"""Install the model chosen by train_virtual_pet_v2.sh and write what the card must say about it.

Run by the shell script after the choice (RUN_ROOT/vN_choice.json, N the candidate's phantom version, 2 unless
given). When the candidate was chosen it replaces the
bundled ``virtual-pet-phantom`` at half precision (as every bundled virtual PET is stored), with the 12 mm slice
smoothing both models were scored with, a training-data description naming the phantoms and their seeds, the
out-of-distribution statistics of its training CTs (without and with contrast) and the selection figures. For
either choice the card records the model's behaviour on the real CTs (virtual_pet_real_ct_physiology.py). The
held-out figures are written afterwards by ``evaluate-virtual-pet --write-card-metrics``. With BLEND_VETO set in the
environment (the shell script's setting), the installed card also takes that blend veto, as it was scored.

Usage: .venv/bin/python Testing/Training/install_virtual_pet_v2.py RUN_ROOT [PHANTOM_VERSION] [--heldout]
"""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import sys
from pathlib import Path

from MedGANSynthLib.io.volume_io import read_volume
from MedGANSynthLib.virtual_pet.input_statistics import store_training_statistics, training_statistics
from MedGANSynthLib.virtual_pet.weights import install_virtual_pet, update_card_metrics
from MedGANSynthLib.weights.model_card import ModelCard

CARD = Path("Resources/Models/virtual_pet_phantom.json")
SMOOTHING = {"slice_smoothing_mm": 12.0}


def inference_settings() -> dict[str, float]:
    """What the candidate was scored with and its card must say: 12 mm smoothing, and the blend veto if one was set."""
    veto = os.environ.get("BLEND_VETO")
    return SMOOTHING | ({"blend_veto_suv": float(veto)} if veto else {})


def training_seeds() -> tuple[int, int]:
    """The seeds the shell script drew the training phantoms from (TRAIN_SEEDS, default 41 and 42)."""
    plain, portal_venous = os.environ.get("TRAIN_SEEDS", "41 42").split()
    return int(plain), int(portal_venous)


STATISTICS_CASES = {"train_plain": 24, "train_pv": 12}  # two thirds without contrast, as in training


def description(version: int, recipe: str) -> str:
    plain, portal_venous = training_seeds()
    return (
        "Trained on MedGANSynth software phantoms (synthetic images with known ground truth), not on patient data: "
        f"72 whole-body PET/CT phantoms of version {version} (arms, muscle groups, bowel, published HU and SUV), 48 "
        f"without IV contrast (phantoms --kind wholebody --phantom-version {version} --voxel-mm 4 --count 48 "
        f"--seed {plain} --contrast none) and 24 in the portal-venous phase (--count 24 --seed {portal_venous} "
        f"--contrast portal-venous){recipe}.")


def recipe_note(run: Path) -> str:
    """What the run changed from the bundled recipe's pix2pix (run.json), in the card's words."""
    settings = json.loads((run / "run.json").read_text())
    changes = []
    if settings.get("gan_loss", "bce") != "bce":
        changes.append(f"{settings['gan_loss']} adversarial loss")
    if settings.get("lr_d") is not None:
        changes.append(f"PatchGAN learning rate {settings['lr_d']:g}")
    return "; pix2pix with " + " and ".join(changes) if changes else ""


def install_candidate(root: Path, version: int) -> None:
    run = root / f"virtual_pet_v{version}"
    text = description(version, recipe_note(run))
    install_virtual_pet(run / "weights/virtual_pet.safetensors", CARD.parent, "virtual-pet-phantom",
                        "Virtual PET from CT (FCN-4s + pix2pix, phantom-trained)", text, float16=True)
    card = ModelCard.load(CARD)
    training = {**card.training_data, "description": text, "weights_stored_as": "float16",
                "phantom_version": version}
    training.pop("combined_from", None)
    dataclasses.replace(card, training_data=training).save(CARD)
    cts = []
    for part in STATISTICS_CASES:
        folder = root / "data" / f"v{version}_{part}"
        with open(folder / "cases.csv", newline="") as handle:
            rows = list(csv.DictReader(handle))[: STATISTICS_CASES[part]]
        cts += [read_volume(folder / row["case_id"] / "ct.nrrd") for row in rows]
    plain, portal_venous = training_seeds()
    store_training_statistics(CARD, training_statistics(
        cts, f"CTs of 24 training phantoms without contrast (seed {plain}) and 12 in the portal-venous phase "
             f"(seed {portal_venous})"))
    chosen_on = json.loads((root / "candidate_selection.json").read_text())
    # evaluate-virtual-pet's JSON names no data folder: name the selection set this script's shell script scored
    selection = {"data": str(root / "data" / f"v{version}_sel16"), "scans": chosen_on["scans"], **chosen_on["overall"],
                 "phantoms": f"16 version-{version} phantoms (8 without contrast, seed 43; 8 portal-venous, seed 44) "
                             "on which this model was chosen against the version-1 model, scored at float32; "
                             "optimistic"}
    update_card_metrics(CARD, {"selection": selection}, inference_settings())


def record_real_ct(root: Path, chosen: str) -> None:
    """The chosen model's figures on the real CTs (for a new model: measured at float32, before the install)."""
    write_real_ct_to_card(json.loads((root / f"{chosen}_real_ct.json").read_text()))


def write_real_ct_to_card(real: dict) -> None:
    """``virtual_pet_real_ct_physiology.py --json``'s figures into the bundled card's metrics."""
    update_card_metrics(CARD, {"real_ct_physiology": {
        **real, "script": "Testing/Training/virtual_pet_real_ct_physiology.py",
        "note": "real patient CTs without PET ground truth: tissue classes from HU and depth; published FDG levels "
                "beside them; each CT as the command writes it with --outside-body keep (the networks) and zero "
                "(the default)"}})


def describe_heldout(version: int) -> None:
    """Name the held-out phantoms in the card, after evaluate-virtual-pet --write-card-metrics wrote their figures."""
    metrics = ModelCard.load(CARD).metrics
    held, liver = metrics["heldout"], metrics["heldout_liver"]
    held["phantoms"] = (f"24 version-{version} phantoms (12 without contrast, seed 45; 12 portal-venous, seed 46), "
                        "made after the choice and never used to choose")
    liver["phantoms"] = (f"32 portal-venous version-{version} phantoms of the oesophagus and lung classes (seed 47), "
                         "scored inside the liver only, as the paper did; made after the choice")
    update_card_metrics(CARD, {"heldout": held, "heldout_liver": liver})


def main(root: Path, version: int) -> None:
    choice = json.loads((root / f"v{version}_choice.json").read_text())
    if choice["chosen"] == "candidate" and ModelCard.load(CARD).training_data.get("phantom_version") != version:
        install_candidate(root, version)
    record_real_ct(root, choice["chosen"])
    print(f"{CARD}: {choice['chosen']} installed/recorded")


if __name__ == "__main__":
    arguments = [a for a in sys.argv[1:] if a != "--heldout"]
    if len(arguments) not in (1, 2):
        raise SystemExit(__doc__.splitlines()[-1])
    phantom_version = int(arguments[1]) if len(arguments) == 2 else 2
    if "--heldout" in sys.argv:
        describe_heldout(phantom_version)
    else:
        main(Path(arguments[0]), phantom_version)
