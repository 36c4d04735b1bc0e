"""Stages of the phantom -> realistic CT experiment (issue 30, item 3; driven by phantom_to_real_ct.sh).

Question: does a virtual PET trained on phantom CTs that a CycleGAN made to look like real CT behave more
physiologically on real patient CT than one trained on the raw phantom CTs? Everything here is a data step; the
training and the measurements are the project's own commands.

    real-domain OUT          the real CTs in ../shared/data on the phantoms' grid: 4 mm voxels, a 125 x 125 (500 mm)
                             field of view centred on each CT, air (-1024 HU) outside; smoothed before resampling
                             with scikit-image's anti-aliasing rule (sigma = (factor - 1) / 2 voxels) so the 1-3 mm
                             real voxels average as a 4 mm reconstruction would, instead of keeping their noise.
    crop SRC OUT             every phantom case of SRC cut to the upper abdomen (top of T9 to the bottom of L3:
                             the real CTs show the liver dome and the kidneys), as ct.nrrd, suv.nrrd (on the CT grid) and
                             lesions.nrrd: the region both virtual PETs are trained on.
    translate MODEL SRC OUT  each case's CT through the CycleGAN's phantom -> real generator (A -> B), its SUV and
                             lesions linked unchanged: the same phantoms with a realistic CT appearance.
    picture OUT_ROOT PNG     three cut phantoms' middle slices, raw and translated, beside the real CTs' middle
                             slices (-200..300 HU), for HISTORY.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np
from scipy import ndimage

from MedGANSynthLib.cyclegan.translate import translate_volume
from MedGANSynthLib.cyclegan.weights import load_cyclegan
from MedGANSynthLib.io.volume_io import read_volume, write_volume
from MedGANSynthLib.pictures import save_grid_png
from MedGANSynthLib.preprocessing.resample import resample_to_reference
from MedGANSynthLib.virtual_pet.cases import discover_cases, load_case
from MedGANSynthLib.volume import Volume

sys.path.insert(0, str(Path(__file__).resolve().parent))
from virtual_pet_real_ct_physiology import REAL_CTS, SHARED_DATA  # noqa: E402  (the same real CTs it measures)

VOXEL_MM = 4.0
MATRIX = 125
AIR_HU = -1024.0
CROP_LEVELS = ("T9", "L3")
"""Top of T9 to the bottom of L3 (the phantom manifest's landmarks give each vertebra's [upper, lower] z in mm)."""


def physical_corners(volume: Volume) -> np.ndarray:
    """(8, 3) LPS positions of the volume's corner voxel centres."""
    size = np.asarray(volume.size) - 1
    return np.array([volume.physical_point(size * np.array(c)) for c in np.ndindex(2, 2, 2)])


def phantom_grid(volume: Volume) -> Volume:
    """An empty 4 mm grid, 125 x 125 in-plane centred on ``volume``, covering its superior extent."""
    corners = physical_corners(volume)
    centre = (corners.min(axis=0) + corners.max(axis=0)) / 2
    slices = int(np.floor((np.ptp(corners[:, 2])) / VOXEL_MM)) + 1
    half = np.array([(MATRIX - 1) / 2, (MATRIX - 1) / 2, (slices - 1) / 2]) * VOXEL_MM
    return Volume(np.zeros((slices, MATRIX, MATRIX), np.float32), (VOXEL_MM,) * 3, tuple(centre - half))


def anti_aliased(volume: Volume) -> Volume:
    """Gaussian smoothing before down-sampling to 4 mm: sigma = (factor - 1) / 2 voxels per axis
    (skimage.transform.rescale's anti_aliasing rule)."""
    sigma_kji = [max(0.0, (VOXEL_MM / s - 1) / 2) for s in reversed(volume.spacing)]
    return volume.with_array(ndimage.gaussian_filter(volume.array.astype(np.float32), sigma_kji))


