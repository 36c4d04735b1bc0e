"""How physiological is a virtual PET on real patient CT? Tissue-class SUVs on the real CTs beside the clone.

No organ masks come with the real CTs, so tissues are told apart by HU and position, which any reader can redo:

* body: HU > -500 opened in-plane by a square ~5 mm wide, at least 3 voxels (drops the CT table; 5 voxels at
  0.98 mm, 3 at 3 mm, where 5 voxels, 15 mm, opened the thin wall behind the lungs so they were not filled),
  3-D components of at least 100 ml (the trunk and arms beside it), holes filled per slice (so the lungs are
  inside);
* subcutaneous and visceral fat: body voxels of -190..-30 HU (the usual adipose window), eroded by one voxel;
* liver and spleen: the cores of thick organs, soft tissue enhanced or not (20..200 HU) at least 15 mm in-plane
  from anything else; the liver is the largest 3-D core lying mostly on the patient's right (at least 100 ml), the
  spleen the largest lying mostly left and posterior of the body's centre (at least 50 ml), each averaging
  30..180 HU (unenhanced liver 58 +- 9 HU and spleen 35-55 HU, PHANTOM_REFERENCE; portal-venous enhancement
  56 +- 14 HU, REFERENCE.md). Only the cores are measured, away from partial volume;
* peripheral soft tissue (mostly muscle: chest and abdominal wall, paraspinal, shoulder girdle): body voxels of
  20..80 HU within 40 mm of the body surface, eroded by one voxel, less anything within 20 mm in-plane of the liver
  and spleen cores (their rims and the wall muscle that touches them cannot be told apart by HU; session 31 found
  ~38 % of the torso CT's right-side "muscle" touching the liver);
* left and right: that soft tissue split at the body's centre along the patient's left-right axis (LPS x);
* outside the body: everything more than 5 mm outside the body mask (air, the table).

This mask is the script's own, written independently of the product's (``--outside-body``, preprocessing/
body_mask.py), so it can judge it. Each CT is measured twice through ``run_virtual_pet``, as ``medgansynth
virtual-pet`` writes it: with ``--outside-body keep`` (the networks' raw output) and with the default
``--outside-body zero`` (the product), so a card quoting the product still shows what the networks draw.

Published FDG levels (SUVmean) set beside them: skeletal muscle 0.6-1.0, fat 0.2-0.6 (below muscle), liver
1.5-2.5 (PHANTOM_REFERENCE: 2.2 +- 0.4, 1.9 +- 0.4), spleen 1.5-2.0 (below the liver; ~0.74 x liver, REFERENCE.md),
the ranges issue 29 names; a correct virtual PET also never goes below 0 and puts nothing outside the body. The
blood pool needs a vessel mask HU and position cannot give on unenhanced CT.

Usage (from the project root):
    .venv/bin/python Testing/Training/virtual_pet_real_ct_physiology.py [--model ID_OR_PATH] [--json] [--write-card]

``--write-card`` records the figures in the bundled virtual PET's card (measured with the card's own settings: run
it without --model, --blend-veto and --blend-base-levels), then ``model_card_markdown.py`` renders them.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np
from scipy import ndimage

from MedGANSynthLib.io.volume_io import read_volume
from MedGANSynthLib.virtual_pet.pipeline import run_virtual_pet
from MedGANSynthLib.virtual_pet.weights import DEFAULT_MODEL_ID, load_virtual_pet
from MedGANSynthLib.volume import Volume

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
REAL_CTS = ("ct-nifti/example_ct_sm.nii.gz", "ct-dicom-thorax")
PUBLISHED = {"muscle": (0.6, 1.0), "fat": (0.2, 0.6), "liver": (1.5, 2.5), "spleen": (1.5, 2.0)}
ORGAN_CORE_MM = 15.0
"""Soft tissue this far in-plane from any other tissue is the core of a thick organ: wall muscles are ~5-15 mm thick."""
ORGAN_RIM_MM = 20.0
"""Peripheral soft tissue within this distance of the liver or spleen core is left out of "muscle" (cores lie 15 mm in)."""
MIN_LIVER_CORE_ML = 100.0
MIN_SPLEEN_CORE_ML = 50.0
MIN_BODY_PART_ML = 100.0
"""3-D pieces of at least 100 ml are body: an arm beside the trunk of a short scan is its own piece (the thorax CT's
right arm, ~200 ml in its 4 cm, was counted outside the body while only the largest piece was kept)."""


def body_mask(hu: np.ndarray, spacing: tuple[float, float, float]) -> np.ndarray:
    voxel_ml = float(np.prod(spacing)) / 1000.0
    radius = [max(1, round(2.0 / pixel)) for pixel in (spacing[1], spacing[0])]  # ~5 mm wide, >= 3 voxels
    opened = ndimage.binary_opening(hu > -500, structure=np.ones((1, 2 * radius[0] + 1, 2 * radius[1] + 1), bool))
    labels, count = ndimage.label(opened)
    if count == 0:
        return opened
    sizes_ml = np.bincount(labels.ravel()) * voxel_ml
    sizes_ml[0] = 0.0
    body = (sizes_ml >= MIN_BODY_PART_ML)[labels]
    return np.stack([ndimage.binary_fill_holes(plane) for plane in body])


def in_plane_distance_mm(mask: np.ndarray, spacing_ji: tuple[float, float]) -> np.ndarray:
    """Per slice, each voxel's distance in mm to the nearest voxel outside ``mask`` (0 outside it; infinite in a slice
    that ``mask`` fills, where SciPy would measure to a point beyond the corner)."""
    return np.stack([np.full(plane.shape, np.inf) if plane.all() else
                     ndimage.distance_transform_edt(plane, sampling=spacing_ji) for plane in mask])


def thick_organ_cores(hu: np.ndarray, body: np.ndarray, spacing_ji: tuple[float, float]) -> tuple[np.ndarray, int]:
    """3-D pieces of soft tissue, enhanced or not, at least ORGAN_CORE_MM in-plane from any other tissue."""
    organ_tissue = body & (hu >= 20) & (hu <= 200)
    return ndimage.label(in_plane_distance_mm(organ_tissue, spacing_ji) >= ORGAN_CORE_MM)


def largest_core(labels: np.ndarray, count: int, side: np.ndarray, hu: np.ndarray, voxel_ml: float,
                 min_ml: float) -> np.ndarray:
    """The largest core lying mostly inside ``side``, if it holds ``min_ml`` and averages organ HU; else empty."""
    pieces = np.arange(1, count + 1)
    sizes_ml = ndimage.sum_labels(np.ones_like(side), labels, pieces) * voxel_ml
    on_side = ndimage.mean(side, labels, pieces) > 0.5 if count else np.zeros(0, bool)
    mean_hu = ndimage.mean(hu, labels, pieces) if count else np.zeros(0)
    fits = on_side & (sizes_ml >= min_ml) & (mean_hu >= 30.0) & (mean_hu <= 180.0)
    if not fits.any():
        return np.zeros(labels.shape, bool)
    return labels == pieces[fits][np.argmax(sizes_ml[fits])]


def lps(ct: Volume, axis: int) -> np.ndarray:
    """The LPS coordinate ``axis`` (0: x, +left; 1: y, +posterior) of every voxel, per the volume's geometry."""
    k, j, i = np.indices(ct.array.shape, sparse=True)
    column = ct.direction[axis]
    return np.broadcast_to(ct.origin[axis] + column[0] * i * ct.spacing[0] + column[1] * j * ct.spacing[1]
                           + column[2] * k * ct.spacing[2], ct.array.shape)


