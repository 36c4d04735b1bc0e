"""CT noise of the phantoms against the real CTs in ../shared/data, measured alike (session 27; version 6's band).

The measure is :func:`MedGANSynthLib.evaluation.ct_noise.soft_tissue_noise_sd`: in soft tissue (20-80 HU, eroded by
one pixel in-plane) the SD of each voxel minus its 3 x 3 in-plane mean, times sqrt(9/8). The PET/CT scanner's
thorax CT is also block-averaged to 3.9 x 3.9 x 4 mm, the phantoms' voxels.

Usage: .venv/bin/python Testing/Training/ct_noise_phantom_vs_real.py PHANTOM_FOLDER [COUNT]
"""

import sys
from pathlib import Path

import numpy as np

from MedGANSynthLib.evaluation.ct_noise import block_mean, soft_tissue_noise_sd
from MedGANSynthLib.io.volume_io import read_volume

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
THORAX_TO_PHANTOM_VOXELS = (2, 4, 4)  # 0.98 x 0.98 x 2 mm -> 3.9 x 3.9 x 4 mm (slices, rows, columns)


def real_ct_noise(data: Path = SHARED_DATA, native: bool = False) -> dict[str, float]:
    """The real CTs' noise on about the phantoms' voxels: the PET/CT's thorax block-averaged, the torso CT at 3 mm
    (and, with ``native``, the thorax at its own voxels, read from the same volume)."""
    thorax = read_volume(data / "ct-dicom-thorax")
    torso = read_volume(data / "ct-nifti" / "example_ct_sm.nii.gz").array
    images = {"thorax, 3.9 x 3.9 x 4 mm": block_mean(thorax.array.astype(np.float32), THORAX_TO_PHANTOM_VOXELS),
              "torso, 3 mm": torso}
    if native:
        images[f"thorax, native {thorax.spacing} mm"] = thorax.array
    return {name: soft_tissue_noise_sd(hu)[0] for name, hu in images.items()}


def main(folder: Path, count: int) -> None:
    for name, noise in real_ct_noise(native=True).items():
        print(f"real CT, {name}: {noise:.1f} HU")
    for case in sorted(folder.glob("wholebody_*"))[:count]:
        phantom = read_volume(next(case.glob("ct.*")))
        noise, voxels = soft_tissue_noise_sd(phantom.array)
        print(f"phantom {case.name}, {phantom.spacing} mm: {noise:.1f} HU ({voxels} voxels)")


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        raise SystemExit(__doc__.splitlines()[-1])
    main(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) == 3 else 4)
