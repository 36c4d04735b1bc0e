"""Model-card picture (Resources/Models/ct_gan_phantom.md) of the bundled CT GAN: eight samples at its training
size (40 x 40) and, from the same weights and the same global latent numbers, at 64 x 64 (the paper's Fig. 3 claim that the generator scales).

    .venv/bin/python Testing/Training/ct_gan_picture.py [OUT.png]   (default Resources/Screenshots/ct_gan_samples.png)
"""

from __future__ import annotations

import sys

import torch
import torch.nn.functional as F

from MedGANSynthLib.pictures import save_grid_png
from MedGANSynthLib.weights.catalogue import resolve_model
from MedGANSynthLib.weights.safetensors_io import load_gan

COUNT = 8


def main(out: str) -> None:
    generator, _, card = load_gan(resolve_model("ct-gan-phantom", "gan"), with_discriminator=False)
    generator.eval()
    small = generator.sample_latent_map(COUNT, 40, 40, torch.Generator().manual_seed(0))
    large = generator.sample_latent_map(COUNT, 64, 64, torch.Generator().manual_seed(1))
    shared = generator.config.latent_channels  # the global channels follow the per-cell noise
    large[:, shared:] = small[:, shared:, :1, :1]  # same body-level numbers, new per-cell noise
    with torch.no_grad():
        # the 40 px row is enlarged (nearest neighbour, display only) so both rows share one grid
        rows = [F.interpolate(generator(small), size=(64, 64), mode="nearest"), generator(large)]
    tiles = [image[0].numpy() for row in rows for image in row]
    titles = [f"40 px #{i}" for i in range(COUNT)] + [f"64 px #{i}" for i in range(COUNT)]
    low, high = card.normalisation["output_range"]
    print(save_grid_png(tiles, out, ncols=COUNT, titles=titles, window=(low, high)))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "Resources/Screenshots/ct_gan_samples.png")
