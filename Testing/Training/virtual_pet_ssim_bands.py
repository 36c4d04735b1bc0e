"""Where does a virtual-PET model lose SSIM, and would a finer FCN output help?

    .venv/bin/python Testing/Training/virtual_pet_ssim_bands.py DATA [MODEL] [--cases N] [--slice-smoothing MM]

DATA: paired cases (e.g. `medgansynth phantoms --kind wholebody --phantom-version 1 --count 24 --seed 23 --voxel-mm 4 -o DATA`);
MODEL: a virtual-PET id or .safetensors (default: the bundled one), run with the inference settings its card stores;
--slice-smoothing overrides the card's (give 12 for a run's own weights to match the bundled model's post-processing).

Prints two tables, SSIM computed exactly as `evaluate-virtual-pet` does (skimage's local SSIM map, SUV [0, 20],
averaged over the body):

1. The resolution ceiling: the true PET itself, area-averaged over k x k in-plane pixels and bilinearly enlarged
   again, for k = 1, 2, 4, over the body and in each band of true SUV. An FCN-4s predicts at 1/4 of its input
   resolution; where the true PET at k = 4 keeps a high SSIM, that coarse grid is not what holds the FCN down.
2. The model's FCN, GAN and blended outputs: mean SSIM-map value and mean error (SUV) inside bands of the true SUV,
   with each band's share of the body. The blend takes the FCN inside its hot mask, so the bands above 2.5 SUV say
   whether the FCN earns that trust.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
import torch.nn.functional as F
from skimage.metrics import structural_similarity

from MedGANSynthLib.virtual_pet.cases import discover_cases, load_case
from MedGANSynthLib.virtual_pet.detection_metrics import SUV_DATA_RANGE, body_mask_from_ct
from MedGANSynthLib.virtual_pet.inference import predict_virtual_pet
from MedGANSynthLib.virtual_pet.weights import DEFAULT_MODEL_ID, load_virtual_pet

FACTORS = (1, 2, 4)
BANDS = ((0.0, 0.3), (0.3, 1.0), (1.0, 2.0), (2.0, 4.0), (4.0, float("inf")))
OUTPUTS = ("fcn", "gan", "blended")


def coarse(suv: np.ndarray, factor: int, slice_axis: int) -> np.ndarray:
    """``suv`` averaged over factor x factor in-plane blocks and enlarged back bilinearly (same shape)."""
    slices = torch.from_numpy(np.ascontiguousarray(np.moveaxis(suv, slice_axis, 0), dtype=np.float32))[:, None]
    rows, cols = slices.shape[-2:]
    padded = F.pad(slices, (0, -cols % factor, 0, -rows % factor), mode="replicate")
    enlarged = F.interpolate(F.avg_pool2d(padded, factor), scale_factor=factor, mode="bilinear", align_corners=False)
    return np.moveaxis(enlarged[:, 0, :rows, :cols].numpy(), 0, slice_axis)


def ssim_map(truth: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    truth, predicted = (np.clip(a.astype(np.float64), 0.0, SUV_DATA_RANGE) for a in (truth, predicted))
    return structural_similarity(truth, predicted, data_range=SUV_DATA_RANGE, full=True)[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data")
    parser.add_argument("model", nargs="?", default=DEFAULT_MODEL_ID)
    parser.add_argument("--cases", type=int, default=8, help="first N cases of DATA (default 8)")
    parser.add_argument("--slice-smoothing", type=float, default=None, help="mm averaged across slices")
    args = parser.parse_args()
    torch.set_num_threads(1)
    model = load_virtual_pet(args.model)
    config = model.inference_config(return_fcn=True, return_gan=True, slice_smoothing_mm=args.slice_smoothing)
    ceiling = {(k, b): [] for k in FACTORS for b in (None, *BANDS)}
    ssim = {(o, b): [] for o in OUTPUTS for b in BANDS}
    error = {(o, b): [] for o in OUTPUTS for b in BANDS}
    share = {b: [] for b in BANDS}
    for case in discover_cases(args.data)[:args.cases]:
        loaded = load_case(case)
        body, truth = body_mask_from_ct(loaded.ct), loaded.suv.array
        bands = {None: body, **{b: body & (truth >= b[0]) & (truth < b[1]) for b in BANDS}}
        for k in FACTORS:
            local = ssim_map(truth, coarse(truth, k, loaded.ct.axis_along(2)))
            for band, inside in bands.items():
                ceiling[k, band].append(local[inside].mean() if inside.any() else np.nan)
        result = predict_virtual_pet(loaded.ct, model.fcn, model.gan, config, device="cpu")
        for output in OUTPUTS:
            predicted = getattr(result, output).array
            local = ssim_map(truth, predicted)
            for band in BANDS:
                inside = bands[band]
                ssim[output, band].append(local[inside].mean() if inside.any() else np.nan)
                error[output, band].append((predicted[inside] - truth[inside]).mean() if inside.any() else np.nan)
        for band in BANDS:
            share[band].append(float(bands[band].sum() / body.sum()))
        print(f"scored {case.case_id}", flush=True)
    print("\nTrue PET at 1/k in-plane resolution, enlarged back: SSIM over the body and per band of true SUV")
    print(f"{'':>14} " + " ".join(f"{f'k = {k}':>8}" for k in FACTORS))
    for band in (None, *BANDS):
        name = "body" if band is None else f"{band[0]:g}-{band[1]:g}"
        print(f"{name:>14} " + " ".join(f"{np.nanmean(ceiling[k, band]):8.3f}" for k in FACTORS))
    print(f"\n{'true SUV band':>14} {'share':>6} " + " ".join(f"{o + ' SSIM':>13} {o + ' error':>14}" for o in OUTPUTS))
    for band in BANDS:
        cells = " ".join(f"{np.nanmean(ssim[o, band]):13.3f} {np.nanmean(error[o, band]):+14.2f}" for o in OUTPUTS)
        print(f"{f'{band[0]:g}-{band[1]:g}':>14} {np.mean(share[band]):6.3f} {cells}")


if __name__ == "__main__":
    main()
