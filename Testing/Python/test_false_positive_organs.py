"""Margin-rule false positives named by organ (virtual_pet/false_positive_organs) on a real tiny phantom case:
hot blobs placed by hand in organs read independently from organs.nrrd, checked against that map and hand arithmetic."""

from __future__ import annotations

import json

import numpy as np
import pytest
import SimpleITK as sitk
from scipy import ndimage
from tiny_models import phantoms_with_untrained_virtual_pet

from MedGANSynthLib.cli.main import main
from MedGANSynthLib.virtual_pet.false_positive_organs import false_positive_regions

LIVER, MUSCLE, URINE = 7, 3, 10  # phantoms.tissues labels, written out so the test does not read them from the code
BLOB = 2  # a 2 x 2 x 2 voxel cube


@pytest.fixture(scope="module")
def phantom_case(tmp_path_factory):
    root = tmp_path_factory.mktemp("fp_organs")
    assert main(["phantoms", "--kind", "wholebody", "--phantom-version", "2", "--count", "1", "--seed", "5",
                 "--voxel-mm", "8", "--classes", "lung", "-o", str(root), "--quiet"]) == 0
    return root / "wholebody_0000_lung"


def _read(path):
    image = sitk.ReadImage(str(path))
    return sitk.GetArrayFromImage(image), image.GetSpacing()


def _quiet_cube_in(organs, true_suv, lesions, label, taken):
    """Corner of a BLOB cube wholly in ``label``, with no true SUV > 2.5 or lesion within 3 voxels, far from ``taken``."""
    pad = 3
    for z, y, x in np.argwhere(organs == label):
        cube = (slice(z, z + BLOB), slice(y, y + BLOB), slice(x, x + BLOB))
        around = tuple(slice(max(c - pad, 0), c + BLOB + pad) for c in (z, y, x))
        if (organs[cube].shape == (BLOB,) * 3 and (organs[cube] == label).all() and true_suv[around].max() <= 2.5
                and not lesions[around].any() and all(max(abs(np.array((z, y, x)) - t)) > BLOB + 2 for t in taken)):
            return np.array((z, y, x))
    raise AssertionError(f"no quiet {BLOB}-voxel cube in label {label}")


def test_blobs_placed_in_liver_and_muscle_are_counted_there_and_one_on_the_bladder_is_no_false_positive(phantom_case):
    from MedGANSynthLib.virtual_pet.cases import discover_cases, load_case
    from MedGANSynthLib.virtual_pet.evaluation import score_case
    from MedGANSynthLib.virtual_pet.false_positive_organs import load_organ_labels
    from MedGANSynthLib.virtual_pet.regions import organ_map_path

    case = discover_cases(phantom_case)[0]
    pair = load_case(case)  # the PET resampled onto the CT grid, as the evaluation sees it
    organs, spacing = _read(phantom_case / "organs.nrrd")  # same grid as the CT: read independently
    lesions, _ = _read(phantom_case / "lesions.nrrd")
    true_suv = pair.suv.array
    liver = _quiet_cube_in(organs, true_suv, lesions, LIVER, [])
    muscle = _quiet_cube_in(organs, true_suv, lesions, MUSCLE, [liver])
    predicted = np.zeros_like(true_suv)
    for corner, value, peak in ((liver, 4.0, 6.0), (muscle, 3.0, 5.0)):
        predicted[tuple(slice(c, c + BLOB) for c in corner)] = value
        predicted[tuple(corner)] = peak
    predicted[organs == URINE] = 20.0  # the bladder is hot in the true PET too: not a false positive
    assert (true_suv[organs == URINE] > 2.5).any()
    volume = pair.suv.with_array(predicted)

    entry = score_case(pair.case_id, pair.ct, pair.suv, pair.lesions, {"fcn": volume, "gan": volume,
                       "blended": volume}, 2.5, 0.5, organs=load_organ_labels(organ_map_path(case), pair.ct))

    blob_ml = BLOB ** 3 * spacing[0] * spacing[1] * spacing[2] / 1000.0  # 8 voxels of 8.06 x 8.06 x 8 mm
    scores = entry["blended"]
    assert scores["margin_fp"] == 2
    assert scores["margin_fp_by_organ"] == {"liver": 1, "muscle": 1}
    by_organ = {region["organ"]: region for region in scores["margin_fp_regions"]}
    assert by_organ["liver"] == pytest.approx({"organ": "liver", "peak_organ": "liver", "volume_ml": blob_ml,
                                               "suv_peak": 6.0})
    assert by_organ["muscle"] == pytest.approx({"organ": "muscle", "peak_organ": "muscle", "volume_ml": blob_ml,
                                                "suv_peak": 5.0})


def test_a_region_is_named_by_the_organ_holding_most_of_its_voxels_and_its_peak_organ_kept_apart():
    organs = np.zeros((3, 3, 6), np.int32)
    organs[..., :2] = MUSCLE
    organs[..., 2:] = 99  # a label beyond the table keeps its id
    components = np.zeros_like(organs)
    components[1, 1, :5] = 1  # two voxels in muscle, three in the other label
    components[0, 0, 0] = 2
    predicted = np.where(components > 0, 3.0, 0.0)
    predicted[1, 1, 0] = 7.0  # the hottest voxel in muscle
    regions = false_positive_regions(components, np.array([1]), predicted, organs, voxel_ml=0.25)
    assert regions == [{"organ": "label_99", "peak_organ": "muscle", "volume_ml": 1.25, "suv_peak": 7.0}]


