"""Session 33's virtual-PET rule (Testing/Training/virtual_pet_organ_choice.py) on score files written here, in the
shapes evaluate-virtual-pet, virtual_pet_real_ct_physiology.py and virtual_pet_organ_bias.py print them."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "Training"))
from virtual_pet_organ_choice import criteria, figures, main  # noqa: E402

ORGANS_TRUE = {"liver": 2.2, "spleen": 1.9, "muscle": 0.55, "cancellous_bone": 1.3}


def write_model(root: Path, name: str, *, blended_offsets: dict, torso_liver: float, venous: tuple[float, float],
                fp: float = 8.0, tpr: float = 0.65) -> None:
    blended = {"tpr_margin": tpr, "fp_margin_per_scan": fp, "ssim": 0.7, "tpr": tpr, "fp_per_scan": fp}
    (root / f"{name}_selection.json").write_text(json.dumps({"overall": {"blended": blended}}))
    liver, spleen = venous
    cases = []
    for outside in ("keep", "zero"):
        cases += [{"ct": "ct-nifti/example_ct_sm.nii.gz", "outside_body": outside, "muscle_mean": 0.93, "fat_mean": 0.4,
                   "outside_body_max": 1.0 if outside == "keep" else 0.0, "liver_mean": torso_liver,
                   "spleen_mean": None},
                  {"ct": "ct-dicom-thorax", "outside_body": outside, "muscle_mean": 0.90, "fat_mean": 0.4,
                   "outside_body_max": 1.0 if outside == "keep" else 0.0, "liver_mean": liver, "spleen_mean": spleen}]
    (root / f"{name}_real_ct.json").write_text(json.dumps({"cases": cases}))
    for phase in ("plain", "pv"):
        organs = {organ: {"true": true, "blended": true + blended_offsets[organ]} for organ, true in ORGANS_TRUE.items()}
        organs["lung"] = {"true": 0.6, "blended": 3.0}  # not one of the rule's organs: must not count
        (root / f"{name}_bias_{phase}.json").write_text(json.dumps({"organs": organs}))


def test_organ_figures_are_computed_from_the_files(tmp_path):
    # offsets -0.6, -0.4, +0.5, +0.1 in both sets: mean |error| = 1.6 / 4 = 0.4
    write_model(tmp_path, "incumbent", blended_offsets={"liver": -0.6, "spleen": -0.4, "muscle": 0.5,
                                                        "cancellous_bone": 0.1},
                torso_liver=1.44, venous=(1.59, 1.72))
    found = figures(tmp_path, "incumbent")
    assert found["organ_error"] == pytest.approx(0.4)
    assert found["outside_published"] == pytest.approx(1.5 - 1.44)  # every other organ inside its range
    assert found["spleen_minus_liver"] == pytest.approx(1.72 - 1.59)


def test_a_candidate_that_finds_lesions_as_well_but_draws_the_liver_worse_is_refused(tmp_path):
    offsets = {"liver": -0.6, "spleen": -0.4, "muscle": 0.5, "cancellous_bone": 0.1}
    write_model(tmp_path, "incumbent", blended_offsets=offsets, torso_liver=1.44, venous=(1.59, 1.72))
    write_model(tmp_path, "candidate", blended_offsets={**offsets, "liver": -0.8}, torso_liver=1.44,
                venous=(1.59, 1.72), fp=6.0, tpr=0.66)
    passed = criteria(figures(tmp_path, "incumbent"), figures(tmp_path, "candidate"))
    assert [name for name, ok in passed.items() if not ok] == ["3. phantom organs |blended - true| <= incumbent's"]


def test_a_candidate_better_everywhere_is_chosen_and_the_choice_written(tmp_path, capsys):
    offsets = {"liver": -0.6, "spleen": -0.4, "muscle": 0.5, "cancellous_bone": 0.1}
    write_model(tmp_path, "incumbent", blended_offsets=offsets, torso_liver=1.44, venous=(1.59, 1.72))
    write_model(tmp_path, "candidate", blended_offsets={**offsets, "liver": -0.2}, torso_liver=1.62,
                venous=(1.9, 1.6))
    main(tmp_path)
    choice = json.loads((tmp_path / "organ_choice.json").read_text())
    assert choice["chosen"] == "candidate" and all(choice["criteria"].values())
    assert choice["candidate"]["outside_published"] == 0.0
    assert "chosen: candidate" in capsys.readouterr().out
