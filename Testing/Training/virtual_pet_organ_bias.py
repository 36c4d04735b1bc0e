"""How far from the truth does a virtual-PET model draw each normal tissue? SUVmean per organ on phantoms.

For each case of a phantom folder (case folders with ct.*, pet.*, organs.nrrd, as `medgansynth phantoms --kind
wholebody` writes them) the model predicts with its card's settings (or the blend veto given), and inside each
organ's label, eroded by one voxel so partial volume at its border does not count, the script averages the true
PET, the FCN, the GAN and the blend. Printed: the mean over cases of each, and of (GAN - true). Session 27 found
the bundled GAN drawing muscle at twice its truth this way (HISTORY.md).

Usage: .venv/bin/python Testing/Training/virtual_pet_organ_bias.py DATA [--model M] [--cases N] [--blend-veto V] [--blend-base-levels N] [--slice-smoothing MM] [--json]
"""

from __future__ import annotations

import argparse
import json

import numpy as np
from scipy import ndimage

from MedGANSynthLib.phantoms.tissues import LABEL
from MedGANSynthLib.virtual_pet.cases import discover_cases, load_case
from MedGANSynthLib.virtual_pet.false_positive_organs import load_organ_labels
from MedGANSynthLib.virtual_pet.inference import predict_virtual_pet
from MedGANSynthLib.virtual_pet.regions import organ_map_path
from MedGANSynthLib.virtual_pet.weights import DEFAULT_MODEL_ID, load_virtual_pet

ORGANS = ("muscle", "muscle_thigh", "subcutaneous_fat", "visceral_fat", "lung", "blood", "liver", "spleen",
          "cancellous_bone")
OUTPUTS = ("true", "fcn", "gan", "blended")
MIN_VOXELS = 50


def organ_means(case, model, config) -> dict[str, dict[str, float]]:
    pair = load_case(case)
    result = predict_virtual_pet(pair.ct, model.fcn, model.gan, config, device="cpu")
    organs = load_organ_labels(organ_map_path(case), pair.ct)
    images = {"true": pair.suv.array, "fcn": result.fcn.array, "gan": result.gan.array,
              "blended": result.blended.array}
    means = {}
    for organ in ORGANS:
        inside = ndimage.binary_erosion(organs == LABEL[organ])
        if inside.sum() >= MIN_VOXELS:
            means[organ] = {name: float(image[inside].mean()) for name, image in images.items()}
    return means


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data")
    parser.add_argument("--model", default=DEFAULT_MODEL_ID)
    parser.add_argument("--cases", type=int, default=None, help="the first N cases (default: all)")
    parser.add_argument("--blend-veto", type=float, help="as virtual-pet's (default: the card's)")
    parser.add_argument("--blend-base-levels", type=int, metavar="N", help="as virtual-pet's (default: the card's)")
    parser.add_argument("--slice-smoothing", type=float, metavar="MM", help="as virtual-pet's (default: the card's)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    model = load_virtual_pet(args.model)
    config = model.inference_config(return_fcn=True, return_gan=True, blend_veto_suv=args.blend_veto,
                                    blend_base_levels=args.blend_base_levels,
                                    slice_smoothing_mm=args.slice_smoothing)
    per_case = [organ_means(case, model, config) for case in discover_cases(args.data)[: args.cases]]
    summary = {}
    for organ in ORGANS:
        rows = [case[organ] for case in per_case if organ in case]
        if rows:
            summary[organ] = {name: round(float(np.mean([row[name] for row in rows])), 3) for name in OUTPUTS}
            summary[organ]["gan_minus_true"] = round(summary[organ]["gan"] - summary[organ]["true"], 3)
            summary[organ]["cases"] = len(rows)
    if args.json:
        print(json.dumps({"model": args.model, "data": args.data, "organs": summary}, indent=2))
        return
    for organ, row in summary.items():
        print(f"{organ:18s} " + " ".join(f"{name} {row[name]:.2f}" for name in OUTPUTS)
              + f"  GAN - true {row['gan_minus_true']:+.2f} ({row['cases']} cases)")


if __name__ == "__main__":
    main()
