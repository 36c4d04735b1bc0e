"""``medgansynth evaluate-virtual-pet``: lesion TPR, false positives per scan, SSIM/PSNR/MAE for FCN, GAN, blended.

    medgansynth evaluate-virtual-pet --data HELD_OUT/ --model runs/vpet/weights/virtual_pet.safetensors -o eval/

--data is a folder of CT/PET cases (with lesion labels for the detection figures), autoPET's layout or a CSV
manifest, as for training. Writes results.json, report.md, report.html and pictures/ (coronal MIPs) in -o;
--write-card-metrics also stores the overall figures in the model's card (a model file, not a bundled id).
"""

from __future__ import annotations

import argparse

from MedGANSynthLib.cli.main import add_common_options, apply_thread_count
from MedGANSynthLib.cli.series_option import add_series_option
from MedGANSynthLib.errors import InputError
from MedGANSynthLib.virtual_pet.lesions import MIN_LESION_VOLUME_ML, PAPER_THRESHOLD_SUV


def register(subparsers) -> None:
    from MedGANSynthLib.cli.cmd_virtual_pet import add_blend_options

    parser = subparsers.add_parser(
        "evaluate-virtual-pet", help="score a virtual-PET model on paired CT/PET cases (paper's detection rule)",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, help="folder of CT/PET cases, autoPET folder or CSV manifest")
    parser.add_argument("--model", default=None, help="catalogue id or .safetensors path (default: bundled model)")
    parser.add_argument("-o", "--output", required=True, help="report folder (created)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps (default auto)")
    parser.add_argument("--threshold", type=float, default=PAPER_THRESHOLD_SUV,
                        help=f"SUV of the detection rule (paper {PAPER_THRESHOLD_SUV:g})")
    parser.add_argument("--min-volume-ml", type=float, default=MIN_LESION_VOLUME_ML,
                        help=f"smallest candidate counted (default {MIN_LESION_VOLUME_ML:g} ml, a 1 cm sphere; "
                        "0 = the raw rule)")
    parser.add_argument("--slab-size", type=int, default=16, help="slices per network batch")
    parser.add_argument("--threads", type=int, help="CPU threads (default: torch's choice)")
    parser.add_argument("--region", default=None, metavar="NAME",
                        help="score inside one region only, e.g. 'liver' as the paper did; each case needs a NAME "
                             "mask (NAME.nii.gz in its folder or segmentations/, a NAME_mask CSV column, or a "
                             "phantom's organs.nrrd)")
    parser.add_argument("--write-card-metrics", action="store_true",
                        help="store the overall metrics in the model's JSON card (as 'heldout', or "
                             "'heldout_NAME' with --region), and the blending they were measured with")
    add_series_option(parser, "CT or PET")
    add_blend_options(parser)
    add_common_options(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> dict:
    from pathlib import Path

    from MedGANSynthLib.cli.cmd_virtual_pet import check_blend_options
    from MedGANSynthLib.cli.progress_display import progress_display
    from MedGANSynthLib.io.output_set import staged_output
    from MedGANSynthLib.virtual_pet.evaluation import evaluate_virtual_pet
    from MedGANSynthLib.virtual_pet.inference import POSTPROCESSING_KEYS
    from MedGANSynthLib.virtual_pet.weights import DEFAULT_MODEL_ID, update_card_metrics
    from MedGANSynthLib.weights.safetensors_io import weight_paths

    apply_thread_count(args.threads)
    if args.min_volume_ml < 0:
        raise InputError(f"--min-volume-ml cannot be negative (got {args.min_volume_ml}).")
    if args.region is not None and not args.region.strip():
        raise InputError("--region needs a region name such as 'liver'.")
    if not args.threshold > 0:
        raise InputError(f"--threshold must be a positive SUV (got {args.threshold}).")
    check_blend_options(args)
    model = args.model or DEFAULT_MODEL_ID
    card_path = None
    if args.write_card_metrics:
        if Path(model).suffix not in (".safetensors", ".json"):
            raise InputError("--write-card-metrics needs --model as a .safetensors path (bundled cards stay as built).")
        card_path = weight_paths(model)[1]
    with staged_output(args.output, args.overwrite) as staged, progress_display(args.progress_lines, args.quiet) as show:
        results = evaluate_virtual_pet(args.data, staged.paths[0], model=model, device=args.device,
                                       threshold_suv=args.threshold, slab_size=args.slab_size,
                                       min_volume_ml=args.min_volume_ml, blend_levels=args.blend_levels,
                                       blend_dilation_mm=args.blend_dilation, blend_veto_suv=args.blend_veto,
                                       blend_base_levels=args.blend_base_levels,
                                       slice_smoothing_mm=args.slice_smoothing, region=args.region,
                                       series=args.series, progress=show)
        results = staged.final(results)
    if card_path is not None:
        blending = {key: results[key] for key in POSTPROCESSING_KEYS}
        region = results["region"]  # normalised: lower case
        key = f"heldout_{region}" if region else "heldout"
        scope = {"region": region} if region else {}
        update_card_metrics(card_path, {key: {"data": results["data"], "scans": results["scans"], **scope,
                                              "threshold_suv": results["threshold_suv"],
                                              "min_volume_ml": results["min_volume_ml"], **blending,
                                              **_brief(results["overall"])}}, blending)
        results["card_updated"] = str(card_path)
    summary = {key: results[key] for key in ("model", "scans", "files", "seconds")}
    summary["overall"] = _brief(results["overall"])
    by_organ = results["overall"].get("blended", {}).get("margin_fp_by_organ")
    if by_organ is not None:  # brief: blended false positives per scan by organ; the regions are in results.json
        summary["margin_fp_per_scan_by_organ"] = {row["organ"]: round(row["per_scan"], 3) for row in by_organ}
    return summary | ({"card_updated": results["card_updated"]} if card_path else {})


def _brief(overall: dict) -> dict:
    """The overall figures without the per-organ lists of false positives (results.json keeps them)."""
    return {method: {key: value for key, value in row.items() if key != "margin_fp_by_organ"}
            for method, row in overall.items()}
