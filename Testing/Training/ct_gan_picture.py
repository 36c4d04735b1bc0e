"""Model-card picture (Resources/Models/ct_gan_phantom.md) of the bundled CT GAN at its training size, 64 x 64: eight
samples (top), the middle slice of each of its eight held-out version-3 phantoms (middle) and eight slices of the real
thorax CT area-averaged to 64 x 64 (bottom), all in the model's -1000..1000 HU window, so the samples can be judged
against what the model learned from and against the real chest the card's tissue table compares them with.

    .venv/bin/python Testing/Training/ct_gan_picture.py --data ROOT/data/ct [OUT.png]
    (ROOT as in train_gans_v3.sh; default OUT Resources/Screenshots/ct_gan_samples.png)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ct_gan_real_ct_tissues import generated_slices, real_ct_slices  # noqa: E402  (the tissue table's sources)

from MedGANSynthLib.io.volume_io import read_volume  # noqa: E402
from MedGANSynthLib.pictures import save_grid_png  # noqa: E402
from MedGANSynthLib.weights.catalogue import resolve_model  # noqa: E402
from MedGANSynthLib.weights.safetensors_io import load_gan  # noqa: E402

COUNT = 8
MODEL = "ct-gan-phantom"


def heldout_middle_slices(data_root: Path) -> np.ndarray:
    """The middle slice (mid-thorax) of each held-out phantom, one per case."""
    stacks = [read_volume(path).array for path in sorted((data_root / "heldout").glob("*.nrrd"))[:COUNT]]
    return np.stack([stack[len(stack) // 2] for stack in stacks])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="the model's CT data set (with heldout/)")
    parser.add_argument("out", nargs="?", default="Resources/Screenshots/ct_gan_samples.png")
    args = parser.parse_args(argv)
    real = real_ct_slices()
    rows = [generated_slices(MODEL, COUNT), heldout_middle_slices(args.data),
            real[np.linspace(0, len(real) - 1, COUNT).round().astype(int)]]
    names = ["generated", "phantom", "real CT"]
    titles = [f"{name} #{i}" for name, row in zip(names, rows, strict=True) for i in range(len(row))]
    _, _, card = load_gan(resolve_model(MODEL, "gan"), with_discriminator=False)
    window = (card.normalisation["low"], card.normalisation["high"])
    print(save_grid_png(np.concatenate(rows), args.out, ncols=COUNT, titles=titles, window=window))


if __name__ == "__main__":
    main()
