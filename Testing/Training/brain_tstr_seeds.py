"""Train-on-synthetic-test-on-real for two sets of brain-PET stage models, repeated over classifier seeds.

One seed's TSTR is noisy: the held-out accuracy of a classifier trained on the same real slices moved from 0.54 to
0.40 between two evaluation runs that differed only in the CPU thread count. So for each seed this script trains
the real-only classifier once and one real + synthetic classifier per model set (same seed, epochs and
hyper-parameters as ``evaluate-gan``), tests all on the held-out real slices, and prints the mean and spread.

    python Testing/Training/brain_tstr_seeds.py DATA_ROOT "NC.safetensors,MCI...,AD..." ["bundled ids ..."] \
        --seeds 0 1 2 [--count 100 --epochs 20]

Each model set is three comma-separated models (NC, MCI, AD: bundled ids or .safetensors files).
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

import numpy as np

from MedGANSynthLib.evaluation.classifier import accuracy, fit_classifier, predict_labels
from MedGANSynthLib.gan.evaluation_run import real_images_by_class
from MedGANSynthLib.gan.sampling import sample_images
from MedGANSynthLib.weights.catalogue import resolve_model
from MedGANSynthLib.weights.safetensors_io import load_gan

STAGES = ("NC", "MCI", "AD")


def stacked(by_class: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    images = np.concatenate([by_class[name] for name in STAGES])
    labels = np.concatenate([np.full(len(by_class[name]), index) for index, name in enumerate(STAGES)])
    return images, labels


def load_generators(models: list[str]) -> list:
    """The NC, MCI and AD generators of one model set, loaded once for all seeds."""
    return [load_gan(resolve_model(model, "gan"), with_discriminator=False)[0] for model in models]


def synthetic_set(generators: list, count: int, seed: int) -> dict[str, np.ndarray]:
    return {stage: sample_images(generator, None, count, seed + step, "cpu")
            for step, (stage, generator) in enumerate(zip(STAGES, generators, strict=True))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", type=Path)
    parser.add_argument("model_sets", nargs="+")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--epochs", type=int, default=20)
    args = parser.parse_args()
    sets = [text.split(",") for text in args.model_sets]
    _, _, card = load_gan(resolve_model(sets[0][0], "gan"), with_discriminator=False)
    generator_sets = [load_generators(models) for models in sets]
    real, real_labels = stacked(real_images_by_class(card, args.data / "train", list(STAGES)))
    test, test_labels = stacked(real_images_by_class(card, args.data / "heldout", list(STAGES)))
    rows = []
    for seed in args.seeds:
        judge = fit_classifier(real, real_labels, epochs=args.epochs, seed=seed, num_classes=3)
        row = {"seed": seed, "real_only": accuracy(judge, test, test_labels)}
        for number, generators in enumerate(generator_sets):
            synthetic, synthetic_labels = stacked(synthetic_set(generators, args.count, seed))
            named = predict_labels(judge, synthetic) == synthetic_labels
            row[f"set{number}_class_accuracy"] = [float(named[synthetic_labels == k].mean()) for k in range(3)]
            mixed = fit_classifier(np.concatenate([real, synthetic]), np.concatenate([real_labels, synthetic_labels]),
                                   epochs=args.epochs, seed=seed, num_classes=3)
            row[f"set{number}_real_plus_synthetic"] = accuracy(mixed, test, test_labels)
        rows.append(row)
        print(json.dumps(row), flush=True)
    for key in [key for key in rows[0] if key != "seed" and not key.endswith("class_accuracy")]:
        values = [row[key] for row in rows]
        spread = statistics.stdev(values) if len(values) > 1 else 0.0
        print(f"{key}: mean {statistics.mean(values):.3f}, sd {spread:.3f} over seeds {args.seeds}")


if __name__ == "__main__":
    main()
