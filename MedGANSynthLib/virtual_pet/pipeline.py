"""``run_virtual_pet``: a CT in, a folder of virtual-PET results with stable names out (CLI, Slicer, scripts).

Files (all on the CT's exact grid; NRRD keeps modality/units in its header):

    virtual_pet.nrrd     blended FCN + GAN virtual PET, SUV (Ben-Cohen et al.); 0 outside the CT's body unless
                         ``outside_body="keep"`` (virtual_pet/outside_body.py; so are fcn, gan and uncertainty)
    fcn.nrrd, gan.nrrd   the two networks alone (unless ``write_fcn_gan=False``)
    uncertainty.nrrd     SD of Monte-Carlo-dropout GAN passes, SUV (only with ``uncertainty_passes > 0``)
    lesion_labels.nrrd   connected components of virtual PET > threshold (SUV 2.5) of >= min_volume_ml, ids 1..n
    lesions.csv / .json  one row per candidate: centroid (LPS mm), SUVmax, SUVmean, volume (ml)
    summary.json         model, settings, counts, timings, the file list and the caveats
    virtual_pet_mip.png  coronal MIP of the virtual PET (inverted grey, SUV 0..10)
    fusion_coronal.png, fusion_axial.png   CT + virtual PET through the hottest candidate
    (pictures: long side >= 512 px at the true physical aspect, title, orientation letters, SUV colour bar)

All-or-nothing: everything is written into a hidden staging folder beside ``output_dir`` and moved in only when
every file exists, so an error (bad CT, missing model, cancel) leaves nothing in ``output_dir``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from MedGANSynthLib.cyclegan.input_check import AUTO, cycle_error_warnings, load_input_check
from MedGANSynthLib.cyclegan.translate import ct_to_suv
from MedGANSynthLib.cyclegan.weights import ARCHITECTURE as CYCLEGAN
from MedGANSynthLib.cyclegan.weights import CycleGANModel, load_cyclegan
from MedGANSynthLib.errors import InputError
from MedGANSynthLib.io.atomic import atomic_output
from MedGANSynthLib.io.volume_io import read_volume, write_volume
from MedGANSynthLib.jobs.progress import CancelToken, ProgressCallback, report
from MedGANSynthLib.pictures import save_fusion_png, save_mip_png
from MedGANSynthLib.projection.mip import mip, projected_array_axis
from MedGANSynthLib.virtual_pet.blending import PAPER_THRESHOLD_SUV
from MedGANSynthLib.virtual_pet.inference import (
    POSTPROCESSING_KEYS,
    VirtualPETResult,
    check_ct,
    predict_virtual_pet,
)
from MedGANSynthLib.virtual_pet.input_statistics import card_statistics, distribution_warnings
from MedGANSynthLib.virtual_pet.lesions import (
    MIN_LESION_VOLUME_ML,
    find_lesion_candidates,
    write_lesion_csv,
    write_lesion_json,
)
from MedGANSynthLib.virtual_pet.output_files import OUTPUT_FILES
from MedGANSynthLib.virtual_pet.outside_body import (
    DEFAULT_OUTSIDE_BODY,
    check_outside_body,
    zero_outside_body,
)
from MedGANSynthLib.virtual_pet.weights import DEFAULT_MODEL_ID, VirtualPETModel, load_virtual_pet
from MedGANSynthLib.volume import Volume
from MedGANSynthLib.weights.catalogue import resolve_model
from MedGANSynthLib.weights.model_card import ModelCard
from MedGANSynthLib.weights.safetensors_io import weight_paths

CAVEAT = ("Research software: a virtual PET is predicted from the CT alone and can miss or invent uptake "
          "(GAN hallucination, see Wolterink et al., a GAN primer for radiologists); it is not a diagnosis.")


def run_virtual_pet(
    ct_path_or_volume: str | os.PathLike | Volume,
    output_dir: str | os.PathLike,
    model: str | os.PathLike | VirtualPETModel = DEFAULT_MODEL_ID,
    device: str = "auto",
    threshold_suv: float = PAPER_THRESHOLD_SUV,
    min_volume_ml: float = MIN_LESION_VOLUME_ML,
    uncertainty_passes: int = 0,
    slab_size: int | None = None,
    write_fcn_gan: bool = True,
    pictures: bool = True,
    blend_levels: int | None = None,
    blend_dilation_mm: float | None = None,
    blend_veto_suv: float | None = None,
    blend_base_levels: int | None = None,
    slice_smoothing_mm: float | None = None,
    compress: bool = False,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    ct_series: str | int | None = None,
    input_check: str | os.PathLike | CycleGANModel | None = AUTO,
    outside_body: str = DEFAULT_OUTSIDE_BODY,
) -> dict[str, Any]:
    """Predict the virtual PET of a CT (path, DICOM folder or Volume) and write the stable files; returns the summary.

    ``model``: the paired virtual-PET model (FCN + pix2pix GAN, blended) or a CT -> PET CycleGAN (unpaired; its
    translation is the virtual PET, there is no FCN/GAN split, blend or dropout uncertainty).
    ``ct_series`` (SeriesNumber or SeriesInstanceUID) names the CT when a DICOM folder holds several series;
    ``compress`` gzips the float SUV volumes too (smaller, slower to write). ``input_check``: a CT -> PET CycleGAN
    whose cycle error checks the CT against its training CTs (cyclegan/input_check.py); the default ``"auto"`` uses
    the bundled one when installed, None or "none" switches it off. ``outside_body``: "zero" (default) sets every
    output to 0 outside the CT's body, "keep" leaves the networks' raw values there (virtual_pet/outside_body.py)."""
    started = time.perf_counter()
    check_outside_body(outside_body)
    if not threshold_suv > 0:
        raise InputError(f"The lesion threshold must be a positive SUV (got {threshold_suv}).")
    if min_volume_ml < 0:
        raise InputError(f"The smallest lesion volume cannot be negative (got {min_volume_ml} ml).")
    if uncertainty_passes < 0 or uncertainty_passes == 1:
        raise InputError(f"Uncertainty needs at least 2 dropout passes (got {uncertainty_passes}).")
    ct = ct_path_or_volume if isinstance(ct_path_or_volume, Volume) else read_volume(
        ct_path_or_volume, series=ct_series, modality="CT")
    check_ct(ct)
    loaded = _load_model(model, device)
    checker = load_input_check(input_check)  # refuses a CycleGAN without its training band before any work
    warnings, statistics_check = distribution_warnings(ct, card_statistics(loaded.card))  # out-of-distribution guard
    cycle_warnings, cycle_check = cycle_error_warnings(ct, checker)
    warnings += cycle_warnings
    if isinstance(loaded, CycleGANModel):
        _refuse_paired_only_options(uncertainty_passes, blend_levels, blend_dilation_mm, blend_veto_suv,
                                    blend_base_levels, slice_smoothing_mm)
        report(progress, cancel, "predict", 0, 1, "CycleGAN CT -> PET")
        result = VirtualPETResult(blended=ct_to_suv(loaded, ct))
        settings = {"working_pixel_mm": loaded.pixel_mm("a"), **dict.fromkeys(POSTPROCESSING_KEYS)}
    else:
        config = loaded.inference_config(slab_size=slab_size, threshold_suv=threshold_suv,
                                         return_fcn=write_fcn_gan, return_gan=write_fcn_gan,
                                         uncertainty_passes=uncertainty_passes, blend_levels=blend_levels,
                                         blend_dilation_mm=blend_dilation_mm, blend_veto_suv=blend_veto_suv,
                                         blend_base_levels=blend_base_levels, slice_smoothing_mm=slice_smoothing_mm)
        result = predict_virtual_pet(ct, loaded.fcn, loaded.gan, config, device=device, progress=progress,
                                     cancel=cancel)
        settings = {"working_pixel_mm": config.working_pixel_mm,
                    **{key: getattr(config, key) for key in POSTPROCESSING_KEYS}}
    removed_suv_max = None
    if outside_body == "zero":  # before lesion finding, so no candidate lies in the air or on the table
        report(progress, cancel, "outside_body", 0, 1, "setting the virtual PET to 0 outside the body")
        outputs = [volume for volume in (result.blended, result.fcn, result.gan, result.uncertainty)
                   if volume is not None]
        removed_suv_max = round(zero_outside_body(ct, outputs), 3)
    labels, candidates = find_lesion_candidates(result.blended, threshold_suv, min_volume_ml)
    report(progress, cancel, "write", 0, 1, "writing files")

    output = Path(output_dir)
    with staged_folder(output) as stage:
        # float SUV maps uncompressed unless ``compress``: gzip took 3.6 s per 60 slices of 512² for 19-33 % less
        # disk (measured on the demo's phantom and real-CT outputs); labels compress well and always are
        files = {"virtual_pet": write_volume(result.blended, stage / OUTPUT_FILES["virtual_pet"], compress=compress)}
        for name, volume in (("fcn", result.fcn), ("gan", result.gan), ("uncertainty", result.uncertainty)):
            if volume is not None:
                files[name] = write_volume(volume, stage / OUTPUT_FILES[name], compress=compress)
        files["lesion_labels"] = write_volume(labels, stage / OUTPUT_FILES["lesion_labels"])
        files["lesions_csv"] = write_lesion_csv(candidates, stage / OUTPUT_FILES["lesions_csv"])
        files["lesions_json"] = write_lesion_json(candidates, stage / OUTPUT_FILES["lesions_json"])
        if pictures:
            files.update(_pictures(ct, result.blended, candidates, stage))
        summary = {
            "model": str(model) if not isinstance(model, (VirtualPETModel, CycleGANModel)) else "(in memory)",
            "architecture": loaded.card.architecture,
            "model_training_data": loaded.card.training_data.get("description", ""),
            "threshold_suv": threshold_suv,
            "min_volume_ml": min_volume_ml,
            "uncertainty_passes": uncertainty_passes,
            **settings,
            "outside_body": outside_body,
            # the networks' highest SUV outside the body before it was set to 0 (None with "keep")
            "outside_body_suv_max_removed": removed_suv_max,
            "ct": {"shape_kji": list(ct.array.shape), "spacing": list(ct.spacing), "origin": list(ct.origin),
                   "direction": np.asarray(ct.direction).tolist(), "modality": ct.modality},
            "lesions": len(candidates),
            "hottest_suv_max": max((c["suv_max"] for c in candidates), default=None),
            "virtual_pet_suv_max": float(result.blended.array.max()),
            "seconds": round(time.perf_counter() - started, 2),
            "caveat": CAVEAT,
            "warnings": warnings,
            "input_statistics": statistics_check,
            "cycle_error_check": cycle_check,
            "files": {name: str(output / Path(path).name) for name, path in files.items()},
        }
        summary["files"]["summary"] = str(output / OUTPUT_FILES["summary"])
        with atomic_output(stage / OUTPUT_FILES["summary"]) as temp:
            temp.write_text(json.dumps(summary, indent=2) + "\n")
    report(progress, cancel, "write", 1, 1, "done")
    return summary


def _load_model(model: str | os.PathLike | VirtualPETModel | CycleGANModel,
                device: str) -> VirtualPETModel | CycleGANModel:
    """The paired virtual-PET model, or a CycleGAN when the card (of an id or a path) says so."""
    if isinstance(model, (VirtualPETModel, CycleGANModel)):
        return model
    card_path = weight_paths(resolve_model(model))[1]
    if card_path.is_file() and ModelCard.load(card_path).architecture == CYCLEGAN:
        return load_cyclegan(model, device=device)
    return load_virtual_pet(model, device="cpu")


def _refuse_paired_only_options(uncertainty_passes: int, *blending: float | None) -> None:
    if uncertainty_passes:
        raise InputError("--uncertainty needs the paired virtual-PET model (dropout passes of its GAN); a CycleGAN "
                         "has no dropout. Leave out --uncertainty or pass a virtual-PET --model.")
    if any(value is not None for value in blending):
        raise InputError("--blend-levels, --blend-dilation, --blend-veto, --blend-base-levels and --slice-smoothing "
                         "shape the paired model's FCN/GAN blend; a CycleGAN has none. Leave them out or pass a "
                         "virtual-PET --model.")


@contextlib.contextmanager
def staged_folder(output: Path):
    """Yield a hidden staging folder beside ``output``; on success move its files into ``output``, else delete it."""
    output.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{output.name}.staging.", dir=output.parent))
    try:
        yield stage
        if output.exists() and not output.is_dir():
            raise InputError(f"'{output}' exists and is a file; choose a folder for the outputs.")
        output.mkdir(parents=True, exist_ok=True)
        for path in sorted(stage.iterdir()):
            os.replace(path, output / path.name)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _pictures(ct: Volume, virtual: Volume, candidates: list[dict], stage: Path) -> dict[str, Path]:
    files = {}
    projection = mip(virtual, "coronal")
    if float(projection.array.max()) > float(projection.array.min()):
        files["mip_png"] = save_mip_png(projection, stage / "virtual_pet_mip.png",
                                        title="Virtual PET (predicted from CT), coronal MIP (SUV)")
    hottest = _hottest_index(virtual, candidates)
    for plane in ("coronal", "axial"):
        axis = projected_array_axis(ct, plane)
        files[f"fusion_{plane}_png"] = save_fusion_png(ct, virtual, stage / f"fusion_{plane}.png", plane=plane,
                                                       index=int(hottest[axis]), pet_name="virtual PET")
    return files


def _hottest_index(virtual: Volume, candidates: list[dict]) -> np.ndarray:
    """Array index (k, j, i) of the hottest candidate's centroid, else of the brightest voxel."""
    if candidates:
        best = max(candidates, key=lambda c: c["suv_max"])
        i, j, k = np.rint(virtual.continuous_index(best["centroid_mm"])).astype(int)
        index = np.array([k, j, i])
    else:
        index = np.array(np.unravel_index(int(np.argmax(virtual.array)), virtual.array.shape))
    return np.clip(index, 0, np.array(virtual.array.shape) - 1)
