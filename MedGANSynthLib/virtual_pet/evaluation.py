"""Evaluate a virtual-PET model on paired CT/PET cases: FCN, GAN and blended side by side (Ben-Cohen et al., section 3.2).

Per scan and overall, for each of ``fcn``, ``gan`` and ``blended``:

* lesion detection with the paper's rule: a true lesion is detected when a predicted component with SUVmax > 2.5
  overlaps it. The paper counted tumours in the liver of real PET; on whole-body images the raw rule also counts
  every noise speckle above 2.5 (the true phantom PET alone has ~200 such specks: liver SUV ~2 with 10-15 % noise)
  and physiological uptake (brain, heart, kidneys, bladder) as "false positives". So candidates are the
  components of at least ``min_volume_ml`` (default 0.5 ml, a 1 cm sphere, the smallest phantom lesion), the
  same size rule the lesion table offers; a candidate overlapping no true lesion is ``fp_physiological`` when it
  overlaps real uptake > threshold in the true PET and ``fp`` (a true false positive) otherwise. The raw rule
  (no size limit, every unmatched component a false positive) is reported too, as ``raw_tp``/``raw_fp``.
  Overall TPR is pooled (all detected / all true lesions, as the paper's 24/26) and false positives are per scan
  (paper 2/8 = 0.25). Cases without lesion labels get no detection entry.
* focal TPR: the overlap rule also credits a lesion to a hot region that merely touches it, e.g. a neck node
  inside a 2.6-litre component covering brain, neck and shoulders. ``tp_focal`` counts a lesion only when a
  candidate overlapping it is at most :data:`FOCAL_VOLUME_FACTOR` times the lesion's volume: a hot spot of about
  the lesion's size, as a reader would see one.
* the ceiling of those rules on the data: the true PET itself, scored as if it were a prediction (``true_pet``).
  A lesion whose true SUVmax stays at or below the threshold after the scanner's blur, or that merges with a hot
  neighbour, is missed even by a perfect virtual PET; no model can beat this TPR on the same cases.
* where the margin rule's false positives lie, for cases carrying an organ label map (whole-body phantoms'
  ``organs.*``): each false region named by the organ holding most of its voxels, with its volume and SUVmax, and
  counts per organ (:mod:`.false_positive_organs`); ``margin_missed_lesions`` lists the lesion ids the margin rule
  misses.
* SSIM, PSNR and MAE in SUV inside the body (CT > -500 HU), over SUV [0, 20] (:func:`.detection_metrics.image_metrics`);
  overall values are means over scans.

Outputs (all-or-nothing, like :mod:`.pipeline`): ``results.json``, ``report.md``, ``report.html`` and one picture
per case in ``pictures/``: coronal MIPs of the CT (bone window), the true PET, the virtual PET (inverted grey,
SUV 0..10) and an overlay (true PET red, virtual PET green: yellow where they agree).
"""

from __future__ import annotations

import html
import json
import math
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.io.atomic import atomic_output
from MedGANSynthLib.jobs.progress import CancelToken, ProgressCallback, report
from MedGANSynthLib.pictures import display_plane, square_pixels, windowed
from MedGANSynthLib.projection.mip import mip
from MedGANSynthLib.virtual_pet.cases import discover_cases, load_case
from MedGANSynthLib.virtual_pet.detection_metrics import (
    MarginFalsePositives,
    body_mask_from_ct,
    image_metrics,
    lesion_detection,
    margin_detection,
    margin_found_lesions,
)
from MedGANSynthLib.virtual_pet.false_positive_organs import (
    count_by_organ,
    false_positive_regions,
    load_organ_labels,
    overall_by_organ,
)
from MedGANSynthLib.virtual_pet.inference import POSTPROCESSING_KEYS, predict_virtual_pet
from MedGANSynthLib.virtual_pet.lesions import (
    MIN_LESION_VOLUME_ML,
    PAPER_THRESHOLD_SUV,
    find_lesion_candidates,
    voxel_volume_ml,
)
from MedGANSynthLib.virtual_pet.pipeline import staged_folder
from MedGANSynthLib.virtual_pet.regions import (
    RegionCase,
    load_region_mask,
    organ_map_path,
    region_mask_source,
    restrict_to_region,
)
from MedGANSynthLib.virtual_pet.weights import DEFAULT_MODEL_ID, VirtualPETModel, load_virtual_pet
from MedGANSynthLib.volume import Volume

