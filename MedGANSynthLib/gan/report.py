"""Evaluate a GAN's samples against real images, class by class, and write the results as JSON, Markdown and HTML.

:func:`evaluate_gan` implements the project's protocol for measuring GAN quality:

- a classifier (:mod:`.classifier`) is trained on the real TRAINING images of all classes; it is the judge and the
  feature network. Its accuracy on held-out real images says how far to trust it.
- class-conditional accuracy: the fraction of each class's generated images the classifier labels as that class
  (for a conditional GAN: does the label steer the image? for one unconditional GAN per class, e.g. the brain-PET
  DCGANs per stage: does each GAN make its own stage?).
- Fréchet distance and improved precision/recall (k = 3) in the classifier's feature space, generated vs train,
  each beside its "floor": the same number for held-out real vs train, i.e. what a perfect generator would score
  with this feature network and about this many images (FD numbers are not ImageNet FIDs; see :mod:`.frechet`).
- memorisation audit (:mod:`.memorisation`), PSNR/SSIM to the nearest training image (:mod:`.image_similarity`,
  with the held-out floor), joint histogram mutual information (:mod:`.joint_histogram`), and TSTR (:mod:`.tstr`).
- grid texture and specks outside the body are added by :mod:`MedGANSynthLib.gan.artefact_measures` (the evaluation
  run knows the model, hence whether its images are MIPs and how to map them to SUV); the report shows them here.

:func:`render_gan_pictures` draws the pictures and :func:`write_gan_report` writes everything into one folder,
each file atomically, with relative links only to pictures that exist.
"""

from __future__ import annotations

import html
import json
import math
import os
import re
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.evaluation.classifier import embed_images, fit_classifier, predict_labels
from MedGANSynthLib.evaluation.frechet import frechet_distance
from MedGANSynthLib.evaluation.image_batches import as_image_batch, require_same_image_shape
from MedGANSynthLib.evaluation.image_similarity import (
    PAPER_PSNR_DB,
    PAPER_SSIM,
    SimilarityToNearest,
    similarity_to_nearest_real,
)
from MedGANSynthLib.evaluation.joint_histogram import (
    DEFAULT_BINS,
    joint_histogram,
    mutual_information,
    save_joint_histogram_png,
)
from MedGANSynthLib.evaluation.memorisation import memorisation_audit, nearest_image_neighbours
from MedGANSynthLib.evaluation.precision_recall import precision_recall
from MedGANSynthLib.evaluation.tstr import train_synthetic_test_real
from MedGANSynthLib.io.atomic import atomic_output
from MedGANSynthLib.jobs.progress import CancelToken, ProgressCallback, report

PAPER_TSTR_GAIN = 0.10  # brain-PET DCGAN paper (Islam & Zhang): +10 accuracy points with synthetic images
# Judge j > 0 trains from seed + j * JUDGE_SEED_STRIDE, so that the extra judges of a run with --seed 0 are not the
# first judges of runs with --seed 1, 2, ... (draws meant to be independent would share judges otherwise).
JUDGE_SEED_STRIDE = 10_007


def judge_seeds(seed: int, judges: int) -> list[int]:
    """The training seeds of a panel of ``judges`` classifiers; the first is ``seed`` itself, as with one judge."""
    return [seed + j * JUDGE_SEED_STRIDE for j in range(judges)]


