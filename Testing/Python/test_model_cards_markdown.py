"""The Markdown model card beside each bundled model agrees with the JSON card that loading reads.

The figures are parsed back out of the Markdown tables and compared with the JSON values rounded here, so a card
edited by hand, or a JSON card re-scored without regenerating the Markdown, fails.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MODELS = REPO / "Resources" / "Models"
CATALOGUE = json.loads((MODELS / "catalogue.json").read_text())["models"]
IDS = [entry["id"] for entry in CATALOGUE]


def markdown(entry: dict) -> str:
    return (MODELS / Path(entry["file"]).with_suffix(".md").name).read_text()


def json_card(entry: dict) -> dict:
    return json.loads((MODELS / Path(entry["file"]).with_suffix(".json").name).read_text())


def table_rows(text: str, first_cell: str) -> list[list[str]]:
    """Cells of every Markdown table row whose first cell is ``first_cell`` (bold and notes stripped)."""
    rows = []
    for line in text.splitlines():
        if line.startswith("|"):
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            if cells[0].replace("**", "").split(" (")[0] == first_cell:
                rows.append(cells)
    return rows


def leading_number(cell: str) -> float:
    return float(cell.split()[0])


@pytest.mark.parametrize("entry", CATALOGUE, ids=IDS)
def test_each_bundled_model_has_a_markdown_card_that_says_it_is_trained_on_phantoms(entry):
    text = markdown(entry)
    assert "Trained on phantoms." in text and "not how it would perform on patients" in text
    assert f"`{entry['id']}`" in text and entry["sha256"] in text
    for target in re.findall(r"\]\(([^)#]+)", text):  # pictures and documents the card links to
        assert (MODELS / target).resolve().is_file(), f"{target} linked from the card does not exist"


@pytest.mark.parametrize("entry", [e for e in CATALOGUE if e["task"] == "gan"], ids=lambda e: e["id"])
def test_gan_card_figures_equal_the_json_card(entry):
    text, results = markdown(entry), json_card(entry)["metrics"]["heldout_evaluation"]["results"]
    for name, section in results["per_class"].items():
        label = name if results.get("judge") else None
        if label is None:  # the one-class CT GAN has a two-column table of its own
            (row,) = table_rows(text, "memorisation ratio")
            assert float(row[1]) == round(section["memorisation"]["ratio_pixel"], 2)
            (row,) = table_rows(text, "SSIM to the nearest training slice")
            assert float(row[1]) == round(section["similarity_to_nearest_train"]["generated"]["ssim_mean"], 2)
            assert float(row[2]) == round(section["similarity_to_nearest_train"]["floor_heldout"]["ssim_mean"], 2)
            continue
        (row,) = table_rows(text, label)
        assert leading_number(row[1]) == round(section["class_accuracy"], 2)
        assert float(row[2]) == round(section["heldout_class_accuracy"], 2)
        assert float(row[3]) == round(section["memorisation"]["ratio_pixel"], 2)
    tstr = results.get("tstr")
    if tstr:
        assert (f"trained on real {tstr['real_only']:.2f}, on real + synthetic {tstr['real_plus_synthetic']:.2f}"
                in text)


def test_virtual_pet_card_figures_equal_the_json_card():
    (entry,) = [e for e in CATALOGUE if e["task"] == "virtual_pet"]
    text, metrics = markdown(entry), json_card(entry)["metrics"]
    sections = text.split("\n**")  # one table per scored set, each after its bold title
    for key, scores in metrics.items():
        if key == "real_ct_physiology":
            (section,) = [part for part in sections if part.startswith("Real patient CTs")]
            for case in scores["cases"]:  # one row per CT and --outside-body choice (older cards: keep only)
                (row,) = [r for r in table_rows(section, case["ct"]) if r[1] == case.get("outside_body", "keep")]
                assert leading_number(row[2]) == round(case["muscle_mean"], 2)
                assert row[2].endswith(f"({case['muscle_left_mean']:.2f} / {case['muscle_right_mean']:.2f})")
                assert float(row[3]) == round(case["fat_mean"], 2) and float(row[7]) == round(case["outside_body_max"], 2)
                for column, organ in ((4, "liver"), (5, "spleen")):
                    value = case.get(f"{organ}_mean")
                    assert row[column] == ("not found" if value is None else f"{value:.2f}")
            continue
        if "blended" not in scores:  # the training run's own records (final_epoch, training), not a scored set
            continue
        (section,) = [part for part in sections if scores["phantoms"] in part]
        for method in ("fcn", "gan", "blended"):
            (row,) = table_rows(section, method)
            m = scores[method]
            assert leading_number(row[1]) == round(m["tpr"], 2), (key, method)
            assert row[1].endswith(f"({m['tp']}/{m['true_lesions']})")
            assert float(row[2]) == round(m["tpr_focal"], 2)
            assert float(row[3]) == round(m["fp_per_scan"], 1)
            assert float(row[4]) == round(m["ssim"], 2)


def test_generated_blocks_are_up_to_date_with_the_json_cards():
    result = subprocess.run([sys.executable, str(REPO / "Testing" / "Training" / "model_card_markdown.py"), "--check"],
                            capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("entry", [e for e in CATALOGUE if e["task"] == "cyclegan"], ids=lambda e: e["id"])
def test_cyclegan_card_figures_equal_the_json_card(entry):
    text, heldout = markdown(entry), json_card(entry)["metrics"]["heldout"]
    rows = {"CycleGAN": heldout, **heldout.get("paired_on_the_same_scans", {})}
    for name, scores in rows.items():
        (row,) = table_rows(text, name.split(" (")[0])
        assert float(row[1]) == round(scores["ssim"], 2) and float(row[3]) == round(scores["mae_suv"], 2), name
        assert float(row[4]) == round(scores["tpr"], 2) and float(row[6]) == round(scores["invented_per_scan"], 1)
        assert float(row[7]) == round(scores["erased_per_scan"], 2), name
    band = json_card(entry)["metrics"]["cycle_error_band"]["band_hu"]
    assert f"above {band:.1f} HU" in text


def _card_markdown_module():
    """Testing/Training/model_card_markdown.py, imported from its path (a script folder, not a package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("card_markdown", REPO / "Testing" / "Training" / "model_card_markdown.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_artefact_measures_of_a_new_evaluation_appear_in_the_gan_tables():
    """Cards scored before grid texture and specks existed keep their text (the --check above); a card re-scored
    with them gets their rows, with the stored numbers rounded as the cards print them."""
    cards = _card_markdown_module()
    texture = {"generated": 43.1636, "floor_heldout": 2.8684, "ratio": 15.05}
    specks = {"generated": {"images_with_specks": 0.456, "specks_per_image": 0.812},
              "floor_heldout": {"images_with_specks": 0.0, "specks_per_image": 0.0}}
    ct = json_card(next(e for e in CATALOGUE if e["id"] == "ct-gan-phantom"))
    (section,) = ct["metrics"]["heldout_evaluation"]["results"]["per_class"].values()
    section["grid_texture"] = texture
    (row,) = table_rows("\n".join(cards.gan_metrics(ct)), "grid texture")
    assert row[1:] == ["43.16", "2.87"]
    radiogan = json_card(next(e for e in CATALOGUE if e["id"] == "radiogan-phantom"))
    radiogan["metrics"]["heldout_evaluation"]["results"]["overall"].update(
        {"grid_texture": texture, "specks_outside_body": specks})
    text = "\n".join(cards.gan_metrics(radiogan))
    assert table_rows(text, "images with specks outside the body")[0][1:] == ["0.46", "0.00"]
    assert table_rows(text, "specks outside the body per image")[0][1:] == ["0.81", "0.00"]


def test_ct_gan_card_shows_its_tissue_shares_against_a_real_ct():
    """The bundled CT GAN's card keeps the rows of ct_gan_real_ct_tissues.py --write-card, printed to 3 decimals:
    what the held-out phantom figures cannot show (the samples' tissue mix against a real CT's and their data's)."""
    entry = next(e for e in CATALOGUE if e["id"] == "ct-gan-phantom")
    text, tissues = markdown(entry), json_card(entry)["metrics"]["real_ct_tissues"]
    assert len(tissues["rows"]) == 3
    for name, shares in tissues["rows"].items():
        (row,) = table_rows(text, name.split(" (")[0])
        assert int(row[1]) == shares["slices"]
        assert [float(cell) for cell in row[2:6]] == [round(shares[key], 3) for key in ("lung", "fat", "soft", "bone")]
        assert float(row[6]) == round(shares["soft_mean_hu"], 1)


def test_the_rule_text_names_the_blend_s_options_only_when_they_are_on():
    """A card scored with the paper's blend reads as before; the veto and the FCN's base are named when set."""
    scores = {"threshold_suv": 2.5, "min_volume_ml": 0.5, "blend_levels": 4, "blend_dilation_mm": 0.0,
              "slice_smoothing_mm": 12.0}
    model_card_markdown = _card_markdown_module()
    paper = model_card_markdown.rule_text(scores)
    assert "vetoed" not in paper and "from the FCN" not in paper and "smoothing 12 mm" in paper
    tuned = model_card_markdown.rule_text({**scores, "blend_veto_suv": 1.0, "blend_base_levels": 1})
    assert "vetoed where the FCN is below 1.0" in tuned and "the coarsest 1 level from the FCN everywhere" in tuned