METHODS = ("fcn", "gan", "blended")
FOCAL_VOLUME_FACTOR = 4.0
"""Largest candidate, in lesion volumes, that still counts as a focal find (allows for the blur of 4 mm voxels)."""
PAPER = {"tpr": 0.923, "fp_per_scan": 0.25}
CT_MIP_WINDOW = (-200.0, 1500.0)
"""A CT MIP is dominated by the densest voxel on each ray: a bone window shows the skeleton as the landmark."""
SUV_PICTURE_WINDOW = (0.0, 10.0)


def evaluate_virtual_pet(
    data: str | os.PathLike,
    output_dir: str | os.PathLike,
    model: str | os.PathLike | VirtualPETModel = DEFAULT_MODEL_ID,
    device: str = "auto",
    threshold_suv: float = PAPER_THRESHOLD_SUV,
    slab_size: int | None = None,
    min_volume_ml: float = MIN_LESION_VOLUME_ML,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    blend_levels: int | None = None,
    blend_dilation_mm: float | None = None,
    blend_veto_suv: float | None = None,
    blend_base_levels: int | None = None,
    slice_smoothing_mm: float | None = None,
    region: str | None = None,
    series: str | None = None,
) -> dict[str, Any]:
    """Predict every case, score FCN/GAN/blended against the true PET and lesions, write results + report.

    ``blend_levels`` / ``blend_dilation_mm`` / ``blend_veto_suv`` / ``blend_base_levels`` / ``slice_smoothing_mm``
    override the model card's (None: the card's).
    ``region`` (e.g. ``"liver"``, the paper's) scores inside that region only (:mod:`.regions`); every case needs
    its mask, which is checked before any prediction runs. ``series`` names the series to read from the cases'
    DICOM folders that hold several (:func:`.cases.discover_cases`).
    """
    started = time.perf_counter()
    cases = discover_cases(data, series)
    region = region.strip().lower() if region else None
    mask_sources = [region_mask_source(case, region) for case in cases] if region else [None] * len(cases)
    loaded = model if isinstance(model, VirtualPETModel) else load_virtual_pet(model, device="cpu")
    config = loaded.inference_config(slab_size=slab_size, threshold_suv=threshold_suv, return_fcn=True,
                                     return_gan=True, blend_levels=blend_levels, blend_dilation_mm=blend_dilation_mm,
                                     blend_veto_suv=blend_veto_suv, blend_base_levels=blend_base_levels,
                                     slice_smoothing_mm=slice_smoothing_mm)
    per_scan, pictures = [], {}
    output = Path(output_dir)
    with staged_folder(output) as stage:
        for number, (case, mask_source) in enumerate(zip(cases, mask_sources, strict=True)):
            pair = load_case(case)
            region_mask = None if mask_source is None else load_region_mask(mask_source, pair.ct, pair.case_id)
            organ_map = organ_map_path(case)
            organs = None if organ_map is None else load_organ_labels(organ_map, pair.ct)
            result = predict_virtual_pet(pair.ct, loaded.fcn, loaded.gan, config, device=device, cancel=cancel)
            predictions = {"fcn": result.fcn, "gan": result.gan, "blended": result.blended}
            per_scan.append(score_case(pair.case_id, pair.ct, pair.suv, pair.lesions, predictions, threshold_suv,
                                       min_volume_ml, region_mask, organs))
            picture = stage / "pictures" / f"{_safe(pair.case_id)}.png"
            save_comparison_png(pair.ct, pair.suv, result.blended, picture, pair.case_id)
            pictures[pair.case_id] = f"pictures/{picture.name}"
            report(progress, cancel, "evaluate", number + 1, len(cases), pair.case_id)
        results = {
            "model": str(model) if not isinstance(model, VirtualPETModel) else "(in memory)",
            "model_training_data": loaded.card.training_data.get("description", ""),
            "data": str(data), "region": region, "threshold_suv": threshold_suv, "min_volume_ml": min_volume_ml,
            **{key: getattr(config, key) for key in POSTPROCESSING_KEYS},
            "scans": len(per_scan),
            "paper": PAPER, "overall": overall_metrics(per_scan), "per_scan": per_scan, "pictures": pictures,
            "seconds": round(time.perf_counter() - started, 2),
        }
        results = _strict_json(results)
        with atomic_output(stage / "results.json") as temp:
            temp.write_text(json.dumps(results, indent=2, default=_json_number) + "\n")
        with atomic_output(stage / "report.md") as temp:
            temp.write_text(markdown_report(results))
        with atomic_output(stage / "report.html") as temp:
            temp.write_text(html_report(results))
    results["files"] = {name: str(output / name) for name in ("results.json", "report.md", "report.html")}
    return results