def evaluate_gan(
    generated_by_class: Mapping[str, np.ndarray],
    train_by_class: Mapping[str, np.ndarray],
    heldout_by_class: Mapping[str, np.ndarray],
    value_range: tuple[float, float] = (0.0, 1.0),
    epochs: int = 10,
    seed: int = 0,
    device: str | torch.device = "cpu",
    k: int = 3,
    bins: int = DEFAULT_BINS,
    run_tstr: bool = True,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    judges: int = 1,
    **classifier_options: Any,
) -> dict[str, Any]:
    """All GAN metrics per class and overall, as a JSON-able dict (see the module docstring).

    ``judges`` > 1 trains that many judge classifiers (seeds from :func:`judge_seeds`) and reports the class
    accuracies and the judge's own accuracies as their mean, each judge's value beside it ("..._by_judge"): one
    judge alone moves a class's accuracy by about 0.1 between seeds on the RadioGAN phantoms. The feature-space
    measures use the first judge.

    Each mapping is class name -> images (N x [C x] H x W) in the normalised intensity range ``value_range``
    (e.g. (0, 1) for RadioGAN's SUV/30, (-1, 1) for tanh outputs). All three mappings need the same classes.
    ``classifier_options`` (width, batch_size, learning_rate, max_shift) go to every
    :func:`~MedGANSynthLib.evaluation.classifier.fit_classifier` call, the judge's and TSTR's alike.

    Per-class image indices (flagged near-copies, nearest training images) index that class's arrays; the
    "overall" entry pools the classes in the order of ``generated_by_class``, and its indices count through them.
    """
    if not float(value_range[1]) > float(value_range[0]):
        raise InputError(f"The intensity range needs low < high (e.g. 0 1 for images scaled to [0, 1]); got {value_range}.")
    if judges < 1:
        raise InputError(f"The number of judge classifiers must be at least 1; got {judges}.")
    names = _class_names(generated_by_class, train_by_class, heldout_by_class)
    generated = {n: as_image_batch(generated_by_class[n], f"The generated '{n}' images") for n in names}
    train = {n: as_image_batch(train_by_class[n], f"The training '{n}' images") for n in names}
    heldout = {n: as_image_batch(heldout_by_class[n], f"The held-out '{n}' images") for n in names}
    reference = train[names[0]]
    for name in names:
        for what, batch in (("generated", generated[name]), ("held-out", heldout[name]), ("training", train[name])):
            require_same_image_shape(reference, batch, f"The {what} '{name}' images")
            if len(batch) <= k:
                raise InputError(
                    f"The {what} '{name}' images number {len(batch)}; precision/recall with k = {k} needs at least "
                    f"{k + 1} per class."
                )
    data_range = float(value_range[1]) - float(value_range[0])
    stages = 3 + judges + len(names) + (1 if run_tstr else 0)

    labels = {n: np.full(len(train[n]), i) for i, n in enumerate(names)}
    train_all, train_labels = _pooled(train, names), np.concatenate([labels[n] for n in names])
    heldout_all = _pooled(heldout, names)
    heldout_labels = np.concatenate([np.full(len(heldout[n]), i) for i, n in enumerate(names)])
    panel, seeds = [], judge_seeds(seed, judges)
    for number, judge_seed in enumerate(seeds):
        report(progress, cancel, "evaluate", number, stages,
               f"training judge classifier {number + 1} of {judges} on real training images")
        panel.append(fit_classifier(
            train_all, train_labels, epochs=epochs, seed=judge_seed, device=device, cancel=cancel,
            **classifier_options,
        ))
    judge = panel[0]
    report(progress, cancel, "evaluate", judges, stages, "computing features")
    train_accuracies = _judge_accuracies(panel, train_all, train_labels)
    features = {
        part: {n: embed_images(judge, batches[n]) for n in names}
        for part, batches in (("generated", generated), ("train", train), ("heldout", heldout))
    }
    results: dict[str, Any] = {
        "classes": names,
        "settings": {
            "value_range": [float(value_range[0]), float(value_range[1])],
            "data_range": data_range,
            "k": k,
            "epochs": epochs,
            "seed": seed,
            "judge_seeds": seeds,
            "bins": bins,
            "classifier_options": dict(classifier_options),
            "image_shape": list(reference.shape[1:]),
            "feature_network": "MedGANSynthLib.evaluation.classifier.ImageClassifier trained on the real training "
            "images (not ImageNet Inception: distances are not comparable to published FIDs)",
        },
        "judge": {
            **_averaged("heldout_real_accuracy", _judge_accuracies(panel, heldout_all, heldout_labels)),
            **_averaged("train_real_accuracy", train_accuracies),
            "count": judges,
            "at_chance": judges_at_chance(train_accuracies, len(names)),
        },
        "paper_reference": {"psnr_db": PAPER_PSNR_DB, "ssim": PAPER_SSIM, "tstr_gain": PAPER_TSTR_GAIN},
        "per_class": {},
    }
    similarities: dict[str, SimilarityToNearest] = {}
    for step, (index, name) in enumerate(enumerate(names), start=judges + 1):
        report(progress, cancel, "evaluate", step, stages, f"class '{name}'")
        entry = _set_metrics(
            generated[name], train[name], heldout[name],
            {part: features[part][name] for part in features}, data_range, value_range, k, bins,
        )
        verdicts = [predict_labels(judge, generated[name]) for judge in panel]
        entry.update(_averaged("class_accuracy", [float(np.mean(labels == index)) for labels in verdicts]))
        entry.update(_averaged("heldout_class_accuracy", _judge_accuracies(panel, heldout[name], index)))
        entry["judged_as"] = _judged_as(verdicts, names)
        similarities[name] = entry.pop("_similarity")
        results["per_class"][name] = entry

    report(progress, cancel, "evaluate", judges + 1 + len(names), stages, "pooled metrics over all classes")
    overall = _set_metrics(
        _pooled(generated, names), train_all, heldout_all,
        {part: np.concatenate([features[part][n] for n in names]) for part in features},
        data_range, value_range, k, bins, similarity=_concatenated(similarities, names),
    )
    overall.pop("_similarity")
    overall["memorisation"].pop("nearest_train_index")  # per-class lists already hold it, with per-class indices
    total = sum(len(generated[n]) for n in names)
    overall["class_accuracy"] = sum(results["per_class"][n]["class_accuracy"] * len(generated[n]) for n in names) / total
    overall["heldout_class_accuracy"] = results["judge"]["heldout_real_accuracy"]
    results["overall"] = overall

    results["tstr"] = None
    if run_tstr:
        report(progress, cancel, "evaluate", judges + 2 + len(names), stages, "train on synthetic, test on real")
        generated_labels = np.concatenate([np.full(len(generated[n]), i) for i, n in enumerate(names)])
        results["tstr"] = train_synthetic_test_real(
            train_all, train_labels, _pooled(generated, names), generated_labels, heldout_all, heldout_labels,
            epochs=epochs, seed=seed, device=device, cancel=cancel, **classifier_options,
        ).summary()
    report(progress, cancel, "evaluate", stages, stages, "done")
    return results


