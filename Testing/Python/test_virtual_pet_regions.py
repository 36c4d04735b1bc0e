"""Scoring inside one region (the paper's liver-only evaluation): hand-made cases, mask discovery, the CLI end to end."""

from __future__ import annotations

import json

import numpy as np
import pytest
import SimpleITK as sitk
from tiny_models import phantoms_with_untrained_virtual_pet

from MedGANSynthLib.cli.main import main
from MedGANSynthLib.errors import InputError
from MedGANSynthLib.io.volume_io import write_volume
from MedGANSynthLib.virtual_pet.cases import PairedCase, discover_cases
from MedGANSynthLib.virtual_pet.evaluation import score_case
from MedGANSynthLib.virtual_pet.regions import region_mask_source, restrict_to_region
from MedGANSynthLib.volume import Volume

GRID = dict(spacing=(10.0, 10.0, 10.0))  # 1 ml voxels


def _region_case():
    """A 10^3 body (0 HU) whose 'liver' is the slab x < 5, with lesions and predictions placed by hand."""
    region = np.zeros((10, 10, 10), bool)
    region[:, :, :5] = True
    truth = np.zeros((10, 10, 10), np.int32)
    truth[1:3, 1:3, 1:3] = 1          # in the liver: found
    truth[6:8, 1:3, 1:3] = 2          # in the liver: missed
    truth[1:3, 6:9, 6:9] = 3          # outside: not the liver's lesion, found or not
    truth[5:7, 5:7, 3:7] = 4          # 2 of its 4 columns in the liver: exactly half, not a majority -> outside
    true_suv = np.where(truth > 0, 8.0, 1.0).astype(np.float32)
    predicted = np.ones((10, 10, 10), np.float32)
    predicted[1:3, 1:3, 1:3] = 6.0    # on lesion 1
    predicted[1:3, 6:9, 6:9] = 6.0    # on lesion 3 (outside): neither a find nor a false positive
    predicted[8, 8, 0:2] = 5.0        # in the liver on nothing: the liver's one false positive
    predicted[8, 8, 7:9] = 5.0        # outside on nothing: ignored
    predicted[4, 8, 4:6] = 5.0        # straddles the edge: its in-liver half (1 ml) is a candidate, a false positive
    return region, truth, true_suv, predicted


def test_a_lesion_counts_for_the_region_when_most_of_its_voxels_lie_in_it():
    region, truth, true_suv, predicted = _region_case()
    seen = restrict_to_region(region, Volume(truth, **GRID), Volume(true_suv, **GRID), {})
    assert sorted(np.unique(seen.lesions.array)) == [0, 1, 2]
    truth[5:7, 5:7, 2] = 4            # lesion 4 now has 3 of 5 columns in the liver
    seen = restrict_to_region(region, Volume(truth, **GRID), Volume(true_suv, **GRID), {})
    assert sorted(np.unique(seen.lesions.array)) == [0, 1, 2, 4]
    assert np.array_equal(seen.lesions.array[seen.lesions.array == 4].size, 20)  # kept whole, voxels outside too
    assert seen.true_suv.array[:, :, 5:].max() == 0.0 and seen.true_suv.array[1, 1, 1] == 8.0


def test_region_scoring_counts_only_the_regions_lesions_and_candidates():
    region, truth, true_suv, predicted = _region_case()
    ct = Volume(np.zeros((10, 10, 10), np.float32), **GRID)
    whole = score_case("c", ct, Volume(true_suv, **GRID), Volume(truth, **GRID),
                       {"blended": Volume(predicted, **GRID)}, 2.5, 0.5)
    liver = score_case("c", ct, Volume(true_suv, **GRID), Volume(truth, **GRID),
                       {"blended": Volume(predicted, **GRID)}, 2.5, 0.5, region)
    assert (whole["true_lesions"], whole["blended"]["tp"], whole["blended"]["fp"]) == (4, 2, 3)
    assert liver["true_lesions"] == 2
    assert {key: liver["blended"][key] for key in ("tp", "fn", "fp", "tpr")} == {"tp": 1, "fn": 1, "fp": 2,
                                                                                    "tpr": 0.5}
    # MAE over the liver's 500 voxels by hand: lesion 1 (8 voxels, |6 - 8|), lesion 2 (8, |1 - 8|), two hot specks
    # (2 + 1 voxels, |5 - 1|); lesion 4's two in-liver columns (8 voxels, |1 - 8|).
    expected_mae = (8 * 2 + 8 * 7 + 3 * 4 + 8 * 7) / 500
    assert liver["blended"]["mae_suv"] == pytest.approx(expected_mae)
    assert liver["true_pet"]["tp"] == 2 and liver["true_pet"]["n_true"] == 2


