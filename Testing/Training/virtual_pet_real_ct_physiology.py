"""How physiological is a virtual PET on real patient CT? Tissue-class SUVs on the real CTs beside the clone.

No organ masks come with the real CTs, so tissues are told apart by HU and position, which any reader can redo:

* body: HU > -500 opened in-plane by a square ~5 mm wide, at least 3 voxels (drops the CT table; 5 voxels at
  0.98 mm, 3 at 3 mm, where 5 voxels, 15 mm, opened the thin wall behind the lungs so they were not filled),
  3-D components of at least 100 ml (the trunk and arms beside it), holes filled per slice (so the lungs are
  inside);
* subcutaneous and visceral fat: body voxels of -190..-30 HU (the usual adipose window), eroded by one voxel;
* liver: soft tissue, enhanced or not (20..200 HU), at least 15 mm in-plane from anything else (the core of a
  thick organ), its largest 3-D piece if it holds at least 100 ml, lies on the patient's right and averages
  30..180 HU (unenhanced liver 58 +- 9 HU, PHANTOM_REFERENCE; portal-venous enhancement 56 +- 14 HU, REFERENCE.md);
  only its core is measured, away from partial volume;
* peripheral soft tissue (mostly muscle: chest and abdominal wall, paraspinal, shoulder girdle): body voxels of
  20..80 HU within 40 mm of the body surface, eroded by one voxel, less anything within 20 mm in-plane of the liver
  core (its rim and the wall muscle that touches it cannot be told apart by HU; session 31 found ~38 % of the torso
  CT's right-side "muscle" touching the liver);
* left and right: that soft tissue split at the body's centre along the patient's left-right axis (LPS x);
* outside the body: everything more than 5 mm outside the body mask (air, the table).

This mask is the script's own, written independently of the product's (``--outside-body``, preprocessing/
body_mask.py), so it can judge it. Each CT is measured twice through ``run_virtual_pet``, as ``medgansynth
virtual-pet`` writes it: with ``--outside-body keep`` (the networks' raw output) and with the default
``--outside-body zero`` (the product), so a card quoting the product still shows what the networks draw.

Published FDG levels (SUVmean) set beside them: skeletal muscle 0.6-1.0, fat 0.2-0.6 (below muscle), liver
1.5-2.5 (issue 29; PHANTOM_REFERENCE: 2.2 +- 0.4, 1.9 +- 0.4), from the project's phantom reference table
(Resources' model card cites the sources); a correct virtual PET also never goes below 0 and puts nothing outside
the body. Blood pool and the other organs need masks HU and position cannot give on unenhanced CT.

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
PUBLISHED = {"muscle": (0.6, 1.0), "fat": (0.2, 0.6), "liver": (1.5, 2.5)}
ORGAN_CORE_MM = 15.0
"""Soft tissue this far in-plane from any other tissue is the core of a thick organ: wall muscles are ~5-15 mm thick."""
ORGAN_RIM_MM = 20.0
"""Peripheral soft tissue within this distance of the liver core is left out of "muscle" (the core lies 15 mm in)."""
MIN_LIVER_CORE_ML = 100.0
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


def liver_core(hu: np.ndarray, body: np.ndarray, right_side: np.ndarray, voxel_ml: float,
               spacing_ji: tuple[float, float]) -> np.ndarray:
    """The largest thick soft-tissue core, if it is big enough, on the patient's right and at liver HU; else empty."""
    organ_tissue = body & (hu >= 20) & (hu <= 200)
    labels, count = ndimage.label(in_plane_distance_mm(organ_tissue, spacing_ji) >= ORGAN_CORE_MM)
    if count == 0:
        return np.zeros_like(organ_tissue)
    sizes_ml = np.bincount(labels.ravel()) * voxel_ml
    sizes_ml[0] = 0.0
    core = labels == int(np.argmax(sizes_ml))
    plausible = (sizes_ml.max() >= MIN_LIVER_CORE_ML and right_side[core].mean() > 0.5
                 and 30.0 <= float(hu[core].mean()) <= 180.0)
    return core if plausible else np.zeros_like(core)


