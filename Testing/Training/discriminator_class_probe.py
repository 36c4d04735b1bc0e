"""Does a RadioGAN run's discriminator check the class? Scores 200 real training MIPs under every label.

    .venv/bin/python Testing/Training/discriminator_class_probe.py RUN_DIR   (a `medgansynth train` run folder)

Prints the spread (standard deviation) of one image's scores across the labels, averaged over images, beside the
spread of the scores across images under their own labels, and how often an image scores highest under its own
label (chance: 1 / classes). A discriminator whose label spread is a small fraction of its image spread judges
realism alone, and gives the generator no reason to draw the class.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import torch

from MedGANSynthLib.gan.training_run import dataset_for_run
from MedGANSynthLib.networks.registry import build_gan
from MedGANSynthLib.training.checkpoint import checkpoint_path, load_checkpoint

IMAGES = 200


def main(run: Path) -> None:
    settings = json.loads((run / "run.json").read_text())
    _, discriminator, config = build_gan("radiogan", settings["network_config"])
    state = load_checkpoint(checkpoint_path(run))
    discriminator.load_state_dict(state["modules"]["discriminator"])
    discriminator.eval()
    dataset = dataset_for_run("radiogan", settings)
    chosen = np.random.default_rng(0).choice(len(dataset), min(IMAGES, len(dataset)), replace=False)
    items = [dataset[int(index)] for index in chosen]
    images = torch.stack([item["image"] for item in items])
    labels = torch.tensor([int(item["label"]) for item in items])
    with torch.no_grad():
        scores = torch.stack([discriminator(images, torch.full_like(labels, k)) for k in range(config.num_classes)], 1)
    own = scores[torch.arange(len(labels)), labels]
    print(json.dumps({
        "epoch": int(state["epoch"]),
        "label_spread": round(float(scores.std(dim=1).mean()), 4),
        "image_spread": round(float(own.std()), 4),
        "own_label_scores_highest": round(float((scores.argmax(dim=1) == labels).float().mean()), 4),
        "chance": round(1.0 / config.num_classes, 4),
    }))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
