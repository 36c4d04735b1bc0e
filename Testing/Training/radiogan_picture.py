"""Model-card picture (Resources/Models/radiogan_phantom.md) of a RadioGAN: one column per class, one row per
latent seed, so each row asks for every class with the same noise (what the class changes, and only that, differs along a row).

    .venv/bin/python Testing/Training/radiogan_picture.py [MODEL] [OUT.png]
    (defaults: radiogan-phantom, Resources/Screenshots/radiogan_classes.png)
"""

from __future__ import annotations

import sys

import numpy as np

from MedGANSynthLib.gan.outputs import centre_channel, display_settings
from MedGANSynthLib.gan.sampling import sample_images, to_physical
from MedGANSynthLib.pictures import save_grid_png
from MedGANSynthLib.weights.catalogue import resolve_model
from MedGANSynthLib.weights.safetensors_io import load_gan

SEEDS = (0, 1, 2, 3)


def main(model: str, out: str) -> None:
    generator, _, card = load_gan(resolve_model(model, "gan"), with_discriminator=False)
    classes = list(card.class_names)
    tiles, titles = [], []
    for seed in SEEDS:
        for name in classes:
            images = sample_images(generator, name, count=1, seed=seed, class_names=classes)
            tiles.append(centre_channel(to_physical(images, card))[0])
            titles.append(f"{name}, seed {seed}")
    print(save_grid_png(np.stack(tiles), out, ncols=len(classes), titles=titles, **display_settings(card)))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "radiogan-phantom",
         sys.argv[2] if len(sys.argv) > 2 else "Resources/Screenshots/radiogan_classes.png")
