"""Out-of-distribution guard: the statistics by hand, the bundled card's block, and its verdict on real files.

Held-out phantoms (not among the training cases the card summarises) must pass; the real patient CTs in
../shared/data, a contrast phase made from a phantom's own organ labels, and a PET must be flagged.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO_ROOT, shared_data_path

from MedGANSynthLib.cli.cmd_phantoms import case_seeds
from MedGANSynthLib.cli.main import main
from MedGANSynthLib.io.volume_io import read_volume, write_volume
from MedGANSynthLib.phantoms.tissues import LABEL
from MedGANSynthLib.phantoms.wholebody import WholeBodyConfig, make_wholebody_case
from MedGANSynthLib.virtual_pet.input_statistics import (
    ct_statistics,
    distances,
    distribution_warnings,
    store_training_statistics,
    training_statistics,
)
from MedGANSynthLib.volume import Volume
from MedGANSynthLib.weights.catalogue import file_sha256

CARD = REPO_ROOT / "Resources" / "Models" / "virtual_pet_phantom.json"
PHANTOM_VERSION = 5
"""The bundled model's phantom version (its card's training_data.phantom_version)."""
HELD_OUT_SEEDS = {"none": 45, "portal-venous": 46}
"""The card's held-out sets per contrast phase (train_virtual_pet_v2.sh); its statistics come from seeds 41 and 42."""
UNENHANCED_TRAINING_SEED = 41
PORTAL_VENOUS_HU = {"liver": 60, "blood": 130, "spleen": 70, "kidney": 150}
"""Enhancement added to a phantom without contrast (liver ~110-120 HU, vessels ~180 HU in a portal-venous phase)."""


def _phantom(seed: int, contrast: str):
    return make_wholebody_case(case_seeds(seed, 1)[0], "normal", WholeBodyConfig().with_voxel_mm(4),
                               version=PHANTOM_VERSION, contrast=contrast)


@pytest.fixture(scope="module")
def reference() -> dict:
    return json.loads(CARD.read_text())["training_data"]["statistics"]


@pytest.fixture(scope="module")
def held_out_phantom():
    """The first held-out phantom without contrast of the card's evaluation set, at the training data's 4 mm voxels."""
    return _phantom(HELD_OUT_SEEDS["none"], "none")


def _disc_ct() -> tuple[Volume, np.ndarray, np.ndarray]:
    """8 slices of a water-like disc (40 HU, radius 20 px) holding a fat square (-100 HU), air around; 2 mm pixels."""
    j, i = np.mgrid[:64, :64]
    disc = (i - 32) ** 2 + (j - 32) ** 2 <= 20**2
    fat = (abs(i - 32) <= 5) & (abs(j - 32) <= 5)
    plane = np.where(disc, 40, -1000).astype(np.int16)
    plane[fat] = -100
    return Volume(np.repeat(plane[None], 8, axis=0), (2.0, 2.0, 5.0), (0.0, 0.0, 0.0), modality="CT",
                  units="HU"), disc, fat


def test_statistics_of_a_drawn_ct_match_hand_arithmetic():
    ct, disc, fat = _disc_ct()
    stats = ct_statistics(ct)
    assert stats["body_fraction_of_image"] == pytest.approx(disc.sum() / disc.size)
    assert stats["fraction_fat"] == pytest.approx(fat.sum() / disc.sum())
    assert stats["fraction_soft_tissue"] == pytest.approx((disc.sum() - fat.sum()) / disc.sum())
    assert stats["fraction_bone"] == 0.0 and stats["fraction_air_lung"] == 0.0
    assert stats["fraction_contrast_enhanced"] == 0.0
    assert stats["body_width_mm"] == pytest.approx(2.0 * np.sqrt(disc.sum() / np.pi) * 2.0)
    assert stats["hu_p50"] == 40.0 and stats["hu_p05"] == -100.0
    assert stats["noise_hu"] == 0.0  # a noiseless image


def test_distance_is_the_excess_over_the_training_range_in_sd_or_tolerance_units():
    reference = {"statistics": {"hu_p50": {"mean": 0.0, "sd": 5.0, "min": -10.0, "max": 10.0},
                                "noise_hu": {"mean": 20.0, "sd": 8.0, "min": 15.0, "max": 25.0}},
                 "tolerance": {"hu": 15.0, "noise_hu": 5.0}}
    far = distances({"hu_p50": 70.0, "noise_hu": 21.0}, reference)
    assert far["hu_p50"] == pytest.approx((70.0 - 10.0) / 15.0)  # the SD (5) is below the 15 HU floor
    assert far["noise_hu"] == 0.0  # inside [15, 25]
    assert distances({"hu_p50": -50.0, "noise_hu": 45.0}, reference)["noise_hu"] == pytest.approx(20.0 / 8.0)


def test_bundled_card_carries_the_statistics_and_still_verifies_its_weights(reference):
    from MedGANSynthLib.virtual_pet.weights import load_virtual_pet

    assert reference["cases"] >= 8 and "training phantoms" in reference["description"]
    for summary in reference["statistics"].values():
        assert summary["min"] <= summary["mean"] <= summary["max"] and summary["sd"] >= 0
    card = json.loads(CARD.read_text())
    tensor = CARD.with_suffix(".safetensors")
    catalogue = json.loads((CARD.parent / "catalogue.json").read_text())["models"]
    assert file_sha256(tensor) == card["tensor_sha256"] == next(
        m["sha256"] for m in catalogue if m["file"] == tensor.name)
    assert load_virtual_pet(tensor).card.training_data["statistics"] == reference  # loads and verifies


