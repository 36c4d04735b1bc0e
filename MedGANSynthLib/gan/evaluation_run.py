"""Evaluate trained GANs against their real training and held-out images (what ``medgansynth evaluate-gan`` runs).

A conditional model (RadioGAN) is evaluated alone, class by class. Unconditional per-class models (the brain
DCGAN trains one model per stage) are evaluated together: each model's samples stand for its class. Real images
come from a folder built by ``medgansynth dataset`` (``train/`` and ``heldout/`` with ``labels.csv``), prepared
with the same window and size the model was trained with.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.gan.artefact_measures import artefact_measures
from MedGANSynthLib.gan.latent_walk import latent_walk
from MedGANSynthLib.gan.report import (
    evaluate_gan,
    evaluate_single_class_gan,
    render_gan_pictures,
    write_gan_report,
)
from MedGANSynthLib.gan.sampling import sample_images, to_physical
from MedGANSynthLib.jobs.progress import CancelToken, ProgressCallback, report
from MedGANSynthLib.weights.catalogue import resolve_model
from MedGANSynthLib.weights.model_card import ModelCard
from MedGANSynthLib.weights.safetensors_io import load_gan

COMPARISON_SPLITS = ("heldout", "selection")
# Choosing on the selection split must not reuse the held-out run's samples or judge either: class accuracy depends
# on those alone (not on the held-out images), so the same seed would pick the model on the very numbers it reports.
SELECTION_SEED_OFFSET = 1_000_003
MIP_ARCHITECTURES = ("radiogan",)  # models of whole-body PET MIPs: their specks outside the body are counted


def real_images_by_class(card: ModelCard, folder: Path, classes: list[str]) -> dict[str, np.ndarray]:
    """Images of ``folder`` per class, prepared exactly as training prepared them (window, size, channels)."""
    from MedGANSynthLib.networks.registry import config_from_dict
    from MedGANSynthLib.preprocessing.windows import IntensityWindow
    from MedGANSynthLib.training.datasets import BrainSliceDataset, CTSliceDataset, ImageFolderDataset

    norm = card.normalisation
    window = IntensityWindow(norm.get("window", "model window"), float(norm["low"]), float(norm["high"]),
                             float(norm["output_range"][0]), float(norm["output_range"][1]),
                             {"suv": "SUV", "hu": "HU"}.get(norm["kind"], ""))
    shape = tuple(config_from_dict(card.architecture, card.config).image_shape)
    if not folder.is_dir():
        raise InputError(f"'{folder}' is not a folder; pass the data set root made by 'medgansynth dataset'.")
    if card.architecture == "radiogan":
        dataset = ImageFolderDataset(folder, None, shape[1:], window)
        images, labels = dataset.images.numpy(), dataset.labels.numpy()
        missing = [name for name in classes if name not in dataset.class_names]
        if missing:
            raise InputError(f"--data: the model's classes {', '.join(missing)} are not among the classes of "
                             f"'{folder}' ({', '.join(dataset.class_names) or 'none'}); evaluate on a data set "
                             "labelled with the model's class names.")
        return {name: images[labels == dataset.class_names.index(name)] for name in classes}
    if card.architecture == "brain_dcgan":
        return {name: BrainSliceDataset(folder, None, name, shape[1:], window).images.numpy() for name in classes}
    return {classes[0]: CTSliceDataset(folder, shape[1:], window).images.numpy()}


def evaluate_models(
    models: list[str], data_root: str | Path, output: str | Path, count: int = 200, seed: int = 0,
    epochs: int = 10, device: str = "cpu", write_cards: bool = False, run_tstr: bool = True,
    progress: ProgressCallback | None = None, cancel: CancelToken | None = None, against: str = "heldout",
    judges: int = 1,
) -> dict:
    """``against`` names the split of real images the samples are compared with: "heldout" (the figures a card
    reports) or "selection" (phantoms kept for choosing between models, so that picking the best one does not bias
    the held-out figures; its samples and judge come from ``seed + SELECTION_SEED_OFFSET``). ``judges`` > 1 reports
    class accuracy as the mean over that many judge classifiers (see :func:`evaluate_gan`)."""
    if against not in COMPARISON_SPLITS:
        raise InputError(f"Compare against one of {', '.join(COMPARISON_SPLITS)}, not '{against}'.")
    if write_cards and against != "heldout":
        raise InputError("A model card keeps held-out figures; evaluate against the held-out split to write it.")
    if against == "selection":
        seed += SELECTION_SEED_OFFSET
    loaded = [(path, *load_gan(path, with_discriminator=False)) for path in (resolve_model(m, "gan") for m in models)]
    architectures = {card.architecture for _, _, _, card in loaded}
    if len(architectures) != 1:
        raise InputError(f"Evaluate models of one architecture at a time; got {', '.join(sorted(architectures))}.")
    conditional = loaded[0][1].num_classes > 0
    if conditional and len(loaded) > 1:
        raise InputError("A conditional model is evaluated on its own; pass one RadioGAN model.")
    generated: dict[str, np.ndarray] = {}
    for step, (_, generator, _, card) in enumerate(loaded):
        names = card.class_names if conditional else card.class_names[:1] or [card.architecture]
        for name in names:
            report(progress, cancel, "sampling", len(generated), len(names) * len(loaded), name)
            generated[name] = sample_images(generator, name if conditional else None, count, seed + step, device,
                                            class_names=card.class_names)
    classes = list(generated)
    card = loaded[0][3]
    root = Path(data_root)
    train = real_images_by_class(card, root / "train", classes)
    heldout = real_images_by_class(card, root / against, classes)
    value_range = tuple(float(v) for v in card.normalisation["output_range"])
    if len(classes) == 1:  # no judge classifier for one class (the CT GAN)
        results = evaluate_single_class_gan(generated, train, heldout, value_range)
    else:
        results = evaluate_gan(generated, train, heldout, value_range=value_range, epochs=epochs, seed=seed,
                               device=device, run_tstr=run_tstr, progress=progress, cancel=cancel, judges=judges)
    results["compared_with"] = against
    _add_artefact_measures(results, generated, heldout, card)
    walk = _walk(loaded[0][1], loaded[0][3], classes, seed, device) if conditional else None
    pictures = render_gan_pictures(generated, train, results, Path(output) / "pictures", walk=walk)
    files = write_gan_report(results, {k: str(v) for k, v in pictures.items()}, output)
    if write_cards:
        for path, _, _, model_card in loaded:
            _write_metrics_into_card(path, model_card, results, root, count)
    return {"results": results, "files": {k: str(v) for k, v in files.items()}}


def _add_artefact_measures(results: dict, generated: dict[str, np.ndarray], heldout: dict[str, np.ndarray],
                           card: ModelCard) -> None:
    """Grid texture (every model) and specks outside the body (MIP models, in SUV) into the per-class and overall
    sections of ``results``, each beside its held-out floor."""
    to_suv = (lambda images: to_physical(images, card)) if card.architecture in MIP_ARCHITECTURES else None
    measures = artefact_measures(generated, heldout, to_suv)
    for name, entries in measures["per_class"].items():
        results["per_class"][name].update(entries)
    if results.get("overall"):
        results["overall"].update(measures["overall"])


def _walk(generator, card: ModelCard, classes: list[str], seed: int, device: str) -> np.ndarray:
    """RadioGAN's Fig. 5: from the first class to the last, ten steps, between two seeds."""
    return latent_walk(generator, 10, seed, seed + 1, classes[0], classes[-1], device=device,
                       class_names=card.class_names)


def _write_metrics_into_card(path: Path, card: ModelCard, results: dict, data_root: Path, count: int) -> None:
    """Put the held-out evaluation into the model card (the tensors and their checksum are untouched)."""
    summary = {
        "protocol": f"{count} generated images per class vs the held-out phantoms of {data_root.name} "
                    "(never trained on); judge = in-domain classifier trained on the real training images.",
        "results": json.loads(json.dumps(results, default=str)),
    }
    card.metrics["heldout_evaluation"] = summary
    card.save(Path(path).with_suffix(".json"))
