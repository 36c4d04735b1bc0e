"""Would a per-voxel calibration of the bundled FCN by (FCN SUV, CT HU), fitted on its training phantoms, fix the
organ levels it gets wrong (HISTORY.md, session 32)? A probe, not a product option: it answered no.

The table: the true SUV's mean over training-phantom body voxels (HU > -500) in bins of 0.1 SUV of the FCN's raw
output (no slice smoothing) by 20 HU of CT (-160..240, with one bin below and one above), the FCN's own value where a
bin holds fewer than 30 voxels. Printed: the calibrated FCN's tissue means on the real CTs
(virtual_pet_real_ct_physiology.py's masks), and on each evaluation folder the eroded-organ means of the truth, the
FCN (smoothed as the product), the calibrated FCN, the product's blend, the blend recomputed offline from the
uncalibrated FCN (a control: it should match the product's) and from the calibrated one, and the lesions whose
one-voxel neighbourhood exceeds 2.5 SUV in each blend.

Usage (from the project root):
    .venv/bin/python Testing/Training/virtual_pet_fcn_calibration_probe.py --fit DIR [DIR ...] --evaluate DIR [DIR ...]
"""
import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch
from scipy import ndimage

sys.path.insert(0, str(Path(__file__).resolve().parent))
from virtual_pet_real_ct_physiology import REAL_CTS, SHARED_DATA, tissue_masks  # noqa: E402

from MedGANSynthLib.io.volume_io import read_volume  # noqa: E402
from MedGANSynthLib.phantoms.tissues import LABEL  # noqa: E402
from MedGANSynthLib.virtual_pet.blending import laplacian_blend  # noqa: E402
from MedGANSynthLib.virtual_pet.cases import discover_cases, load_case  # noqa: E402
from MedGANSynthLib.virtual_pet.false_positive_organs import load_organ_labels  # noqa: E402
from MedGANSynthLib.virtual_pet.inference import average_across_slices, predict_virtual_pet, smoothing_slices  # noqa: E402
from MedGANSynthLib.virtual_pet.regions import organ_map_path  # noqa: E402
from MedGANSynthLib.virtual_pet.weights import load_virtual_pet  # noqa: E402

FCN_EDGES = np.arange(0.0, 10.01, 0.1)
HU_EDGES = np.concatenate([[-1e9], np.arange(-160, 241, 20), [1e9]])
ORGANS = ("muscle", "subcutaneous_fat", "visceral_fat", "blood", "liver", "spleen", "cancellous_bone", "lung")

model = load_virtual_pet("virtual-pet-phantom")
raw = model.inference_config(return_fcn=True, return_gan=True, slice_smoothing_mm=0.0)
product = model.inference_config(return_fcn=True, return_gan=True)


def bins(fcn, hu):
    return (np.clip(np.digitize(fcn, FCN_EDGES) - 1, 0, len(FCN_EDGES) - 2),
            np.clip(np.digitize(hu, HU_EDGES) - 1, 0, len(HU_EDGES) - 2))


def fit(folders):
    total = np.zeros((len(FCN_EDGES) - 1, len(HU_EDGES) - 1))
    count = np.zeros_like(total)
    for folder in folders:
        for case in discover_cases(folder):
            pair = load_case(case)
            r = predict_virtual_pet(pair.ct, model.fcn, model.gan, raw, device="cpu")
            body = pair.ct.array > -500
            b = bins(r.fcn.array[body], pair.ct.array[body])
            np.add.at(total, b, pair.suv.array[body])
            np.add.at(count, b, 1)
    centres = 0.5 * (FCN_EDGES[:-1] + FCN_EDGES[1:])
    return np.where(count >= 30, total / np.maximum(count, 1), centres[:, None]), count


def calibrate(table, fcn, hu):
    return table[bins(fcn, hu)].astype(np.float32)


def reblend(fcn, gan, ct):
    out = laplacian_blend(torch.from_numpy(fcn[:, None]), torch.from_numpy(gan[:, None]), threshold_suv=product.threshold_suv,
                          levels=product.blend_levels, veto_suv=product.blend_veto_suv,
                          base_levels=product.blend_base_levels)[:, 0].numpy().copy()
    average_across_slices(out, smoothing_slices(product.slice_smoothing_mm, ct, 0))
    return np.maximum(out, 0)


def evaluate(folder, table):
    sums = {}
    lesions_found = {"product": 0, "reblend": 0, "calibrated": 0, "total": 0}
    for case in discover_cases(folder):
        pair = load_case(case)
        r = predict_virtual_pet(pair.ct, model.fcn, model.gan, raw, device="cpu")
        prod = predict_virtual_pet(pair.ct, model.fcn, model.gan, product, device="cpu")
        hu = pair.ct.array
        fcn_cal = calibrate(table, r.fcn.array, hu)
        width = smoothing_slices(product.slice_smoothing_mm, pair.ct, 0)
        fcn_s, fcn_cal_s = r.fcn.array.copy(), fcn_cal.copy()
        average_across_slices(fcn_s, width)
        average_across_slices(fcn_cal_s, width)
        images = {"true": pair.suv.array, "fcn": fcn_s, "fcn_cal": fcn_cal_s, "product": prod.blended.array,
                  "reblend": reblend(r.fcn.array, r.gan.array, pair.ct),
                  "calibrated": reblend(fcn_cal, r.gan.array, pair.ct)}
        organs = load_organ_labels(organ_map_path(case), pair.ct)
        for organ in ORGANS:
            inside = ndimage.binary_erosion(organs == LABEL[organ])
            if inside.sum() >= 50:
                for name, image in images.items():
                    sums.setdefault(organ, {}).setdefault(name, []).append(float(image[inside].mean()))
        if pair.lesions is not None:
            labels = pair.lesions.array
            for lesion in np.unique(labels[labels > 0]):
                region = ndimage.binary_dilation(labels == lesion)
                lesions_found["total"] += 1
                for name in ("product", "reblend", "calibrated"):
                    lesions_found[name] += int(images[name][region].max() > 2.5)
    return {o: {n: round(float(np.mean(v)), 3) for n, v in d.items()} for o, d in sums.items()}, lesions_found


def real(table):
    rows = {}
    for name in REAL_CTS:
        ct = read_volume(SHARED_DATA / name)
        r = predict_virtual_pet(ct, model.fcn, model.gan, product, device="cpu")
        masks = tissue_masks(ct)
        fcn_cal = calibrate(table, r.fcn.array, ct.array)
        rows[name] = {t: {"fcn": round(float(r.fcn.array[m].mean()), 3), "fcn_cal": round(float(fcn_cal[m].mean()), 3),
                          "blend": round(float(r.blended.array[m].mean()), 3)}
                      for t, m in masks.items() if t in ("muscle", "fat", "liver", "spleen") and m.any()}
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fit", nargs="+", required=True, help="training-phantom folders the table is fitted on")
    parser.add_argument("--evaluate", nargs="+", required=True, help="phantom folders it is judged on")
    args = parser.parse_args()
    table, count = fit(args.fit)
    print("bins filled", int((count >= 30).sum()), "of", count.size, flush=True)
    print(json.dumps({"real": real(table)}, indent=1), flush=True)
    for folder in args.evaluate:
        organs, found = evaluate(folder, table)
        print(folder, json.dumps(found))
        for organ, row in organs.items():
            print(f"  {organ:18s}", " ".join(f"{n} {v:.2f}" for n, v in row.items()), flush=True)


if __name__ == "__main__":
    main()