def test_region_masks_are_found_by_name_in_the_folder_its_segmentations_a_csv_column_or_a_phantom_organ_map(tmp_path):
    mask = Volume(np.ones((2, 2, 2), np.uint8), **GRID)
    first, second, third = (tmp_path / name for name in ("a", "b", "c"))
    write_volume(mask, first / "Liver.nii.gz")
    write_volume(mask, second / "segmentations" / "liver.nrrd")
    write_volume(mask, third / "organs.nrrd")
    assert region_mask_source(PairedCase("a", first, first, folder=first), "liver") == (first / "Liver.nii.gz", None)
    assert region_mask_source(PairedCase("b", second, second, folder=second), "liver") == (
        second / "segmentations" / "liver.nrrd", None)
    assert region_mask_source(PairedCase("c", third, third, folder=third), "liver") == (third / "organs.nrrd", 7)
    with pytest.raises(InputError, match="Case c has no spleen_tumour mask: put spleen_tumour.nii.gz"):
        region_mask_source(PairedCase("c", third, third, folder=third), "spleen_tumour")
    for name in ("ct", "pet"):
        write_volume(mask, tmp_path / f"{name}.nrrd")
    (tmp_path / "cases.csv").write_text("ct,pet,Liver_Mask\nct.nrrd,pet.nrrd,a/Liver.nii.gz\n")
    (case,) = discover_cases(tmp_path / "cases.csv")
    assert region_mask_source(case, "liver") == (tmp_path / "a" / "Liver.nii.gz", None)


@pytest.fixture(scope="module")
def phantoms_and_model(tmp_path_factory):
    return phantoms_with_untrained_virtual_pet(tmp_path_factory.mktemp("region_eval"))


def test_cli_region_liver_scores_the_phantoms_liver_lesions_and_stores_them_apart_in_the_card(phantoms_and_model,
                                                                                               tmp_path):
    root, model = phantoms_and_model
    code = main(["evaluate-virtual-pet", "--data", str(root / "data"), "--model", str(model), "-o",
                 str(tmp_path / "eval"), "--device", "cpu", "--threads", "1", "--region", "Liver",
                 "--write-card-metrics"])
    assert code == 0
    results = json.loads((tmp_path / "eval" / "results.json").read_text())
    assert results["region"] == "liver"
    for scan in results["per_scan"]:
        case = root / "data" / scan["case_id"]
        lesions, organs = (sitk.GetArrayFromImage(sitk.ReadImage(str(case / f"{name}.nrrd")))
                           for name in ("lesions", "organs"))
        liver_lesions = [i for i in np.unique(lesions[lesions > 0]) if (organs[lesions == i] == 7).mean() > 0.5]
        assert scan["true_lesions"] == len(liver_lesions)
    assert "liver only" in (tmp_path / "eval" / "report.md").read_text()
    card = json.loads(model.with_suffix(".json").read_text())["metrics"]
    assert card["heldout_liver"]["region"] == "liver"
    assert card["heldout_liver"]["blended"]["fp"] == results["overall"]["blended"]["fp"]


def test_cli_region_without_masks_fails_before_predicting_and_writes_nothing(phantoms_and_model, tmp_path, capsys):
    root, model = phantoms_and_model
    code = main(["evaluate-virtual-pet", "--data", str(root / "data"), "--model", str(model), "-o",
                 str(tmp_path / "eval"), "--device", "cpu", "--region", "adrenal"])
    assert code == 2  # no phantom version draws adrenal glands, and the case folders hold no adrenal masks
    assert "has no adrenal mask" in capsys.readouterr().err
    assert not (tmp_path / "eval").exists()
