"""How chest-like are CT GAN slices? Tissue shares at 64 x 64 against a real chest CT, not only against phantoms.

The real thorax CT in ../shared/data (TotalSegmentator, Siemens Biograph40 mCT, 512 x 512 at 0.98 mm = a 500 mm
field, the phantoms' field) is area-averaged to 64 x 64 like the version-3 training slices. For each source the
script prints, over the pixels that are not air (HU > -950): the share of lung (-950..-400 HU), fat (-150..-30),
soft tissue (-30..150) and bone (> 150), and the mean HU of the soft tissue. Sources: the real CT's 20 slices, a
phantom data set's held-out slices (each --data), and samples of each model given (a bundled id or a .safetensors
file).

    .venv/bin/python Testing/Training/ct_gan_real_ct_tissues.py MODEL [MODEL ...] --data ROOT [--data ROOT] [--json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from skimage.measure import block_reduce

from MedGANSynthLib.gan.sampling import sample_images, to_physical
from MedGANSynthLib.io.volume_io import read_volume
from MedGANSynthLib.weights.catalogue import resolve_model
from MedGANSynthLib.weights.safetensors_io import load_gan

REAL_CT = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "ct-dicom-thorax"
CLASSES = {"lung": (-950.0, -400.0), "fat": (-150.0, -30.0), "soft": (-30.0, 150.0), "bone": (150.0, np.inf)}
NOT_AIR = -950.0


def tissue_shares(slices: np.ndarray) -> dict[str, float]:
    """Shares of each class among the non-air pixels of a stack ``[n, h, w]`` in HU, and the soft tissue's mean."""
    body = slices[slices > NOT_AIR]
    shares = {name: float(np.mean((body > low) & (body <= high))) for name, (low, high) in CLASSES.items()}
    soft = body[(body > CLASSES["soft"][0]) & (body <= CLASSES["soft"][1])]
    return {**shares, "soft_mean_hu": float(soft.mean()) if soft.size else float("nan"),
            "body_share_of_image": float(np.mean(slices > NOT_AIR)), "slices": int(slices.shape[0])}


def real_ct_slices(size: int = 64) -> np.ndarray:
    volume = read_volume(REAL_CT, modality="CT").array.astype(np.float64)
    factor = volume.shape[1] // size
    return np.stack([block_reduce(s[: size * factor, : size * factor], (factor, factor), np.mean) for s in volume])


def heldout_slices(data_root: Path) -> np.ndarray:
    return np.concatenate([read_volume(path).array for path in sorted((data_root / "heldout").glob("*.nrrd"))])


def generated_slices(model: str, count: int) -> np.ndarray:
    generator, _, card = load_gan(resolve_model(model, "gan"), with_discriminator=False)
    return to_physical(sample_images(generator, count=count, seed=0), card)[:, 0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+")
    parser.add_argument("--data", type=Path, action="append", default=[], help="a CT data set root (held-out/)")
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = {"real thorax CT (TotalSegmentator)": tissue_shares(real_ct_slices())}
    for root in args.data:
        rows[f"phantom held-out: {root}"] = tissue_shares(heldout_slices(root))
    for model in args.models:
        rows[f"generated: {model}"] = tissue_shares(generated_slices(model, args.count))
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(f"{'source':60s} {'lung':>6s} {'fat':>6s} {'soft':>6s} {'bone':>6s} {'soft HU':>8s} {'body':>6s}")
    for name, row in rows.items():
        print(f"{name:60s} {row['lung']:6.3f} {row['fat']:6.3f} {row['soft']:6.3f} {row['bone']:6.3f} "
              f"{row['soft_mean_hu']:8.1f} {row['body_share_of_image']:6.3f}")


if __name__ == "__main__":
    main()