def test_storing_statistics_keeps_every_other_card_field(tmp_path, held_out_phantom):
    copy = tmp_path / "card.json"
    copy.write_text(CARD.read_text())
    block = training_statistics([held_out_phantom.ct], "one phantom")
    store_training_statistics(copy, block)
    before, after = json.loads(CARD.read_text()), json.loads(copy.read_text())
    assert after["training_data"].pop("statistics") == json.loads(json.dumps(block))
    before["training_data"].pop("statistics", None)
    assert after == before


def test_held_out_phantoms_of_both_trained_phases_pass_the_bundled_card(reference, held_out_phantom):
    assert json.loads(CARD.read_text())["training_data"]["phantom_version"] == PHANTOM_VERSION
    for ct in (held_out_phantom.ct, _phantom(HELD_OUT_SEEDS["portal-venous"], "portal-venous").ct):
        warnings, details = distribution_warnings(ct, reference)
        assert warnings == [] and details["score"] <= reference["warning_distance"]


def test_a_contrast_phase_is_flagged_for_a_model_trained_without_contrast(held_out_phantom):
    """The bundled model saw both phases, so its card cannot show this: a reference from unenhanced phantoms only."""
    seeds = case_seeds(UNENHANCED_TRAINING_SEED, 4)
    training = [make_wholebody_case(seed, "normal", WholeBodyConfig().with_voxel_mm(4), version=PHANTOM_VERSION).ct
                for seed in seeds]
    unenhanced = training_statistics(training, "4 training phantoms without contrast")
    warnings, details = distribution_warnings(held_out_phantom.ct, unenhanced)
    assert warnings == [] and details["score"] <= unenhanced["warning_distance"]
    array = held_out_phantom.ct.array.astype(np.int16)
    for organ, hu in PORTAL_VENOUS_HU.items():
        array[held_out_phantom.organs.array == LABEL[organ]] += hu
    warnings, details = distribution_warnings(held_out_phantom.ct.with_array(array), unenhanced)
    assert len(warnings) == 1 and "fraction_contrast_enhanced" in warnings[0]
    assert details["score"] > unenhanced["warning_distance"]


@pytest.mark.parametrize("parts", [("ct-nifti", "example_ct_sm.nii.gz"), ("ct-dicom-thorax",)])
def test_real_patient_cts_are_flagged_for_the_phantom_trained_model(reference, parts):
    warnings, details = distribution_warnings(read_volume(shared_data_path(*parts)), reference)
    assert len(warnings) == 1 and "unlike the model's training CTs" in warnings[0]
    assert details["score"] > 2 * reference["warning_distance"]


def test_a_pet_is_flagged_even_when_rescaled_to_look_like_hu(reference):
    pet = read_volume(shared_data_path("brain-pet-template", "PET.nii"))
    assert distribution_warnings(pet, reference)[0]
    # Rescaled to -1000..+1000 it passes the CT check (it now holds "air") but not the guard.
    rescaled = pet.with_array((pet.array * 2000.0 - 1000.0).astype(np.float32), modality="CT", units="HU")
    warnings, details = distribution_warnings(rescaled, reference)
    assert warnings and details["score"] > reference["warning_distance"]


def test_the_command_warns_on_stderr_and_in_summary_and_the_logic_keeps_it(tmp_path, capsys):
    """The bundled model on the real NIfTI CT, through the CLI, then loaded by the Slicer Logic."""
    nifti = shared_data_path("ct-nifti", "example_ct_sm.nii.gz")
    out = tmp_path / "out"
    capsys.readouterr()
    assert main(["virtual-pet", str(nifti), "-o", str(out), "--device", "cpu", "--threads", "1", "--no-pictures",
                 "--no-fcn-gan-outputs"]) == 0
    lines = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    summary = json.loads((out / "summary.json").read_text())
    assert len(summary["warnings"]) == 1 and summary["input_statistics"]["score"] > 4
    assert lines == [f"medgansynth virtual-pet: warning: {summary['warnings'][0]}"]

    mrml_support = pytest.importorskip("mrml_support")
    from MedGANSynthLib.mrml.logic import MedGANSynthLogic
    from MedGANSynthLib.mrml.volume_nodes import node_from_volume

    context = mrml_support.new_mrml_context()
    logic = MedGANSynthLogic(context.scene)
    ct_node = node_from_volume(read_volume(nifti), context.scene, "Patient CT")
    nodes = logic.loadVirtualPET(ct_node, out)
    assert logic.lastWarnings == summary["warnings"]
    assert nodes.virtualPET.GetAttribute("MedGANSynth.warnings") == summary["warnings"][0]


def test_a_phantom_ct_through_the_command_gives_no_warning(tmp_path, capsys, held_out_phantom):
    ct = write_volume(held_out_phantom.ct, tmp_path / "ct.nrrd")
    capsys.readouterr()
    assert main(["virtual-pet", str(ct), "-o", str(tmp_path / "out"), "--device", "cpu", "--threads", "1",
                 "--no-pictures", "--no-fcn-gan-outputs"]) == 0
    assert "warning" not in capsys.readouterr().err
    summary = json.loads(Path(tmp_path / "out" / "summary.json").read_text())
    assert summary["warnings"] == [] and summary["input_statistics"]["score"] <= 4