def score_case(case_id: str, ct: Volume, true_suv: Volume, lesions: Volume | None,
               predictions: dict[str, Volume], threshold_suv: float,
               min_volume_ml: float = MIN_LESION_VOLUME_ML, region_mask: np.ndarray | None = None,
               organs: np.ndarray | None = None) -> dict[str, Any]:
    """Image metrics in the body (and region) and detection scores of every prediction of one case.

    With ``region_mask`` detection sees only the region's lesions and the in-region SUV (:func:`.restrict_to_region`);
    the image metrics still compare the unmasked images, over the region's body voxels. With ``organs`` (the case's
    organ label map on the CT grid) each margin-rule false positive is named by its organ
    (:mod:`.false_positive_organs`): ``margin_fp_regions`` and ``margin_fp_by_organ`` per method.
    """
    body = body_mask_from_ct(ct)
    seen = RegionCase(lesions, true_suv, predictions, body)
    if region_mask is not None:
        seen = restrict_to_region(region_mask, lesions, true_suv, predictions)
        body = body & region_mask
        if not body.any():
            raise InputError(f"Case {case_id}: its region mask holds no body voxel (CT > -500 HU); check the mask.")
    entry: dict[str, Any] = {"case_id": case_id, "true_lesions": None}
    for method, predicted in predictions.items():
        scores = image_metrics(predicted, true_suv, body)
        if seen.lesions is not None:
            scores.update(detection_scores(seen.lesions, seen.predictions[method], seen.true_suv, threshold_suv,
                                           min_volume_ml))
            raw = lesion_detection(seen.lesions, seen.predictions[method], threshold_suv)
            scores.update(raw_tp=raw["tp"], raw_fp=raw["fp"])
            margins = margin_detection(seen.lesions, seen.predictions[method], seen.true_suv,
                                       voxel_volume_ml(lesions), threshold_suv, min_volume_ml)
            scores.update(margin_tp=margins["tp"], margin_fp=margins["fp"], margin_missed_lesions=margins["missed"])
            if organs is not None:
                scores.update(_organ_attribution(margins["false_positives"], seen.predictions[method].array, organs,
                                                 voxel_volume_ml(lesions)))
            entry["true_lesions"] = scores["n_true"]
        entry[method] = scores
    if seen.lesions is not None:
        entry["true_pet"] = detection_scores(seen.lesions, seen.true_suv, seen.true_suv, threshold_suv, min_volume_ml)
        entry["true_pet"]["margin_tp"] = int(margin_found_lesions(seen.lesions, seen.true_suv, threshold_suv).size)
    return entry


def _organ_attribution(false_positives: MarginFalsePositives, predicted: np.ndarray, organs: np.ndarray,
                       voxel_ml: float) -> dict[str, Any]:
    """The regions the margin rule counted, named by organ: its own labelling, so the two always agree."""
    regions = false_positive_regions(false_positives.components, false_positives.ids, predicted, organs, voxel_ml)
    return {"margin_fp_regions": regions, "margin_fp_by_organ": count_by_organ(regions)}


def detection_scores(lesions: Volume, predicted: Volume, true_suv: Volume, threshold_suv: float,
                     min_volume_ml: float) -> dict[str, Any]:
    """TP/FN/FP of candidates >= min_volume_ml; unmatched candidates on real uptake count as physiological."""
    label_volume, candidates = find_lesion_candidates(predicted, threshold_suv, min_volume_ml)
    components, truth = label_volume.array, lesions.array
    true_ids = np.unique(truth[truth > 0])
    on_lesion = (truth > 0) & (components > 0)
    overlaps = np.unique(np.stack([truth[on_lesion], components[on_lesion]]), axis=1)  # (lesion id, candidate id)
    detected, matched = np.unique(overlaps[0]), np.unique(overlaps[1])
    unmatched = np.setdiff1d(np.arange(1, len(candidates) + 1), matched)  # candidate ids run 1..n
    on_uptake = np.unique(components[(true_suv.array > threshold_suv) & (components > 0)])
    physiological = np.intersect1d(unmatched, on_uptake)
    tp = int(detected.size)
    tp_focal = _focal_finds(overlaps, truth, candidates, voxel_volume_ml(lesions))
    return {"tp": tp, "fn": int(true_ids.size - tp), "fp": int(unmatched.size - physiological.size),
            "fp_physiological": int(physiological.size), "n_true": int(true_ids.size),
            "tpr": tp / true_ids.size if true_ids.size else None, "tp_focal": tp_focal,
            "tpr_focal": tp_focal / true_ids.size if true_ids.size else None}