def judges_at_chance(train_accuracies: list[float], classes: int, margin: float = 0.1) -> list[int]:
    """Judges (numbered from 1) that label their own training images at most ``margin`` better than chance: such a
    judge did not learn the classes (it happens to the brain-slice judges at some seeds), so its verdicts on
    generated images mean nothing."""
    return [number for number, value in enumerate(train_accuracies, start=1) if value < 1.0 / classes + margin]


def _judge_accuracies(panel: list, images: np.ndarray, labels) -> list[float]:
    """Each judge's fraction of ``images`` labelled ``labels`` (one class index, or one per image)."""
    return [float(np.mean(predict_labels(judge, images) == np.asarray(labels))) for judge in panel]


def _judged_as(verdicts: list[np.ndarray], names: list[str]) -> dict[str, float]:
    """The share of images each judge's ``verdicts`` (class indices) give each class, averaged over the judges:
    where a class's misses go."""
    counts = sum(np.bincount(labels, minlength=len(names)) for labels in verdicts)
    total = sum(len(labels) for labels in verdicts)
    return {name: float(count / total) for name, count in zip(names, counts, strict=True)}


def _averaged(key: str, scores: list[float]) -> dict[str, Any]:
    """``{key: mean of scores}``, plus ``{key}_by_judge`` when there is more than one judge."""
    return {key: float(np.mean(scores)), **({f"{key}_by_judge": scores} if len(scores) > 1 else {})}


def evaluate_single_class_gan(
    generated_by_class: Mapping[str, np.ndarray],
    train_by_class: Mapping[str, np.ndarray],
    heldout_by_class: Mapping[str, np.ndarray],
    value_range: tuple[float, float],
    bins: int = DEFAULT_BINS,
) -> dict[str, Any]:
    """One class (the CT GAN): no judge classifier can be trained, so only the metrics that need none --
    memorisation in pixels, PSNR/SSIM to the nearest training image, joint histograms -- each beside its floor.
    The result has the layout of :func:`evaluate_gan`'s, so the same pictures and report follow."""
    (name,) = generated_by_class
    generated = as_image_batch(generated_by_class[name], f"The generated '{name}' images")
    train = as_image_batch(train_by_class[name], f"The training '{name}' images")
    heldout = as_image_batch(heldout_by_class[name], f"The held-out '{name}' images")
    data_range = float(value_range[1]) - float(value_range[0])
    entry = _set_metrics(generated, train, heldout, None, data_range, value_range, None, bins)
    entry.pop("_similarity")
    return {
        "classes": [name],
        "note": SINGLE_CLASS_NOTE,
        "settings": {"value_range": [float(v) for v in value_range], "data_range": data_range, "bins": bins,
                     "image_shape": list(train.shape[1:])},
        "judge": None,
        "per_class": {name: entry},
        "tstr": None,
    }