def test_evaluation_tables_false_positives_by_organ_only_for_cases_with_an_organ_map(tmp_path):
    root, model = phantoms_with_untrained_virtual_pet(tmp_path)
    cases = sorted(p for p in (root / "data").iterdir() if p.is_dir())
    (cases[1] / "organs.nrrd").unlink()  # a case without organ map: scored as before, no attribution
    assert main(["evaluate-virtual-pet", "--data", str(root / "data"), "--model", str(model), "-o",
                 str(tmp_path / "eval"), "--device", "cpu", "--threads", "1", "--min-volume-ml", "0"]) == 0
    results = json.loads((tmp_path / "eval" / "results.json").read_text())
    mapped, unmapped = (next(s for s in results["per_scan"] if s["case_id"] == c.name) for c in cases)
    for method in ("fcn", "gan", "blended"):
        assert "margin_fp_regions" not in unmapped[method] and "margin_fp_by_organ" not in unmapped[method]
        regions = mapped[method]["margin_fp_regions"]
        assert len(regions) == mapped[method]["margin_fp"] == sum(mapped[method]["margin_fp_by_organ"].values())
        overall = results["overall"][method]
        assert overall["organ_mapped_scans"] == 1
        assert sum(row["count"] for row in overall["margin_fp_by_organ"]) == len(regions)
        counts = [row["count"] for row in overall["margin_fp_by_organ"]]
        assert counts == sorted(counts, reverse=True)
    text = (tmp_path / "eval" / "report.md").read_text()
    assert "## Where the margin false positives lie (blended)" in text
    for row in results["overall"]["blended"]["margin_fp_by_organ"]:
        assert f"| {row['organ']} | {row['count']} | {row['per_scan']:.2f} |" in text


def test_each_methods_named_regions_are_its_own_margin_false_positives_region_by_region(tmp_path):
    """The bundled model on a v3 phantom: every region results.json names, per method, is one that an independent
    labelling of that method's written output (``virtual-pet --outside-body keep``: the evaluation's raw
    predictions) finds false under the margin rule, with the same organ, volume and SUVmax, and none is missing."""
    from MedGANSynthLib.phantoms.tissues import LABEL

    names = {label: name for name, label in LABEL.items()}
    data = tmp_path / "data"
    assert main(["phantoms", "--kind", "wholebody", "--phantom-version", "3", "--count", "1", "--seed", "5",
                 "--voxel-mm", "8", "-o", str(data), "--quiet"]) == 0
    case = next(p for p in data.iterdir() if p.is_dir())
    assert main(["virtual-pet", str(case / "ct.nrrd"), "-o", str(tmp_path / "vp"), "--outside-body", "keep",
                 "--input-check", "none", "--no-pictures", "--device", "cpu", "--threads", "1", "--quiet"]) == 0
    assert main(["evaluate-virtual-pet", "--data", str(data), "-o", str(tmp_path / "eval"), "--device", "cpu",
                 "--threads", "1", "--quiet"]) == 0
    scan = json.loads((tmp_path / "eval" / "results.json").read_text())["per_scan"][0]

    ct = sitk.ReadImage(str(case / "ct.nrrd"))
    lesions, organs = (sitk.GetArrayFromImage(sitk.ReadImage(str(case / f"{name}.nrrd"))) for name in ("lesions",
                                                                                                      "organs"))
    true_suv = sitk.GetArrayFromImage(sitk.Resample(sitk.ReadImage(str(case / "pet.nrrd")), ct, sitk.Transform(),
                                                    sitk.sitkLinear, 0.0))  # the PET on the CT grid
    voxel_ml = float(np.prod(ct.GetSpacing())) / 1000.0
    cube = np.ones((3, 3, 3), bool)  # 26-connectivity; one voxel of margin per dilation
    excused = ndimage.binary_dilation(true_suv > 2.5, cube, iterations=2) | ndimage.binary_dilation(lesions > 0, cube)
    for method, file in (("fcn", "fcn"), ("gan", "gan"), ("blended", "virtual_pet")):
        predicted = sitk.GetArrayFromImage(sitk.ReadImage(str(tmp_path / "vp" / f"{file}.nrrd")))
        regions, _ = ndimage.label(predicted > 2.5, cube)
        expected = []
        for region_id, box in enumerate(ndimage.find_objects(regions), start=1):
            inside = regions[box] == region_id
            if inside.sum() * voxel_ml >= 0.5 and not excused[box][inside].any():
                expected.append((names[int(np.argmax(np.bincount(organs[box][inside])))],
                                 pytest.approx(inside.sum() * voxel_ml), float(predicted[box][inside].max())))
        named = [(r["organ"], r["volume_ml"], r["suv_peak"]) for r in scan[method]["margin_fp_regions"]]
        assert len(expected) == scan[method]["margin_fp"] > 0
        assert sorted(named, key=lambda r: (r[2], r[0])) == sorted(expected, key=lambda r: (r[2], r[0])), method
