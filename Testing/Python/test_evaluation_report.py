"""evaluate_gan end to end on a toy two-class problem, and the report files it writes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from MedGANSynthLib.errors import Cancelled, InputError
from MedGANSynthLib.evaluation.classifier import fit_classifier, predict_labels
from MedGANSynthLib.gan.report import (
    JUDGE_SEED_STRIDE,
    evaluate_gan,
    render_gan_pictures,
    write_gan_report,
)
from MedGANSynthLib.jobs.progress import CancelToken

FAST = {"epochs": 6, "batch_size": 16, "width": 8}


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """Tiny networks on 2 shared cores: one intra-op thread is ~20x faster than two contending ones (measured)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _bright_half(count: int, top: bool, rng: np.random.Generator) -> np.ndarray:
    images = rng.normal(0.2, 0.05, size=(count, 16, 16))
    images[:, :8] += 0.5 if top else 0.0
    images[:, 8:] += 0.0 if top else 0.5
    return np.clip(images, 0.0, 1.0).astype(np.float32)


def _draw(counts: dict[str, int], rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {name: _bright_half(count, name == "top", rng) for name, count in counts.items()}


@pytest.fixture(scope="module")
def toy():
    rng = np.random.default_rng(77)
    train = _draw({"top": 16, "bottom": 16}, rng)
    heldout = _draw({"top": 8, "bottom": 8}, rng)
    good = _draw({"top": 8, "bottom": 8}, rng)  # a "perfect" generator: new draws of the real distribution
    return train, heldout, good


@pytest.fixture(scope="module")
def good_results(toy):
    train, heldout, good = toy
    return evaluate_gan(good, train, heldout, value_range=(0.0, 1.0), seed=1, **FAST)


def test_results_hold_per_class_and_overall_entries(good_results):
    assert good_results["classes"] == ["top", "bottom"]
    for section in [*good_results["per_class"].values(), good_results["overall"]]:
        for part in ("generated", "floor_heldout"):
            pr = section["precision_recall"][part]
            assert 0.0 <= pr["precision"] <= 1.0 and 0.0 <= pr["recall"] <= 1.0
        assert section["frechet_distance"]["generated_vs_train"] >= 0.0
        assert 0.0 <= section["class_accuracy"] <= 1.0
    assert good_results["per_class"]["top"]["counts"] == {"generated": 8, "train": 16, "heldout": 8}
    # The task is trivially separable: the judge must be reliable, and labels new real-like draws correctly.
    assert good_results["judge"]["heldout_real_accuracy"] >= 0.95
    assert good_results["overall"]["class_accuracy"] >= 0.95
    tstr = good_results["tstr"]
    assert all(0.0 <= tstr[key] <= 1.0 for key in ("real_only", "real_plus_synthetic", "synthetic_only"))


def test_a_noise_generator_scores_worse_than_a_realistic_one(toy, good_results):
    train, heldout, _ = toy
    rng = np.random.default_rng(5)
    noise = {name: rng.random((8, 16, 16)).astype(np.float32) for name in ("top", "bottom")}
    bad = evaluate_gan(noise, train, heldout, seed=1, run_tstr=False, **FAST)
    assert bad["overall"]["frechet_distance"]["generated_vs_train"] > 10 * max(
        good_results["overall"]["frechet_distance"]["generated_vs_train"], 1e-9
    )
    assert bad["overall"]["precision_recall"]["generated"]["precision"] < (
        good_results["overall"]["precision_recall"]["generated"]["precision"]
    )


def test_copies_of_training_images_are_caught_by_the_audit(toy):
    train, heldout, _ = toy
    copies = {name: images[:8].copy() for name, images in train.items()}
    results = evaluate_gan(copies, train, heldout, seed=1, run_tstr=False, **FAST)
    for name in ("top", "bottom"):
        audit = results["per_class"][name]["memorisation"]
        assert audit["ratio_pixel"] == 0.0 and audit["passed"] is False
        assert audit["flagged_indices"] == list(range(8))
        assert audit["nearest_train_index"] == list(range(8))
        similarity = results["per_class"][name]["similarity_to_nearest_train"]["generated"]
        assert similarity["copies_infinite_psnr"] == 8 and similarity["ssim_mean"] == pytest.approx(1.0)
    assert results["overall"]["memorisation"]["ratio_pixel"] == 0.0


@pytest.fixture(scope="module")
def written_report(toy, good_results, tmp_path_factory):
    train, _, good = toy
    folder = tmp_path_factory.mktemp("report")
    outside = tmp_path_factory.mktemp("elsewhere")
    pictures = render_gan_pictures(good, train, good_results, folder, walk=good["top"][:5])
    extra = render_gan_pictures(good, train, good_results, outside)  # PNGs outside the report folder
    pictures["Copied from elsewhere"] = extra["Generated samples: top"]
    return folder, write_gan_report(good_results, pictures, folder)


def test_report_files_exist_and_json_is_strict(written_report):
    folder, written = written_report
    assert set(written) == {"results.json", "report.md", "report.html"}
    assert all(path.is_file() for path in written.values())

    def reject(constant):
        raise AssertionError(f"non-standard JSON constant {constant}")

    data = json.loads((folder / "results.json").read_text(), parse_constant=reject)
    assert set(data["per_class"]) == {"top", "bottom"}
    assert "frechet_distance" in data["per_class"]["top"] and "tstr" in data
    assert not [p.name for p in folder.iterdir() if p.name.startswith(".")]  # no temporary leftovers


def test_report_links_only_existing_files(written_report):
    folder, _ = written_report
    markdown = (folder / "report.md").read_text()
    links = re.findall(r"\]\(([^)]+)\)", markdown)
    assert "walk.png" in links and "samples_top.png" in links and "results.json" in links
    assert all((folder / link).is_file() and not Path(link).is_absolute() for link in links)
    html = (folder / "report.html").read_text()
    sources = re.findall(r'src="([^"]+)"', html)
    assert sources and all((folder / source).is_file() for source in sources)
    assert "| Fréchet distance to train (features) |" in markdown


def test_a_missing_picture_is_refused_before_anything_is_written(good_results, tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        write_gan_report(good_results, {"gone": tmp_path / "nope.png"}, tmp_path / "out")
    assert list((tmp_path / "out").iterdir()) == []


def test_copies_make_infinite_psnr_which_json_stores_as_a_string(toy, tmp_path):
    train, heldout, _ = toy
    copies = {name: images[:4].copy() for name, images in train.items()}
    results = evaluate_gan(copies, train, heldout, seed=1, run_tstr=False, **FAST)
    write_gan_report(results, {}, tmp_path)
    data = json.loads((tmp_path / "results.json").read_text())
    assert data["per_class"]["top"]["similarity_to_nearest_train"]["generated"]["psnr_median_db"] == "inf"
    markdown = (tmp_path / "report.md").read_text()
    copies_row = next(line for line in markdown.splitlines() if line.startswith("| Exact copies"))
    assert copies_row.split("|")[2].strip() == "4"  # class 'top', generated column
    assert "Class 'top': generated images [0, 1, 2, 3] are near-copies" in markdown


def test_mismatched_or_single_classes_are_refused(toy):
    train, heldout, good = toy
    with pytest.raises(InputError, match="same classes"):
        evaluate_gan({"top": good["top"], "other": good["bottom"]}, train, heldout, **FAST)
    with pytest.raises(InputError, match="two classes"):
        evaluate_gan({"top": good["top"]}, {"top": train["top"]}, {"top": heldout["top"]}, **FAST)
    with pytest.raises(InputError, match="low < high"):
        evaluate_gan(good, train, heldout, value_range=(1.0, 1.0), **FAST)
    with pytest.raises(InputError, match="at least 4"):
        evaluate_gan({n: g[:3] for n, g in good.items()}, train, heldout, **FAST)


def test_same_seed_gives_the_same_results(toy):
    train, heldout, good = toy
    first = evaluate_gan(good, train, heldout, seed=4, run_tstr=False, **FAST)
    second = evaluate_gan(good, train, heldout, seed=4, run_tstr=False, **FAST)
    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)


def test_progress_is_reported_and_cancel_stops_the_work(toy):
    train, heldout, good = toy
    events = []
    evaluate_gan(good, train, heldout, run_tstr=False, progress=events.append, **FAST)
    stages = [e for e in events if e.stage == "evaluate"]
    assert stages[0].done == 0 and stages[-1].done == stages[-1].total
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        evaluate_gan(good, train, heldout, cancel=token, **FAST)


def test_a_panel_of_judges_reports_the_mean_of_judges_trained_by_hand(toy):
    """Three judges: each class accuracy is the plain mean of three classifiers trained here from the seeds the
    panel documents (seed, seed + stride, seed + 2 stride); the first judge is the one-judge run's own."""
    train, heldout, _ = toy
    rng = np.random.default_rng(9)
    # half-bright images the judges must guess on: their verdicts differ, so a mean of equal numbers cannot pass
    ambiguous = {name: (0.2 + 0.25 * rng.random((8, 16, 16))).astype(np.float32) for name in ("top", "bottom")}
    panel = evaluate_gan(ambiguous, train, heldout, seed=3, run_tstr=False, judges=3, **FAST)
    single = evaluate_gan(ambiguous, train, heldout, seed=3, run_tstr=False, **FAST)

    images = np.concatenate([train["top"], train["bottom"]])
    labels = np.repeat([0, 1], [len(train["top"]), len(train["bottom"])])
    by_hand = {name: [] for name in ("top", "bottom")}
    for seed in (3, 3 + JUDGE_SEED_STRIDE, 3 + 2 * JUDGE_SEED_STRIDE):
        judge = fit_classifier(images, labels, seed=seed, **FAST)
        for index, name in enumerate(("top", "bottom")):
            by_hand[name].append(float(np.mean(predict_labels(judge, ambiguous[name]) == index)))
    for name, scores in by_hand.items():
        entry = panel["per_class"][name]
        assert entry["class_accuracy_by_judge"] == pytest.approx(scores)
        assert entry["class_accuracy"] == pytest.approx(sum(scores) / 3)
        assert single["per_class"][name]["class_accuracy"] == pytest.approx(scores[0])
        assert "class_accuracy_by_judge" not in single["per_class"][name]
    assert len({tuple(s) for s in zip(*by_hand.values(), strict=True)}) > 1, "the judges should disagree on ambiguous images"
    assert panel["judge"]["count"] == 3 and panel["settings"]["judge_seeds"] == [3, 10010, 20017]
    assert panel["overall"]["class_accuracy"] == pytest.approx(
        (sum(by_hand["top"]) + sum(by_hand["bottom"])) / 6)


def test_a_panel_needs_at_least_one_judge(toy):
    train, heldout, good = toy
    with pytest.raises(InputError, match="at least 1"):
        evaluate_gan(good, train, heldout, judges=0, **FAST)


def test_a_judge_that_learned_nothing_is_named_in_results_and_report(toy, tmp_path):
    """A judge trained at learning rate 0 keeps its random weights: on two classes it labels its own training
    images about half right, and the results and the report must say it cannot be trusted."""
    train, heldout, good = toy
    frozen = dict(FAST, learning_rate=0.0)
    results = evaluate_gan(good, train, heldout, seed=1, run_tstr=False, **frozen)
    assert results["judge"]["train_real_accuracy"] < 0.6 and results["judge"]["at_chance"] == [1]
    trained = evaluate_gan(good, train, heldout, seed=1, run_tstr=False, **FAST)
    assert trained["judge"]["at_chance"] == []
    pictures = render_gan_pictures(good, train, results, tmp_path / "pictures")
    write_gan_report(results, {k: str(v) for k, v in pictures.items()}, tmp_path / "report")
    assert "Judge(s) 1 label their own training images hardly better than chance" in (
        tmp_path / "report" / "report.md").read_text()


def test_judged_as_shows_which_class_took_a_class_s_images(toy, good_results, tmp_path):
    """A generator asked for 'top' that draws bright-bottom images: the judges give those images to 'bottom', and
    the report says so; a faithful generator's images stay with their own class."""
    train, heldout, good = toy
    swapped = {"top": good["bottom"], "bottom": good["bottom"]}
    results = evaluate_gan(swapped, train, heldout, seed=1, run_tstr=False, judges=2, **FAST)
    shares = results["per_class"]["top"]["judged_as"]
    assert shares["bottom"] >= 0.9 and sum(shares.values()) == pytest.approx(1.0)
    assert shares["top"] == pytest.approx(results["per_class"]["top"]["class_accuracy"])
    assert good_results["per_class"]["top"]["judged_as"]["bottom"] <= 0.1
    pictures = render_gan_pictures(swapped, train, results, tmp_path / "pictures")
    write_gan_report(results, {k: str(v) for k, v in pictures.items()}, tmp_path / "report")
    assert "Generated 'top' images the judges gave another class: bottom" in (
        tmp_path / "report" / "report.md").read_text()
