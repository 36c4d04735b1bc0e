"""Phantom generator versions: 1 to 5 stay bit-for-bit (bundled models and virtual-PET candidates were trained
on them; version 4 frozen in session 24 when the first candidate trained on it), version 3 changes version 2 only
where REFERENCE.md corrected it, and version 4 changes version 3 only where REFERENCE.md's "Version 4" corrected it
(values) plus its redrawn head and neck, thorax and pelvis. Version 5, the default, is checked against version 4 by
the test_phantoms_v5_*.py files.

The digests in fixtures/phantom_digests_v1_v2.json were computed with main at 8adefa2, before version 3 existed;
those in fixtures/phantom_digests_v2_v3.json with main at 546b226, before version 4 existed (version 3 cases of a
woman with diffuse splenic lymphoma, of an enhanced woman and of a man with count noise; a version-2 splenic
lymphoma); those in fixtures/phantom_digests_v4.json with main at 4850ccf, when version 4 was frozen; those in
fixtures/phantom_digests_v5.json in session 26, when version 5 was frozen and made the default (one case on a 4 mm
grid, where its vessels, breast gland and bowel margin are drawn); those in fixtures/phantom_digests_v6_v7.json in
session 30 with main at a8ec46b, before version 8 existed (version 5's five cases in versions 6 and 7; three of them
carry lymph nodes, so version 7's placement in fat is pinned too).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from MedGANSynthLib.cli.main import main
from MedGANSynthLib.phantoms.wholebody import WholeBodyConfig, make_wholebody_case

FIXTURES = [Path(__file__).parent / "fixtures" / name for name in ("phantom_digests_v1_v2.json",
                                                                     "phantom_digests_v2_v3.json",
                                                                     "phantom_digests_v4.json",
                                                                     "phantom_digests_v5.json",
                                                                     "phantom_digests_v6_v7.json")]
ARRAYS = ("ct", "pet", "organs", "lesions", "pet_truth")
SMALL = WholeBodyConfig().with_voxel_mm(12.0)


def _array_digest(array: np.ndarray) -> str:
    """SHA-256 of dtype, shape and bytes (as Testing/Training/bundled_outputs_digest.py)."""
    array = np.ascontiguousarray(array)
    digest = hashlib.sha256(f"{array.dtype.str}{array.shape}".encode())
    digest.update(array.tobytes())
    return digest.hexdigest()


@pytest.mark.parametrize("recorded", [r for fixture in FIXTURES for r in json.loads(fixture.read_text())],
                         ids=lambda r: f"v{r['version']}-seed{r['seed']}-{r['lesion_class']}")
def test_frozen_versions_are_bit_for_bit_what_they_were(recorded):
    case = make_wholebody_case(recorded["seed"], recorded["lesion_class"],
                               WholeBodyConfig().with_voxel_mm(recorded["voxel_mm"]), version=recorded["version"],
                               **recorded["options"])
    digests = {name: _array_digest(getattr(case, name).array) for name in ARRAYS}
    digests["manifest"] = hashlib.sha256(json.dumps(case.manifest, sort_keys=True).encode()).hexdigest()
    assert digests == recorded["digests"]


def test_version_3_changes_nothing_a_correction_does_not_touch():
    """Seed 8 draws a man: without contrast none of the three corrections applies, so his version-3 arrays are
    his version-2 arrays; in the portal-venous phase only the renal medulla's HU differs."""
    v2, v3 = (make_wholebody_case(8, "normal", SMALL, version=v) for v in (2, 3))
    assert v3.manifest["subject"]["sex"] == "M"
    for name in ARRAYS:
        assert np.array_equal(getattr(v2, name).array, getattr(v3, name).array), name
    assert (v2.manifest["generator"], v3.manifest["generator"]) == ("wholebody-2", "wholebody-3")
    v2, v3 = (make_wholebody_case(8, "normal", SMALL, version=v, contrast="portal-venous") for v in (2, 3))
    changed = {name for name, hu in v2.manifest["organ_hu"].items() if v3.manifest["organ_hu"][name] != hu}
    assert changed == {"renal_medulla"}


# The values version 4 redraws (REFERENCE.md, "Version 4"): every subject's muscle, fat, kidney-cortex and cortical-bone
# SUV and unenhanced thyroid and pancreas HU; men's muscle HU (age); women's vertebral marrow SUV (age); the spleen of
# splenic lymphoma; in the portal-venous phase the muscle's and small bowel's enhancement.
V4_SUV = {"muscle", "visceral_fat", "subcutaneous_fat", "kidney", "cortical_bone"}
V4_HU = {"thyroid", "pancreas"}


def lesion_identity(entry: dict) -> tuple:
    """What a lesion is (its number, class and site), leaving out where exactly it lies and its drawn size and SUV."""
    return entry["id"], entry["class"], entry["site"]