def _set_metrics(
    generated, train, heldout, features, data_range, value_range, k, bins, similarity=None
) -> dict[str, Any]:
    """Metrics of one set of generated images against its real train/held-out sets, with held-out floors.

    ``features`` None (no judge classifier): the feature-space measures -- Fréchet distance, precision/recall and
    the feature memorisation ratio -- are left out."""
    feature_sets = () if features is None else (features["generated"], features["train"], features["heldout"])
    audit = memorisation_audit(generated, train, heldout, *feature_sets)
    if similarity is None:
        similarity = similarity_to_nearest_real(generated, train, data_range, audit.nearest_train_index)
    heldout_nearest = nearest_image_neighbours(heldout, train)[1]
    floor_similarity = similarity_to_nearest_real(heldout, train, data_range, heldout_nearest)
    counts, _ = joint_histogram(train[audit.nearest_train_index], generated, value_range, bins)
    floor_counts, _ = joint_histogram(train[heldout_nearest], heldout, value_range, bins)
    metrics = {
        "counts": {"generated": len(generated), "train": len(train), "heldout": len(heldout)},
        "memorisation": audit.summary(),
        "similarity_to_nearest_train": {"generated": similarity.summary(), "floor_heldout": floor_similarity.summary()},
        "mutual_information_bits": {
            "generated": mutual_information(counts), "floor_heldout": mutual_information(floor_counts),
        },
        "_similarity": similarity,
    }
    if features is not None:
        generated_pr = precision_recall(features["train"], features["generated"], k)
        floor_pr = precision_recall(features["train"], features["heldout"], k)
        metrics["frechet_distance"] = {
            "generated_vs_train": frechet_distance(features["generated"], features["train"]),
            "floor_heldout_vs_train": frechet_distance(features["heldout"], features["train"]),
        }
        metrics["precision_recall"] = {
            "generated": {"precision": generated_pr.precision, "recall": generated_pr.recall},
            "floor_heldout": {"precision": floor_pr.precision, "recall": floor_pr.recall},
        }
    return metrics


def render_gan_pictures(
    generated_by_class: Mapping[str, np.ndarray],
    train_by_class: Mapping[str, np.ndarray],
    results: Mapping[str, Any],
    folder: str | os.PathLike,
    walk: np.ndarray | None = None,
    max_tiles: int = 16,
    max_pairs: int = 8,
) -> dict[str, Path]:
    """Sample grids, nearest-neighbour pairs and joint histograms per class (+ a latent-walk strip) as PNGs.

    Returns caption -> path, ready for :func:`write_gan_report`. Uses the nearest-training indices in ``results``.
    """
    from MedGANSynthLib.pictures import save_grid_png, save_strip_png  # matplotlib only when drawing

    folder = Path(folder)
    window = tuple(results["settings"]["value_range"])
    bins = int(results["settings"]["bins"])
    pictures: dict[str, Path] = {}
    for name in results["classes"]:
        generated = as_image_batch(generated_by_class[name])
        train = as_image_batch(train_by_class[name])
        stem = _file_stem(name)
        shown = _display_tiles(generated[:max_tiles])
        pictures[f"Generated samples: {name}"] = save_grid_png(
            shown, folder / f"samples_{stem}.png", ncols=min(8, len(shown)), window=window
        )
        nearest = np.asarray(results["per_class"][name]["memorisation"]["nearest_train_index"], dtype=np.int64)
        flagged = set(results["per_class"][name]["memorisation"]["flagged_indices"])
        # Flagged near-copies first: they are what a reader of this picture must see.
        shown_pairs = (sorted(flagged) + [i for i in range(len(generated)) if i not in flagged])[:max_pairs]
        pairs = list(_display_tiles(generated[shown_pairs])) + list(_display_tiles(train[nearest[shown_pairs]]))
        titles = [f"gen {i}{' COPY?' if i in flagged else ''}" for i in shown_pairs]
        titles += [f"train {int(nearest[i])}" for i in shown_pairs]
        count = len(shown_pairs)
        pictures[f"Generated images (top row) and their nearest training images (bottom row): {name}"] = save_grid_png(
            pairs, folder / f"nearest_{stem}.png", ncols=count, titles=titles, window=window
        )
        counts, edges = joint_histogram(train[nearest], generated, window, bins)
        pictures[f"Joint histogram, generated vs nearest training image: {name}"] = save_joint_histogram_png(
            counts, edges, folder / f"joint_histogram_{stem}.png", title=f"{name}: MI {mutual_information(counts):.2f} bits"
        )
    if walk is not None:
        pictures["Latent walk"] = save_strip_png(_display_tiles(as_image_batch(walk)), folder / "walk.png", window=window)
    return pictures