def tissue_masks(ct: Volume) -> dict[str, np.ndarray]:
    hu = ct.array.astype(np.float32)
    body = body_mask(hu, tuple(ct.spacing))
    spacing_ji, voxel_ml = (ct.spacing[1], ct.spacing[0]), float(np.prod(ct.spacing)) / 1000.0
    depth_mm = ndimage.distance_transform_edt(body, sampling=ct.spacing[::-1])
    outside_mm = ndimage.distance_transform_edt(~body, sampling=ct.spacing[::-1])
    fat = ndimage.binary_erosion(body & (hu >= -190) & (hu <= -30))
    x, y = lps(ct, 0), lps(ct, 1)
    centre_x, centre_y = float(np.mean(x[body])), float(np.mean(y[body]))
    labels, count = thick_organ_cores(hu, body, spacing_ji)
    liver = largest_core(labels, count, x <= centre_x, hu, voxel_ml, MIN_LIVER_CORE_ML)
    spleen = largest_core(labels, count, (x > centre_x) & (y > centre_y), hu, voxel_ml, MIN_SPLEEN_CORE_ML)
    near_organ = in_plane_distance_mm(~(liver | spleen), spacing_ji) <= ORGAN_RIM_MM
    muscle = ndimage.binary_erosion(body & (hu >= 20) & (hu <= 80) & (depth_mm <= 40.0)) & ~near_organ
    return {"body": body, "outside": outside_mm > 5.0, "fat": fat, "liver": liver, "spleen": spleen,
            "muscle": muscle, "muscle_left": muscle & (x > centre_x), "muscle_right": muscle & (x <= centre_x)}


