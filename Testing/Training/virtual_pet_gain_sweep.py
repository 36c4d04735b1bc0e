"""Is a virtual-PET model's trade-off a matter of calibration? Margin TPR and false positives per scan at output gains.

    .venv/bin/python Testing/Training/virtual_pet_gain_sweep.py DATA --model M [--gains 0.6 0.8 1 1.25] \
        [--blend-veto V] [--blend-base-levels N] [--slice-smoothing MM] [--read-at-tpr T] [--json]

Each case is predicted once with the model's card settings (or the overrides given); then every output (FCN, GAN,
blend) is multiplied by each gain and scored by the project's margin rule at 2.5 SUV
(:func:`~MedGANSynthLib.virtual_pet.detection_metrics.margin_detection`, the rule ``evaluate-virtual-pet``
reports). A gain g is the same as reading the unscaled output at 2.5 / g SUV, so the rows trace each output's
curve of lesions found against false positives. Two models whose curves cross trade one for the other through
their calibration; a model whose curve lies above the other's at every false-positive level finds more lesions
at any calibration, which no threshold or gain can give the other (HISTORY.md, session 28). ``--read-at-tpr T``
reads each curve at one lesion-finding rate: the false positives per scan where it reaches TPR T, interpolated
linearly between the two gains around it (session 30's reading of two models at the same TPR).
"""

from __future__ import annotations

import argparse
import json

from MedGANSynthLib.virtual_pet.cases import discover_cases, load_case
from MedGANSynthLib.virtual_pet.detection_metrics import margin_detection
from MedGANSynthLib.virtual_pet.inference import predict_virtual_pet
from MedGANSynthLib.virtual_pet.lesions import voxel_volume_ml
from MedGANSynthLib.virtual_pet.weights import DEFAULT_MODEL_ID, load_virtual_pet

OUTPUTS = ("fcn", "gan", "blended")
DEFAULT_GAINS = (0.6, 0.7, 0.8, 0.9, 1.0, 1.15, 1.3, 1.5, 1.75, 2.0)


def case_counts(case, model, config, gains) -> dict[str, dict[float, tuple[int, int, int]]]:
    """(lesions found, lesions, false positives) of each output at each gain, for one case."""
    pair = load_case(case)
    result = predict_virtual_pet(pair.ct, model.fcn, model.gan, config, device="cpu")
    voxel_ml = voxel_volume_ml(pair.lesions)
    return {name: gain_counts(pair.lesions.array, pair.suv.array, getattr(result, name).array, voxel_ml, gains)
            for name in OUTPUTS}


def gain_counts(lesions, true_suv, image, voxel_ml, gains) -> dict[float, tuple[int, int, int]]:
    """(lesions found, lesions, false positives) of ``image`` times each gain, under the margin rule at 2.5 SUV."""
    counts = {}
    for gain in gains:
        scores = margin_detection(lesions, image * gain, true_suv, voxel_ml)
        counts[gain] = (scores["tp"], scores["n_true"], scores["fp"])
    return counts


def pooled(per_case, gains) -> dict[str, list[dict[str, float]]]:
    rows = {}
    for name in OUTPUTS:
        rows[name] = []
        for gain in gains:
            found, true, false = (sum(case[name][gain][i] for case in per_case) for i in range(3))
            rows[name].append({"gain": gain, "threshold_suv": round(2.5 / gain, 3),
                               "tpr_margin": round(found / true, 3) if true else None,
                               "fp_margin_per_scan": round(false / len(per_case), 2)})
    return rows


def fp_at_tpr(curve: list[dict[str, float]], tpr: float) -> float | None:
    """False positives per scan where ``curve`` (rows in increasing gain) first reaches ``tpr``, interpolated
    linearly between the row before and that row; None when the curve never reaches it."""
    before = None
    for row in curve:
        if row["tpr_margin"] is not None and row["tpr_margin"] >= tpr:
            if before is None or row["tpr_margin"] == before["tpr_margin"]:
                return row["fp_margin_per_scan"]
            share = (tpr - before["tpr_margin"]) / (row["tpr_margin"] - before["tpr_margin"])
            return round(before["fp_margin_per_scan"]
                         + share * (row["fp_margin_per_scan"] - before["fp_margin_per_scan"]), 2)
        before = row
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data")
    parser.add_argument("--model", default=DEFAULT_MODEL_ID)
    parser.add_argument("--gains", type=float, nargs="+", default=list(DEFAULT_GAINS))
    parser.add_argument("--blend-veto", type=float, help="as virtual-pet's (default: the card's)")
    parser.add_argument("--blend-base-levels", type=int, metavar="N", help="as virtual-pet's (default: the card's)")
    parser.add_argument("--slice-smoothing", type=float, help="as virtual-pet's, in mm (default: the card's)")
    parser.add_argument("--read-at-tpr", type=float, help="also print each output's false positives per scan at "
                        "this TPR (interpolated between gains)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    model = load_virtual_pet(args.model)
    config = model.inference_config(return_fcn=True, return_gan=True, blend_veto_suv=args.blend_veto,
                                    blend_base_levels=args.blend_base_levels, slice_smoothing_mm=args.slice_smoothing)
    cases = discover_cases(args.data)
    rows = pooled([case_counts(case, model, config, args.gains) for case in cases], args.gains)
    reading = ({name: fp_at_tpr(curve, args.read_at_tpr) for name, curve in rows.items()}
               if args.read_at_tpr is not None else None)
    if args.json:
        print(json.dumps({"model": args.model, "data": args.data, "scans": len(cases), "curves": rows,
                          "fp_per_scan_at_tpr": reading and {"tpr": args.read_at_tpr, **reading}}, indent=2))
        return
    for name, curve in rows.items():
        for row in curve:
            print(f"{name:8s} gain {row['gain']:.2f} (reads {row['threshold_suv']:.2f} SUV): "
                  f"TPR {row['tpr_margin']:.3f}, FP / scan {row['fp_margin_per_scan']:.2f}")
    for name, fp in (reading or {}).items():
        print(f"{name:8s} at TPR {args.read_at_tpr:.2f}: FP / scan {'not reached' if fp is None else f'{fp:.2f}'}")


if __name__ == "__main__":
    main()