def write_gan_report(
    results: Mapping[str, Any], pictures: Mapping[str, str | os.PathLike], folder: str | os.PathLike
) -> dict[str, Path]:
    """Write ``results.json``, ``report.md`` and ``report.html`` into ``folder``; return their paths.

    ``pictures`` maps a caption to an existing PNG; PNGs outside ``folder`` are copied in, so every link in the
    report is relative and the folder can be moved or zipped as a whole.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    links = {caption: _picture_in_folder(Path(path), folder) for caption, path in pictures.items()}
    clean = _json_safe(results)
    written = {}
    for file_name, text in (
        ("results.json", json.dumps(clean, indent=2, allow_nan=False) + "\n"),
        ("report.md", _markdown(clean, links)),
        ("report.html", _html(clean, links)),
    ):
        with atomic_output(folder / file_name) as temp:
            temp.write_text(text, encoding="utf-8")
        written[file_name] = folder / file_name
    return written


# ---------------------------------------------------------------------------------------------------- report text

_ROWS = (
    ("Class-conditional accuracy (judge labels generated)", ("class_accuracy",), ("heldout_class_accuracy",)),
    ("Fréchet distance to train (features)", ("frechet_distance", "generated_vs_train"),
     ("frechet_distance", "floor_heldout_vs_train")),
    ("Precision (k-NN, features)", ("precision_recall", "generated", "precision"),
     ("precision_recall", "floor_heldout", "precision")),
    ("Recall (k-NN, features)", ("precision_recall", "generated", "recall"),
     ("precision_recall", "floor_heldout", "recall")),
    ("Memorisation ratio, pixels (target >= 0.9)", ("memorisation", "ratio_pixel"), None),
    ("Memorisation ratio, features", ("memorisation", "ratio_feature"), None),
    ("Flagged near-copies (fraction)", ("memorisation", "flagged_fraction"), None),
    ("Exact copies (infinite PSNR)", ("similarity_to_nearest_train", "generated", "copies_infinite_psnr"),
     ("similarity_to_nearest_train", "floor_heldout", "copies_infinite_psnr")),
    ("PSNR to nearest train image, mean of non-copies (dB)", ("similarity_to_nearest_train", "generated", "psnr_mean_db"),
     ("similarity_to_nearest_train", "floor_heldout", "psnr_mean_db")),
    ("SSIM to nearest train image, mean", ("similarity_to_nearest_train", "generated", "ssim_mean"),
     ("similarity_to_nearest_train", "floor_heldout", "ssim_mean")),
    ("Joint-histogram mutual information (bits)", ("mutual_information_bits", "generated"),
     ("mutual_information_bits", "floor_heldout")),
    ("Grid texture (spectral peaks at 2- and 4-pixel periods)", ("grid_texture", "generated"),
     ("grid_texture", "floor_heldout")),
    ("Images with specks outside the body (fraction)", ("specks_outside_body", "generated", "images_with_specks"),
     ("specks_outside_body", "floor_heldout", "images_with_specks")),
    ("Specks outside the body per image", ("specks_outside_body", "generated", "specks_per_image"),
     ("specks_outside_body", "floor_heldout", "specks_per_image")),
)

SINGLE_CLASS_NOTE = ("single-class model: no judge classifier can be trained on one class, so class accuracy, the "
                     "feature-space Fréchet distance, precision/recall and TSTR are not reported")

_EXPLANATION = (
    "Each number for generated images stands beside its floor: the same measure for held-out real images against "
    "the training images, i.e. what a generator indistinguishable from new real data would score here. Fréchet "
    "distances use the project's own classifier features, so they are not comparable to ImageNet-Inception FIDs "
    "in papers. A memorisation ratio below 1 means generated images sit closer to the training images than new real "
    "images do. PSNR/SSIM are against the nearest training image (reference means in the brain-PET DCGAN paper: "
    f"{PAPER_PSNR_DB} dB, {PAPER_SSIM}); very high values mean copies, not quality. Grid texture is the power at "
    "the frequencies of 2- and 4-pixel periods (the up-sampling layers' checkerboard and block edges) over the power "
    "around them, about 1.5 for a smooth spectrum; specks are bright spots (>= 1 SUV) in the air beside the body of "
    "a whole-body MIP."
)


def _table_rows(results: Mapping[str, Any]) -> tuple[list[str], list[list[str]]]:
    columns = ["Measure"]
    for name in results["classes"]:
        columns += [f"{name}: generated", f"{name}: floor"]
    sections = [results["per_class"][n] for n in results["classes"]]
    if results.get("overall"):  # a single-class evaluation has none: it would repeat the one class
        columns += ["all: generated", "all: floor"]
        sections.append(results["overall"])
    rows = []
    for label, generated_key, floor_key in _ROWS:
        row = [label]
        for section in sections:
            row += [_format(_lookup(section, generated_key)), _format(_lookup(section, floor_key)) if floor_key else ""]
        rows.append(row)
    return columns, rows


def _summary_lines(results: Mapping[str, Any]) -> list[str]:
    judge = results["judge"]
    lines = [_judge_line(judge) if judge else f"No judge: {results.get('note', SINGLE_CLASS_NOTE)}."]
    if results.get("compared_with") == "selection":
        lines.insert(0, "Compared with the selection split, not the held-out one: these figures are for choosing "
                        "between models, and every 'held-out' below means the selection images.")
    tstr = results.get("tstr")
    if tstr:
        lines.append(
            f"Train on synthetic, test on real (held-out accuracy): real only {_format(tstr['real_only'])}, real + "
            f"synthetic {_format(tstr['real_plus_synthetic'])}, synthetic only {_format(tstr['synthetic_only'])}; "
            f"gain {_format(tstr['gain'])} (brain-PET DCGAN paper: +{PAPER_TSTR_GAIN:.2f})."
        )
    for name in results["classes"]:
        misses = _largest_misses(results["per_class"][name].get("judged_as", {}), name)
        if misses:
            lines.append(f"Generated '{name}' images the judges gave another class: {misses}.")
    for name in results["classes"]:
        flagged = results["per_class"][name]["memorisation"]["flagged_indices"]
        if flagged:
            lines.append(f"Class '{name}': generated images {flagged[:20]} are near-copies of training images.")
    return lines


def _largest_misses(judged_as: Mapping[str, float], own: str, count: int = 2, floor: float = 0.02) -> str:
    """The (at most ``count``) other classes that took at least ``floor`` of a class's images, largest first."""
    others = sorted(((share, other) for other, share in judged_as.items() if other != own and share >= floor),
                    reverse=True)[:count]
    return ", ".join(f"{other} {_format(share)}" for share, other in others)