def tissue_masks(ct: Volume) -> dict[str, np.ndarray]:
    hu = ct.array.astype(np.float32)
    body = body_mask(hu, tuple(ct.spacing))
    spacing_ji = (ct.spacing[1], ct.spacing[0])
    depth_mm = ndimage.distance_transform_edt(body, sampling=ct.spacing[::-1])
    outside_mm = ndimage.distance_transform_edt(~body, sampling=ct.spacing[::-1])
    fat = ndimage.binary_erosion(body & (hu >= -190) & (hu <= -30))
    soft_tissue = body & (hu >= 20) & (hu <= 80)
    # Patient left is +x in LPS: the x coordinate of every (j, i) column, per the volume's geometry.
    k, j, i = np.indices(hu.shape, sparse=True)
    x = np.broadcast_to(ct.origin[0] + ct.direction[0, 0] * i * ct.spacing[0] + ct.direction[0, 1] * j * ct.spacing[1]
                        + ct.direction[0, 2] * k * ct.spacing[2], hu.shape)
    centre = float(np.mean(x[body]))
    liver = liver_core(hu, body, x <= centre, float(np.prod(ct.spacing)) / 1000.0, spacing_ji)
    near_liver = in_plane_distance_mm(~liver, spacing_ji) <= ORGAN_RIM_MM
    muscle = ndimage.binary_erosion(soft_tissue & (depth_mm <= 40.0)) & ~near_liver
    return {"body": body, "outside": outside_mm > 5.0, "fat": fat, "liver": liver, "muscle": muscle,
            "muscle_left": muscle & (x > centre), "muscle_right": muscle & (x <= centre)}


def virtual_pet(ct_path: Path, model, outside_body: str, blend_veto_suv: float | None = None,
                blend_base_levels: int | None = None) -> np.ndarray:
    """The virtual PET the command writes for this CT (no pictures, no FCN/GAN files, no input check)."""
    with tempfile.TemporaryDirectory(prefix="physiology-") as folder:
        summary = run_virtual_pet(ct_path, Path(folder) / "out", model=model, device="cpu", pictures=False,
                                  write_fcn_gan=False, input_check=None, outside_body=outside_body,
                                  blend_veto_suv=blend_veto_suv, blend_base_levels=blend_base_levels)
        return read_volume(summary["files"]["virtual_pet"]).array


def measure(ct_path: Path, model, outside_body: str, blend_veto_suv: float | None = None,
            blend_base_levels: int | None = None) -> dict:
    ct = read_volume(ct_path)
    suv = virtual_pet(ct_path, model, outside_body, blend_veto_suv, blend_base_levels)
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
        "outside_body_max": round(float(suv[masks["outside"]].max()), 3),
        "outside_body_fraction_above_0_5": round(float(np.mean(suv[masks["outside"]] > 0.5)), 4),
        "voxels": {name: int(mask.sum()) for name, mask in masks.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=DEFAULT_MODEL_ID)
    parser.add_argument("--blend-veto", type=float, metavar="SUV", help="as virtual-pet's (default: the card's)")
    parser.add_argument("--blend-base-levels", type=int, metavar="N", help="as virtual-pet's (default: the card's)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--write-card", action="store_true", help="record the figures in the bundled card")
    args = parser.parse_args()
    if args.write_card and (args.model != DEFAULT_MODEL_ID or args.blend_veto is not None
                            or args.blend_base_levels is not None):
        parser.error("--write-card records the bundled card's own figures: leave out --model, --blend-veto and "
                     "--blend-base-levels")
    model = load_virtual_pet(args.model)
    rows = [measure(SHARED_DATA / name, model, choice, args.blend_veto, args.blend_base_levels)
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
