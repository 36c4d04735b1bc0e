"""`evaluate-gan` end to end on a tiny RadioGAN: report files, per-class results, metrics stored in the card."""

from __future__ import annotations

import json

import pytest

from MedGANSynthLib.cli.main import main
from MedGANSynthLib.weights.catalogue import file_sha256
from MedGANSynthLib.weights.safetensors_io import load_gan


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("evaluate")
    assert main(["dataset", "mip", "--phantoms", "9", "--heldout", "4", "--selection", "5",
                 "--classes", "normal,lymphoma", "--voxel-mm", "10", "-o", str(root / "data")]) == 0
    assert main(["train", "--architecture", "radiogan", "--data", str(root / "data" / "train"), "-o",
                 str(root / "run"), "--epochs", "1", "--batch-size", "4", "--image-size", "40x24", "--width", "0.25",
                 "--device", "cpu", "--threads", "1"]) == 0
    return root, root / "run" / "weights" / "radiogan.safetensors"


def test_report_and_card(trained, tmp_path):
    root, model = trained
    checksum = file_sha256(model)
    assert main(["evaluate-gan", str(model), "--data", str(root / "data"), "-o", str(tmp_path / "report"),
                 "--count", "8", "--epochs", "2", "--write-card"]) == 0
    results = json.loads((tmp_path / "report" / "results.json").read_text())
    assert sorted(results["per_class"]) == ["lymphoma", "normal"]
    for name in ("report.md", "report.html", "pictures/walk.png"):
        assert (tmp_path / "report" / name).exists(), name
    _, _, card = load_gan(model)  # still loads: the card changed, the tensors and their checksum did not
    assert file_sha256(model) == checksum == card.tensor_sha256
    stored = card.metrics["heldout_evaluation"]["results"]["per_class"]
    assert stored.keys() == results["per_class"].keys()
    assert results["compared_with"] == "heldout" and results["per_class"]["normal"]["counts"]["heldout"] == 4
    # a MIP model: grid texture and specks outside the body, per class and pooled, each with its held-out floor
    for section in (*results["per_class"].values(), results["overall"]):
        assert section["grid_texture"]["floor_heldout"] > 0
        assert section["specks_outside_body"]["floor_heldout"]["images_with_specks"] == 0.0  # real phantom MIPs
    assert "grid_texture" in stored["normal"]


def test_choosing_between_models_on_the_selection_split(trained, tmp_path, capsys):
    root, model = trained
    card_before = model.with_suffix(".json").read_text()
    assert main(["evaluate-gan", str(model), "--data", str(root / "data"), "-o", str(tmp_path / "report"),
                 "--count", "8", "--epochs", "2", "--no-tstr", "--against", "selection", "--judges", "2"]) == 0
    results = json.loads((tmp_path / "report" / "results.json").read_text())
    assert len(results["per_class"]["normal"]["class_accuracy_by_judge"]) == 2
    assert "means over 2 judges" in (tmp_path / "report" / "report.md").read_text()
    # the 5 selection phantoms per class stood in for the 4 held-out ones
    assert results["compared_with"] == "selection"
    # ... and other samples: their distances to the training images differ from those of a held-out run, same --seed
    assert main(["evaluate-gan", str(model), "--data", str(root / "data"), "-o", str(tmp_path / "heldout"),
                 "--count", "8", "--epochs", "2", "--no-tstr"]) == 0
    heldout = json.loads((tmp_path / "heldout" / "results.json").read_text())
    median = ("memorisation", "median_generated_to_train")
    assert all(results["per_class"][c][median[0]][median[1]] != heldout["per_class"][c][median[0]][median[1]]
               for c in ("normal", "lymphoma"))
    assert results["settings"]["seed"] != heldout["settings"]["seed"] == 0
    assert [results["per_class"][name]["counts"]["heldout"] for name in ("normal", "lymphoma")] == [5, 5]
    assert "Compared with the selection split" in (tmp_path / "report" / "report.md").read_text()
    # a card keeps held-out figures only
    assert main(["evaluate-gan", str(model), "--data", str(root / "data"), "-o", str(tmp_path / "r2"),
                 "--count", "8", "--against", "selection", "--write-card"]) == 2
    assert "evaluate against the held-out split" in capsys.readouterr().err
    assert model.with_suffix(".json").read_text() == card_before and not (tmp_path / "r2").exists()


@pytest.mark.parametrize("option, value, message", [
    ("--count", "2", "--count"),
    ("--judges", "0", "--judges must be between 1 and 20, got 0"),
])
def test_bad_counts_are_refused(trained, tmp_path, capsys, option, value, message):
    root, model = trained
    assert main(["evaluate-gan", str(model), "--data", str(root / "data"), "-o", str(tmp_path / "r"),
                 option, value]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_missing_data_folder_is_refused(trained, tmp_path, capsys):
    _, model = trained
    assert main(["evaluate-gan", str(model), "--data", str(tmp_path / "none"), "-o", str(tmp_path / "r"),
                 "--count", "8"]) == 2
    assert "not a folder" in capsys.readouterr().err


def test_data_whose_classes_differ_from_the_model_s_give_one_line(trained, tmp_path, capsys):
    _, model = trained  # trained on normal and lymphoma
    assert main(["dataset", "mip", "--phantoms", "2", "--heldout", "1", "--classes", "normal,lung",
                 "--voxel-mm", "10", "-o", str(tmp_path / "other")]) == 0
    capsys.readouterr()
    assert main(["evaluate-gan", str(model), "--data", str(tmp_path / "other"), "-o", str(tmp_path / "r"),
                 "--count", "8", "--no-tstr"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "--data" in err and "lymphoma" in err and "lung" in err
    assert not (tmp_path / "r").exists()


def test_single_class_ct_gan_gets_the_class_free_metrics(tmp_path):
    assert main(["dataset", "ct", "--phantoms", "6", "--heldout", "3", "--slices", "8", "--size", "40",
                 "-o", str(tmp_path / "data")]) == 0
    assert main(["train", "--architecture", "ct_gan", "--data", str(tmp_path / "data" / "train"), "-o",
                 str(tmp_path / "run"), "--epochs", "1", "--width", "0.125", "--threads", "1"]) == 0
    assert main(["evaluate-gan", str(tmp_path / "run" / "weights" / "ct_gan.safetensors"), "--data",
                 str(tmp_path / "data"), "-o", str(tmp_path / "report"), "--count", "8"]) == 0
    results = json.loads((tmp_path / "report" / "results.json").read_text())
    entry = results["per_class"]["ct_gan"]
    audit = entry["memorisation"]
    # The ratio is what it claims to be: the quotient of the two medians it reports.
    assert audit["ratio_pixel"] == pytest.approx(audit["median_generated_to_train"] / audit["median_heldout_to_train"])
    assert entry["similarity_to_nearest_train"]["floor_heldout"]["ssim_mean"] <= 1.0
    assert results["judge"] is None and "Fréchet" in results["note"]
    # grid texture for every GAN; specks only for whole-body MIP models
    assert entry["grid_texture"]["ratio"] > 0 and "specks_outside_body" not in entry
    # the same report and pictures as a multi-class evaluation, every picture linked from the report
    report = (tmp_path / "report" / "report.md").read_text()
    assert "No judge" in report and (tmp_path / "report" / "report.html").is_file()
    for picture in ("samples_ct_gan.png", "nearest_ct_gan.png", "joint_histogram_ct_gan.png"):
        assert (tmp_path / "report" / "pictures" / picture).is_file() and f"pictures/{picture}" in report
