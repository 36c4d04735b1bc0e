"""CT noise of the phantoms against the real CTs in ../shared/data, measured alike (session 27).

In soft tissue (20-80 HU inside the body, eroded by one pixel in-plane) the SD of each voxel minus its 3 x 3 in-plane
mean, times sqrt(9/8) (white noise: the residual's SD is sqrt(8/9) of the noise SD). The 20-80 HU window cuts the
tails of a noisy image, so the figure is a lower bound of the noise SD. The PET/CT scanner's thorax CT is also
block-averaged to 3.9 x 3.9 x 4 mm, the phantoms' voxels.

Usage: .venv/bin/python Testing/Training/ct_noise_phantom_vs_real.py PHANTOM_FOLDER [COUNT]
"""

import sys
from pathlib import Path

import numpy as np
from scipy import ndimage

from MedGANSynthLib.io.volume_io import read_volume

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def residual_sd(hu: np.ndarray) -> tuple[float, int]:
    soft = ndimage.binary_erosion((hu >= 20) & (hu <= 80), np.ones((1, 3, 3), bool))
    residual = hu - ndimage.uniform_filter(hu, (1, 3, 3))
    return float(residual[soft].std() * np.sqrt(9 / 8)), int(soft.sum())


def block_mean(hu: np.ndarray, factors: tuple[int, int, int]) -> np.ndarray:
    k, j, i = (size // factor * factor for size, factor in zip(hu.shape, factors, strict=True))
    shape = (k // factors[0], factors[0], j // factors[1], factors[1], i // factors[2], factors[2])
    return hu[:k, :j, :i].reshape(shape).mean(axis=(1, 3, 5))


def report(name: str, hu: np.ndarray) -> None:
    noise, voxels = residual_sd(hu.astype(np.float32))
    print(f"{name}: {noise:.1f} HU ({voxels} voxels)")


def main(folder: Path, count: int) -> None:
    thorax = read_volume(SHARED_DATA / "ct-dicom-thorax")
    report(f"real thorax CT (PET/CT scanner), native {thorax.spacing} mm", thorax.array)
    report("real thorax CT block-averaged to 3.9 x 3.9 x 4 mm", block_mean(thorax.array.astype(np.float32), (2, 4, 4)))
    report("real torso CT, 3 mm", read_volume(SHARED_DATA / "ct-nifti" / "example_ct_sm.nii.gz").array)
    for case in sorted(folder.glob("wholebody_*"))[:count]:
        phantom = read_volume(next(case.glob("ct.*")))
        report(f"phantom {case.name}, {phantom.spacing} mm", phantom.array)


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        raise SystemExit(__doc__.splitlines()[-1])
    main(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) == 3 else 4)