@pytest.mark.parametrize(("seed", "lesion_class", "contrast", "changed_hu", "changed_enhancement", "changed_suv"), [
    (10, "normal", "none", V4_HU | {"muscle"}, set(), V4_SUV),  # a man of 73
    (8, "lymphoma", "portal-venous", V4_HU | {"muscle"}, {"muscle", "bowel"}, V4_SUV | {"spleen"}),  # a man of 59
    (0, "normal", "none", V4_HU, set(), V4_SUV | {"cancellous_bone"}),  # a woman of 52
])
def test_version_4_changes_only_what_it_corrects(seed, lesion_class, contrast, changed_hu, changed_enhancement,
                                                 changed_suv):
    """Same subject, tissues and lesions as version 3; only the corrected values differ: the unenhanced HU named,
    and in the portal-venous phase the enhancement of muscle and small bowel, every other enhancement being
    version 3's (so the enhanced HU of the other corrected tissues change exactly as their unenhanced ones).
    Version 4 also redraws head-and-neck, thorax and pelvis anatomy (their own tests), so where the structures and
    lesions lie may move; which tissues exist and which lesions are drawn may not."""
    v3, v4 = (make_wholebody_case(seed, lesion_class, SMALL, version=v, contrast=contrast) for v in (3, 4))
    assert v4.manifest["subject"] == v3.manifest["subject"]
    assert (v3.manifest["generator"], v4.manifest["generator"]) == ("wholebody-3", "wholebody-4")
    assert set(np.unique(v4.organs.array)) == set(np.unique(v3.organs.array))
    assert [lesion_identity(entry) for entry in v4.manifest["lesions"]] == [lesion_identity(entry)
                                                                           for entry in v3.manifest["lesions"]]
    for key, changed in (("organ_hu", changed_hu | changed_enhancement), ("organ_hu_unenhanced", changed_hu),
                         ("organ_suv", changed_suv)):
        assert {name for name, value in v3.manifest[key].items() if v4.manifest[key][name] != value} == changed, key

    def enhancement(case):
        return {name: case.manifest["organ_hu"][name] - case.manifest["organ_hu_unenhanced"][name]
                for name in case.manifest["organ_hu"]}

    kept = {name for name in enhancement(v3) if name not in changed_enhancement}
    assert {name: enhancement(v4)[name] for name in kept} == pytest.approx({name: enhancement(v3)[name]
                                                                          for name in kept}, abs=0.011)
    assert all(enhancement(v4)[name] != pytest.approx(enhancement(v3)[name], abs=0.011)
               for name in changed_enhancement)


def test_the_command_line_default_is_version_5(tmp_path):
    out = tmp_path / "default"
    assert main(["phantoms", "-o", str(out), "--count", "1", "--seed", "2", "--voxel-mm", "12"]) == 0
    manifest = json.loads(next(out.glob("*/manifest.json")).read_text())
    assert (manifest["generator_version"], manifest["generator"]) == (5, "wholebody-5")


def test_the_command_line_writes_version_4_with_its_options(tmp_path):
    out = tmp_path / "v4"
    assert main(["phantoms", "-o", str(out), "--count", "1", "--seed", "2", "--voxel-mm", "12", "--phantom-version",
                 "4", "--contrast", "portal-venous", "--arms", "up", "--pet-noise", "counts"]) == 0
    manifest = json.loads(next(out.glob("*/manifest.json")).read_text())
    assert (manifest["generator_version"], manifest["contrast"], manifest["subject"]["arms"]) == (4, "portal-venous",
                                                                                               "up")
    assert manifest["pet_noise"]["model"] == "counts"


@pytest.mark.parametrize("version", [7, 8, 9, 10])
def test_the_command_line_writes_the_version_asked_for(tmp_path, version):
    """Versions 7-10 through `medgansynth phantoms`: the manifest names the generator, and only versions 9 and up
    add genitalia, of the subject's sex (versions 1-8 stay as their bundled models learnt them)."""
    out = tmp_path / f"v{version}"
    assert main(["phantoms", "-o", str(out), "--count", "1", "--seed", "6", "--voxel-mm", "8",
                 "--phantom-version", str(version), "--classes", "lymphoma", "--quiet"]) == 0
    manifest = json.loads(next(out.glob("wholebody_*/manifest.json")).read_text())
    assert (manifest["generator"], manifest["generator_version"], manifest["class"]) == (
        f"wholebody-{version}", version, "lymphoma")
    assert ("genitalia" in manifest) == (version >= 9)
    if version >= 9:
        assert manifest["genitalia"]["sex"] == manifest["subject"]["sex"]


@pytest.mark.parametrize("argv", [["--kind", "brain", "--phantom-version", "3"], ["--phantom-version", "0"],
                                  ["--phantom-version", "11"]])
def test_the_command_line_refuses_a_version_where_it_does_not_apply(tmp_path, capsys, argv):
    assert main(["phantoms", "-o", str(tmp_path / "x"), *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert err and "\n" not in err and "Traceback" not in err and "--phantom-version" in err
    assert not (tmp_path / "x").exists()