def _judge_line(judge: Mapping[str, Any]) -> str:
    line = (f"Judge classifier accuracy on held-out real images: {_format(judge['heldout_real_accuracy'])} "
            f"(on its training images: {_format(judge['train_real_accuracy'])}).")
    by_judge = judge.get("heldout_real_accuracy_by_judge")
    if by_judge:
        line += (f" Class accuracies are means over {len(by_judge)} judges trained from different seeds (held-out "
                 f"accuracy of each: {', '.join(_format(v) for v in by_judge)}).")
    if judge.get("at_chance"):
        line += (f" Judge(s) {', '.join(map(str, judge['at_chance']))} label their own training images hardly better "
                 "than chance: they did not learn the classes, so read the class accuracies with care.")
    return line


def _markdown(results: Mapping[str, Any], links: Mapping[str, str]) -> str:
    columns, rows = _table_rows(results)
    text = ["# GAN evaluation report", "", *[f"- {line}" for line in _summary_lines(results)], "", _EXPLANATION, ""]
    text += [_markdown_row(columns), "|" + "---|" * len(columns)]
    text += [_markdown_row(row) for row in rows]
    text += ["", "## Pictures", ""]
    for caption, link in links.items():
        text += [f"### {caption}", "", f"![{caption}]({link})", ""]
    text += ["All numbers: [results.json](results.json)", ""]
    return "\n".join(text)