def _focal_finds(overlaps: np.ndarray, truth: np.ndarray, candidates: list[dict], voxel_ml: float) -> int:
    """True lesions overlapped by a candidate no larger than FOCAL_VOLUME_FACTOR times the lesion."""
    lesion_ml = np.bincount(truth[truth > 0])[overlaps[0]] * voxel_ml
    candidate_ml = np.array([candidates[i - 1]["volume_ml"] for i in overlaps[1]])
    return int(np.unique(overlaps[0][candidate_ml <= FOCAL_VOLUME_FACTOR * lesion_ml]).size)


def overall_metrics(per_scan: list[dict[str, Any]]) -> dict[str, Any]:
    """Pooled TPR, false positives per labelled scan, and mean image metrics, for every method."""
    overall = {}
    for method in METHODS:
        rows = [scan[method] for scan in per_scan if method in scan]
        if not rows:
            continue
        labelled = [row for row in rows if "tp" in row]
        true = sum(row["n_true"] for row in labelled)
        fp = sum(row["fp"] for row in labelled)
        raw_tp = sum(row["raw_tp"] for row in labelled)
        raw_fp = sum(row["raw_fp"] for row in labelled)
        overall[method] = {
            **_pooled_detection(labelled), "fp": fp,
            "fp_per_scan": fp / len(labelled) if labelled else None,
            "fp_physiological_per_scan": (sum(row["fp_physiological"] for row in labelled) / len(labelled)
                                          if labelled else None),
            "raw_tpr": raw_tp / true if true else None,
            "raw_fp_per_scan": raw_fp / len(labelled) if labelled else None, "labelled_scans": len(labelled),
            **margin_rates(labelled), **margin_organs(labelled),
            **{key: float(np.mean([row[key] for row in rows])) for key in ("ssim", "psnr_db", "mae_suv")},
        }
    references = [scan["true_pet"] for scan in per_scan if "true_pet" in scan]
    if references:
        overall["true_pet"] = _pooled_detection(references)
        true = sum(row["n_true"] for row in references)
        overall["true_pet"]["tpr_margin"] = sum(row["margin_tp"] for row in references) / true if true else None
    return overall


def margin_rates(labelled: list[dict[str, Any]]) -> dict[str, Any]:
    """TPR and false positives per scan under the margin rule (:func:`.detection_metrics.margin_detection`)."""
    if not labelled or "margin_tp" not in labelled[0]:
        return {}
    true = sum(row["n_true"] for row in labelled)
    return {"tpr_margin": sum(row["margin_tp"] for row in labelled) / true if true else None,
            "fp_margin_per_scan": sum(row["margin_fp"] for row in labelled) / len(labelled)}


def margin_organs(labelled: list[dict[str, Any]]) -> dict[str, Any]:
    """Margin false positives per organ over the labelled scans that carry an organ map (none: no entry)."""
    mapped = [row["margin_fp_regions"] for row in labelled if "margin_fp_regions" in row]
    if not mapped:
        return {}
    return {"margin_fp_by_organ": overall_by_organ(mapped), "organ_mapped_scans": len(mapped)}