def virtual_pet(ct_path: Path, model, outside_body: str, blend_veto_suv: float | None = None,
                blend_base_levels: int | None = None, slice_smoothing_mm: float | None = None) -> np.ndarray:
    """The virtual PET the command writes for this CT (no pictures, no FCN/GAN files, no input check)."""
    with tempfile.TemporaryDirectory(prefix="physiology-") as folder:
        summary = run_virtual_pet(ct_path, Path(folder) / "out", model=model, device="cpu", pictures=False,
                                  write_fcn_gan=False, input_check=None, outside_body=outside_body,
                                  blend_veto_suv=blend_veto_suv, blend_base_levels=blend_base_levels,
                                  slice_smoothing_mm=slice_smoothing_mm)
        return read_volume(summary["files"]["virtual_pet"]).array


def measure(ct_path: Path, model, outside_body: str, blend_veto_suv: float | None = None,
            blend_base_levels: int | None = None, slice_smoothing_mm: float | None = None) -> dict:
    ct = read_volume(ct_path)
    suv = virtual_pet(ct_path, model, outside_body, blend_veto_suv, blend_base_levels, slice_smoothing_mm)
    masks = tissue_masks(ct)

    def mean(name: str) -> float:
        return round(float(suv[masks[name]].mean()), 3) if masks[name].any() else float("nan")

    left, right = mean("muscle_left"), mean("muscle_right")
    return {
        "ct": str(ct_path.relative_to(SHARED_DATA)),
        "outside_body": outside_body,
        "shape_kji": list(suv.shape),
        "suv_min": round(float(suv.min()), 3),
        "fraction_below_0": round(float(np.mean(suv < 0)), 4),
        "fat_mean": mean("fat"),
        "muscle_mean": mean("muscle"),
        "muscle_left_mean": left,
        "muscle_right_mean": right,
        "muscle_left_over_right": round(left / right, 3),
        "liver_mean": mean("liver") if masks["liver"].any() else None,  # None: no liver in view
        "spleen_mean": mean("spleen") if masks["spleen"].any() else None,
        "outside_body_max": round(float(suv[masks["outside"]].max()), 3),
        "outside_body_fraction_above_0_5": round(float(np.mean(suv[masks["outside"]] > 0.5)), 4),
        "voxels": {name: int(mask.sum()) for name, mask in masks.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=DEFAULT_MODEL_ID)
    parser.add_argument("--blend-veto", type=float, metavar="SUV", help="as virtual-pet's (default: the card's)")
    parser.add_argument("--blend-base-levels", type=int, metavar="N", help="as virtual-pet's (default: the card's)")
    parser.add_argument("--slice-smoothing", type=float, metavar="MM", help="as virtual-pet's (default: the card's)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--write-card", action="store_true", help="record the figures in the bundled card")
    args = parser.parse_args()
    if args.write_card and (args.model != DEFAULT_MODEL_ID or args.blend_veto is not None
                            or args.blend_base_levels is not None or args.slice_smoothing is not None):
        parser.error("--write-card records the bundled card's own figures: leave out --model, --blend-veto, "
                     "--blend-base-levels and --slice-smoothing")
    model = load_virtual_pet(args.model)
    rows = [measure(SHARED_DATA / name, model, choice, args.blend_veto, args.blend_base_levels, args.slice_smoothing)
            for name in REAL_CTS if (SHARED_DATA / name).exists()
            for choice in ("keep", "zero")]  # the networks, then the product
    if not rows:
        raise SystemExit(f"No real CT found under {SHARED_DATA}.")
    figures = {"published_suv_mean": PUBLISHED, "cases": rows}
    if args.write_card:
        from install_virtual_pet_v2 import write_real_ct_to_card  # beside this script

        write_real_ct_to_card(figures)
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(f"published SUVmean: muscle {PUBLISHED['muscle']}, fat {PUBLISHED['fat']}, liver {PUBLISHED['liver']}; "
          "never below 0; 0 outside; "
          "outside_body=keep is the networks' raw output, zero the product's")
    for row in rows:
        print(" ".join(f"{key}={value}" for key, value in row.items() if key != "voxels"))


if __name__ == "__main__":
    main()