def _markdown_row(cells: list[str]) -> str:
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


def _html(results: Mapping[str, Any], links: Mapping[str, str]) -> str:
    columns, rows = _table_rows(results)
    escape = html.escape
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8"><title>GAN evaluation report</title>',
        "<style>body{font-family:sans-serif;max-width:1200px;margin:1em auto}table{border-collapse:collapse}"
        "td,th{border:1px solid #bbb;padding:3px 6px;text-align:right}td:first-child{text-align:left}"
        "img{max-width:100%}</style></head><body>",
        "<h1>GAN evaluation report</h1>",
        "<ul>" + "".join(f"<li>{escape(line)}</li>" for line in _summary_lines(results)) + "</ul>",
        f"<p>{escape(_EXPLANATION)}</p>",
        "<table><tr>" + "".join(f"<th>{escape(c)}</th>" for c in columns) + "</tr>",
        *["<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>" for row in rows],
        "</table>", "<h2>Pictures</h2>",
    ]
    for caption, link in links.items():
        parts.append(
            f'<figure><img src="{escape(link, quote=True)}" alt="{escape(caption, quote=True)}">'
            f"<figcaption>{escape(caption)}</figcaption></figure>"
        )
    parts += ['<p>All numbers: <a href="results.json">results.json</a></p>', "</body></html>", ""]
    return "\n".join(parts)


# ---------------------------------------------------------------------------------------------------- helpers

def _class_names(*mappings: Mapping[str, np.ndarray]) -> list[str]:
    names = list(mappings[0])
    if len(names) < 2:
        raise InputError("GAN evaluation needs images of at least two classes (stages) to train its judge classifier.")
    for mapping, what in zip(mappings[1:], ("training", "held-out"), strict=True):
        if set(mapping) != set(names):
            raise InputError(
                f"The {what} images have classes {sorted(mapping)} but the generated ones have {sorted(names)};"
                " give the same classes."
            )
    return names


def _pooled(batches: Mapping[str, np.ndarray], names: list[str]) -> np.ndarray:
    return np.concatenate([batches[n] for n in names])


def _concatenated(similarities: Mapping[str, SimilarityToNearest], names: list[str]) -> SimilarityToNearest:
    return SimilarityToNearest(
        psnr=np.concatenate([similarities[n].psnr for n in names]),
        ssim=np.concatenate([similarities[n].ssim for n in names]),
        nearest_index=np.concatenate([similarities[n].nearest_index for n in names]),
    )


def _display_tiles(batch: np.ndarray) -> np.ndarray:
    """N x H x W tiles for drawing: the single channel, or the channel mean of multi-channel images."""
    return batch[:, 0] if batch.shape[1] == 1 else batch.mean(axis=1)


def _file_stem(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_").lower() or "class"


def _picture_in_folder(path: Path, folder: Path) -> str:
    if not path.is_file():
        raise InputError(f"The picture '{path}' does not exist; render it before writing the report.")
    try:
        return path.resolve().relative_to(folder.resolve()).as_posix()
    except ValueError:
        target = folder / path.name
        with atomic_output(target) as temp:
            shutil.copyfile(path, temp)
        return target.name


def _lookup(section: Mapping[str, Any], keys: tuple[str, ...]) -> Any:
    value: Any = section
    for key in keys:
        value = value.get(key) if isinstance(value, Mapping) else None
    return value


def _format(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.3f}" if math.isfinite(value) else ("copy (inf)" if value > 0 else "n/a")
    return str(value)


def _json_safe(value: Any) -> Any:
    """Plain JSON types; +inf (copies, PSNR) becomes the string "inf" and NaN becomes null (strict JSON has neither)."""
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return [_json_safe(v) for v in value.tolist()]
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer, int)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        number = float(value)
        if math.isnan(number):
            return None
        return number if math.isfinite(number) else ("inf" if number > 0 else "-inf")
    return value