def real_domain(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name in REAL_CTS:
        ct = read_volume(SHARED_DATA / name)
        resampled = resample_to_reference(anti_aliased(ct), phantom_grid(ct), "linear", default_value=AIR_HU)
        stem = Path(name).name.split(".")[0]
        write_volume(resampled.with_array(np.rint(resampled.array).astype(np.int16), modality="CT", units="HU"),
                     out / f"{stem}.nrrd")
        print(f"{name}: {ct.array.shape} at {ct.spacing} mm -> {resampled.array.shape} at {VOXEL_MM} mm")


def crop_range(case_folder: Path, ct: Volume) -> slice:
    """Slices of the phantom CT from the top of T9 to the bottom of L3 (identity direction: k runs superior)."""
    landmarks = json.loads((case_folder / "manifest.json").read_text())["landmarks"]
    top, bottom = landmarks[CROP_LEVELS[0]][0], landmarks[CROP_LEVELS[1]][1]
    k = [ct.continuous_index((0.0, 0.0, z))[2] for z in (bottom, top)]
    return slice(int(np.floor(min(k))), int(np.ceil(max(k))) + 1)


def cropped(volume: Volume, keep: slice) -> Volume:
    origin = volume.physical_point((0, 0, keep.start))
    return volume.with_array(np.ascontiguousarray(volume.array[keep]), origin=tuple(origin))


def crop(source: Path, out: Path) -> None:
    for case in discover_cases(source):
        target = out / case.case_id
        if (target / "lesions.nrrd").exists():
            continue
        loaded = load_case(case)
        keep = crop_range(case.ct_path.resolve().parent, loaded.ct)
        target.mkdir(parents=True, exist_ok=True)
        write_volume(cropped(loaded.ct, keep), target / "ct.nrrd")
        write_volume(cropped(loaded.suv, keep), target / "suv.nrrd")
        if loaded.lesions is not None:
            write_volume(cropped(loaded.lesions, keep), target / "lesions.nrrd")
        print(f"{case.case_id}: slices {keep.start}-{keep.stop - 1} of {loaded.ct.array.shape[0]}")


def translate(model_path: Path, source: Path, out: Path) -> None:
    model = load_cyclegan(model_path)
    for case in discover_cases(source):
        target = out / case.case_id
        if (target / "ct.nrrd").exists():
            continue
        target.mkdir(parents=True, exist_ok=True)
        ct = read_volume(case.ct_path)
        realistic = translate_volume(model, ct, "ab")
        for name in ("suv.nrrd", "lesions.nrrd"):
            if (case.ct_path.parent / name).exists():
                os.symlink((case.ct_path.parent / name).resolve(), target / name)
        write_volume(realistic.with_array(np.rint(realistic.array).astype(np.int16), modality="CT", units="HU"),
                     target / "ct.nrrd")  # atomic: a killed run leaves no half-written ct.nrrd to skip next time
        print(f"{case.case_id}: mean |change| {np.abs(realistic.array - ct.array).mean():.1f} HU")


def middle_slice(path: Path) -> np.ndarray:
    volume = read_volume(path)
    slices = np.moveaxis(volume.array, volume.axis_along(2), 0)
    return slices[len(slices) // 2].astype(np.float32)


def picture(root: Path, png: Path) -> None:
    cases = sorted(p.name for p in (root / "translated_held").iterdir())[::8][:3]
    tiles, titles = [], []
    for case in cases:
        tiles += [middle_slice(root / "cut_held" / case / "ct.nrrd"),
                  middle_slice(root / "translated_held" / case / "ct.nrrd")]
        titles += [f"phantom {case.split('wholebody_')[-1]}", "translated"]
    for real in sorted((root / "real").glob("*.nrrd")):
        tiles.append(middle_slice(real))
        titles.append(f"real {real.stem}")
    save_grid_png(np.stack(tiles), png, ncols=4, titles=titles, window=(-200.0, 300.0), tile_inches=2.2)
    print(png)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    stages = parser.add_subparsers(dest="stage", required=True)
    stages.add_parser("real-domain").add_argument("out", type=Path)
    for name in ("crop",):
        stage = stages.add_parser(name)
        stage.add_argument("source", type=Path)
        stage.add_argument("out", type=Path)
    stage = stages.add_parser("translate")
    for argument in ("model", "source", "out"):
        stage.add_argument(argument, type=Path)
    stage = stages.add_parser("picture")
    stage.add_argument("root", type=Path)
    stage.add_argument("png", type=Path)
    args = parser.parse_args()
    if args.stage == "real-domain":
        real_domain(args.out)
    elif args.stage == "picture":
        picture(args.root, args.png)
    elif args.stage == "crop":
        crop(args.source, args.out)
    else:
        translate(args.model, args.source, args.out)


if __name__ == "__main__":
    main()