def _pooled_detection(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """TPR and focal TPR pooled over scans (all found / all true lesions, as the paper's 24/26)."""
    true = sum(row["n_true"] for row in rows)
    tp, tp_focal = (sum(row[key] for row in rows) for key in ("tp", "tp_focal"))
    return {"tpr": tp / true if true else None, "tp": tp, "true_lesions": true,
            "tpr_focal": tp_focal / true if true else None, "tp_focal": tp_focal}


def save_comparison_png(ct: Volume, true_suv: Volume, virtual: Volume, path: Path, title: str) -> Path:
    """Coronal MIPs: CT, true PET, virtual PET and their overlay, side by side with titles."""
    from matplotlib.figure import Figure

    tiles = []
    for volume, window in ((ct, CT_MIP_WINDOW), (true_suv, SUV_PICTURE_WINDOW), (virtual, SUV_PICTURE_WINDOW)):
        image, spacing = display_plane(mip(volume, "coronal"), "coronal", 0)
        tiles.append(windowed(square_pixels(image, spacing), window))
    grey_ct = np.repeat(tiles[0][..., None], 3, axis=2)
    pets = [np.repeat((1.0 - tile)[..., None], 3, axis=2) for tile in tiles[1:]]
    overlay = np.stack([tiles[1], tiles[2], np.zeros_like(tiles[1])], axis=-1)
    names = ("CT (MIP)", "true PET", "virtual PET", "overlay: true red, virtual green")
    aspect = grey_ct.shape[0] / grey_ct.shape[1]
    figure = Figure(figsize=(4 * 2.2, 2.2 * aspect + 0.5))
    axes = figure.subplots(1, 4)
    for ax, image, name in zip(axes, [grey_ct, *pets, overlay], names, strict=True):
        ax.imshow(np.clip(image, 0.0, 1.0), interpolation="nearest")
        ax.set_title(name, fontsize=7)
        ax.set_axis_off()
    figure.suptitle(title, fontsize=8)
    figure.tight_layout(pad=0.3)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(path) as temp:
        figure.savefig(temp, format="png", dpi=100)
    return path


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def _table_rows(results: dict[str, Any]) -> list[list[str]]:
    rows = []
    for method in METHODS:
        row = results["overall"][method]
        rows.append([method, _fmt(row["tpr"]), f"{row['tp']}/{row['true_lesions']}", _fmt(row["tpr_focal"]),
                     _fmt(row["fp_per_scan"], 2),
                     _fmt(row["fp_physiological_per_scan"], 2), _fmt(row["raw_tpr"]), _fmt(row["raw_fp_per_scan"], 2),
                     _fmt(row.get("tpr_margin")), _fmt(row.get("fp_margin_per_scan"), 2),
                     _fmt(row["ssim"]), _fmt(row["psnr_db"], 2), _fmt(row["mae_suv"], 3)])
    return rows


HEADER = ["method", "TPR", "detected", "focal TPR", "FP / scan", "physiological / scan", "raw TPR", "raw FP / scan",
          "margin TPR", "margin FP / scan", "SSIM",
          "PSNR (dB)", "MAE (SUV)"]


ORGAN_HEADER_METHOD = "blended"
ORGAN_HEADER = ["organ (most of the region's voxels)", "false regions", "FP / scan", "total ml"]


def _organ_rows(results: dict[str, Any]) -> list[list[str]]:
    return [[row["organ"], str(row["count"]), _fmt(row["per_scan"], 2), _fmt(row["volume_ml"], 1)]
            for row in results["overall"][ORGAN_HEADER_METHOD]["margin_fp_by_organ"]]


def _organ_sentence(results: dict[str, Any]) -> str:
    overall = results["overall"][ORGAN_HEADER_METHOD]
    return (f"Each false positive of the margin rule named by the organ label holding most of its voxels, in the "
            f"{overall['organ_mapped_scans']} scans that carry an organ map (organs.*); per scan over those scans. "
            "results.json lists every region with its volume, SUVmax and the organ at its hottest voxel.")


def _ceiling_sentence(results: dict[str, Any]) -> str:
    ceiling = results["overall"]["true_pet"]
    return (f"Ceiling on these cases: the true PET itself, scored by the same rules, reaches TPR "
            f"{_fmt(ceiling['tpr'])} ({ceiling['tp']}/{ceiling['true_lesions']}) and focal TPR "
            f"{_fmt(ceiling['tpr_focal'])}; a lesion it misses is too faint after the scanner's blur or merges with "
            "hot tissue beside it, so no virtual PET can find it either.")


def _region_title(results: dict[str, Any]) -> str:
    return f", {results['region']} only" if results.get("region") else ""


def _scope_sentence(results: dict[str, Any]) -> str:
    region = results.get("region")
    if not region:
        return "SSIM/PSNR/MAE in SUV inside the body; lesions and candidates anywhere in the scan."
    return (f"Scored inside the {region} only, like the paper: lesions with most of their voxels in the {region}, "
            f"candidates found on the SUV inside the {region}, SSIM/PSNR/MAE over the {region}'s voxels.")


def markdown_report(results: dict[str, Any]) -> str:
    lines = [f"# Virtual PET evaluation ({results['scans']} scans{_region_title(results)})", "",
             f"Model: `{results['model']}`. {results['model_training_data']}", "",
             f"Detection rule (Ben-Cohen et al.): a true lesion counts as detected when a predicted component with "
             f"SUVmax > {results['threshold_suv']} overlaps it; candidates of at least {results['min_volume_ml']} ml; "
             "an unmatched candidate on real uptake in the true PET is 'physiological', otherwise a false positive. "
             "'raw' = every component, no size limit. 'focal' counts a lesion only when a candidate overlapping it is at "
             f"most {FOCAL_VOLUME_FACTOR:g} times its volume (not an organ-sized region that merely touches it). "
             "'margin' is the project's target rule: a lesion is found when the virtual PET exceeds the threshold "
             "within one voxel of it; a false positive is a region of at least the minimum volume above the "
             "threshold lying two voxels or more from any true uptake above it and one voxel from any lesion. "
             f"Paper: TPR {PAPER['tpr']}, {PAPER['fp_per_scan']} false positives per scan (liver only). "
             f"{_scope_sentence(results)}", "",
             "| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(row) + " |" for row in _table_rows(results)]
    lines += ["", _ceiling_sentence(results)] if "true_pet" in results["overall"] else []
    if ORGAN_HEADER_METHOD in results["overall"] and "margin_fp_by_organ" in results["overall"][ORGAN_HEADER_METHOD]:
        lines += ["", "## Where the margin false positives lie (blended)", "", _organ_sentence(results), "",
                  "| " + " | ".join(ORGAN_HEADER) + " |", "|" + "---|" * len(ORGAN_HEADER)]
        lines += ["| " + " | ".join(row) + " |" for row in _organ_rows(results)]
    lines += ["", "## Per scan", "", "| case | lesions | " + " | ".join(
        f"{m} TP/FP/SSIM" for m in METHODS) + " |", "|---|---|" + "---|" * len(METHODS)]
    for scan in results["per_scan"]:
        cells = [f"{scan[m].get('tp', 'n/a')}/{scan[m].get('fp', 'n/a')}/{_fmt(scan[m]['ssim'])}" for m in METHODS]
        lines.append(f"| {scan['case_id']} | {_fmt(scan['true_lesions'])} | " + " | ".join(cells) + " |")
    lines += ["", "## Pictures (coronal MIPs)", ""]
    lines += [f"![{case}]({path})" for case, path in results["pictures"].items()]
    return "\n".join(lines) + "\n"


def html_report(results: dict[str, Any]) -> str:
    def table(header: list[str], rows: list[list[str]]) -> str:
        head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows)
        return f"<table border='1' cellpadding='4'><tr>{head}</tr>{body}</table>"

    scans = [[s["case_id"], _fmt(s["true_lesions"])] + [
        f"{s[m].get('tp', 'n/a')}/{s[m].get('fp', 'n/a')}/{_fmt(s[m]['ssim'])}" for m in METHODS]
        for s in results["per_scan"]]
    pictures = "".join(f"<p><img src='{html.escape(path)}' alt='{html.escape(case)}'></p>"
                       for case, path in results["pictures"].items())
    return ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>Virtual PET evaluation</title></head><body>"
            f"<h1>Virtual PET evaluation ({results['scans']} scans{html.escape(_region_title(results))})</h1>"
            f"<p>Model: <code>{html.escape(results['model'])}</code>. "
            f"{html.escape(results['model_training_data'])}</p>"
            f"<p>A true lesion is detected when a predicted component with SUVmax &gt; {results['threshold_suv']} "
            f"overlaps it; candidates of at least {results['min_volume_ml']} ml; unmatched candidates on real uptake "
            f"are physiological; 'raw' counts every component (paper: TPR {PAPER['tpr']}, "
            f"{PAPER['fp_per_scan']} FP per scan, liver only). {html.escape(_scope_sentence(results))}</p>"
            + table(HEADER, _table_rows(results))
            + (f"<p>{html.escape(_ceiling_sentence(results))}</p>" if "true_pet" in results["overall"] else "")
            + (f"<h2>Where the margin false positives lie (blended)</h2><p>{html.escape(_organ_sentence(results))}</p>"
               + table(ORGAN_HEADER, _organ_rows(results))
               if "margin_fp_by_organ" in results["overall"].get(ORGAN_HEADER_METHOD, {}) else "")
            + "<h2>Per scan (TP/FP/SSIM)</h2>" + table(["case", "lesions", *METHODS], scans)
            + "<h2>Coronal MIPs</h2>" + pictures + "</body></html>\n")


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "case"


def _strict_json(value: Any) -> Any:
    """NaN (TPR of a scan without lesions) and infinity (PSNR of a perfect match) become null: strict JSON."""
    if isinstance(value, dict):
        return {key: _strict_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_strict_json(item) for item in value]
    if isinstance(value, float | np.floating) and not math.isfinite(float(value)):
        return None
    return value


def _json_number(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise InputError(f"Cannot write {type(value).__name__} to results.json.")
