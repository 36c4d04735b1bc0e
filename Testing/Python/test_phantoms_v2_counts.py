"""Version-2 phantoms: the default output is frozen (a model trains on it), PET noise from count statistics
(``pet_noise="counts"``) against published liver noise and independent arithmetic, and L3 body composition
against published CT areas. Sources: MedGANSynthLib/phantoms/REFERENCE.md §4 and §7.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import replace

import numpy as np
import pytest
from scipy import ndimage

from MedGANSynthLib.cli.main import main
from MedGANSynthLib.errors import InputError
from MedGANSynthLib.phantoms.pet_counts import CountStatistics, counts_per_suv
from MedGANSynthLib.phantoms.tissues import LABEL
from MedGANSynthLib.phantoms.wholebody import WholeBodyConfig, make_wholebody_case

TRAINING_GRID = WholeBodyConfig().with_voxel_mm(4.0)  # the grid the running virtual-PET training uses
CLINICAL_PET = replace(TRAINING_GRID, pet_voxel_mm=4.0, pet_slice_mm=3.0)  # 4 x 4 x 3 mm PET voxels (§4)

# SHA-256 of the arrays and manifest, computed on the generator before the counts option existed (commit d0e02f2).
FROZEN = {
    (41, "none"): {
        "ct": "52a2fb6802f55b985580b583b4c9984f0ca45c6c09310b5c74d9f5876d373a7c",
        "pet": "4881f1a4643b57a2e48d01c40e29b26c6ed8ad66393528fee1263524a3cec2a1",
        "organs": "3d5151590d9d6c0a726b3c958e4a5fe591d82ae17ed775e4fdedad7ac9921adc",
        "lesions": "a1575db38b373fb9793c9c673970c960460bb5d50ac0b9159d2e1d4994fa7da9",
        "manifest": "8551e0d808fe7b649d5da74a89d4dba53e5977beb60562654d61f449d0462c6d",
    },
    (42, "portal-venous"): {
        "ct": "820ed724e94caa1f2cda68055a2663c1d9cbd3d6f1e50a83f30f5cf850420a13",
        "pet": "e14a71eb0ab9afcddaf140055dd6b675fc8faf05cf6036203a8b5e4a3a3d4071",
        "organs": "4da3d18f42769c09ffcb3605e4112af7b8a69d85c2c86adb3f2d4959f52f12b6",
        "lesions": "2a24519f7b319dd3a413f204236e0a455abe4b3ab448fa9128634d677620f42d",
        "manifest": "ed422e505ea471f75494f4697a39281b6dd70e505811df5f9228b945eb7742c0",
    },
}


@pytest.mark.parametrize(("seed", "contrast"), list(FROZEN))
def test_default_version_2_output_is_bit_identical_to_before(seed, contrast):
    case = make_wholebody_case(seed, "lung", TRAINING_GRID, version=2, contrast=contrast)
    digests = {name: hashlib.sha256(np.ascontiguousarray(getattr(case, name).array).tobytes()).hexdigest()
               for name in ("ct", "pet", "organs", "lesions")}
    digests["manifest"] = hashlib.sha256(json.dumps(case.manifest, sort_keys=True).encode()).hexdigest()
    assert digests == FROZEN[(seed, contrast)]


def _liver_on_pet_grid(case, erosion=3):
    index = []
    for axis in range(3):
        coords = case.pet.origin[axis] + case.pet.spacing[axis] * np.arange(case.pet.size[axis])
        nearest = np.rint((coords - case.ct.origin[axis]) / case.ct.spacing[axis]).astype(int)
        index.append(np.clip(nearest, 0, case.ct.size[axis] - 1))
    liver = case.organs.array[np.ix_(index[2], index[1], index[0])] == LABEL["liver"]
    return ndimage.binary_erosion(liver, iterations=erosion)  # homogeneous interior, 12 mm from the edge


@pytest.fixture(scope="module")
def counts_cases():
    return [make_wholebody_case(seed, "normal", CLINICAL_PET, version=2, pet_noise="counts") for seed in range(4)]


def test_counts_noise_gives_the_published_liver_cov(counts_cases):
    """Liver SNR (mean / SD) 8.71 ± 1.32 on an analogue PET/CT (Kim, NMMI 2020): CoV from 1 / (8.71 + 2 × 1.32)
    = 8.8 % to 1 / (8.71 - 2 × 1.32) = 16.5 % (mean ± 2 SD of the patients)."""
    low, high = 1.0 / (8.71 + 2 * 1.32), 1.0 / (8.71 - 2 * 1.32)
    for case in counts_cases:
        values = case.pet.array[_liver_on_pet_grid(case)]
        assert values.size > 500
        cov = values.std() / values.mean()
        assert low <= cov <= high, (case.manifest["seed"], cov)
        assert case.manifest["pet_noise"]["model"] == "counts" and "pet_liver_cov" not in case.manifest


def test_counts_noise_falls_as_one_over_sqrt_time():
    """Twice the minutes per bed: twice the counts, so the liver's SD divided by sqrt(2) (Poisson)."""
    sds = []
    for minutes in (2.0, 4.0):
        case = make_wholebody_case(3, "normal", CLINICAL_PET, version=2, pet_noise="counts",
                                   counts=CountStatistics(minutes_per_bed=minutes))
        sds.append(case.pet.array[_liver_on_pet_grid(case)].std())
    assert sds[0] / sds[1] == pytest.approx(math.sqrt(2.0), rel=0.02)


def test_counts_per_voxel_follow_the_acquisition_arithmetic():
    """One voxel 4 x 4 x 3 mm, SUV 1 at 3.5 MBq/kg, 60 min, 2 min per bed (30 % overlap), mCT Flow: 9.6 cps/kBq
    per 70 cm line source over a 22.1 cm axial FOV, 33.5 % scatter, R/T 1, 555 ps, Dw 300 mm, mu 0.096 /cm."""
    kbq = 3.5 * 0.5 ** (60 / 109.77) * 0.048
    seconds = 120 / 0.7
    sensitivity = 9.6 * 700 / 221
    trues = kbq * seconds * sensitivity * math.exp(-0.096 * 30.0)
    nec = trues / (1 + 0.335 / 0.665 + 1.0)
    expected = nec * 300 / (299.8 * 0.555 / 2)
    measured = counts_per_suv(np.array([300.0]), 0.048, 3.5, 60.0, CountStatistics())
    assert measured[0] == pytest.approx(expected, rel=1e-3)


def test_heavier_slices_are_noisier():
    """Attenuation grows faster than the TOF gain with the water-equivalent diameter (200 to 400 mm)."""
    per_suv = counts_per_suv(np.array([200.0, 300.0, 400.0]), 0.048, 3.5, 60.0, CountStatistics())
    assert per_suv[0] > per_suv[1] > per_suv[2]


def test_counts_option_needs_version_2_and_valid_settings(tmp_path, capsys):
    with pytest.raises(InputError, match="version 2"):
        make_wholebody_case(1, "normal", TRAINING_GRID.with_voxel_mm(12.0), version=1, pet_noise="counts")
    with pytest.raises(InputError, match="noise model"):
        make_wholebody_case(1, "normal", TRAINING_GRID.with_voxel_mm(12.0), version=2, pet_noise="gaussian")
    with pytest.raises(InputError, match="pet-noise counts"):
        make_wholebody_case(1, "normal", TRAINING_GRID.with_voxel_mm(12.0), version=2, counts=CountStatistics())
    with pytest.raises(InputError, match="minutes-per-bed"):
        CountStatistics(minutes_per_bed=0.0)
    for argv in (["--phantom-version", "1", "--pet-noise", "counts"],
                 ["--phantom-version", "2", "--pet-minutes-per-bed", "3"],
                 ["--phantom-version", "2", "--pet-noise", "poisson"]):
        assert main(["phantoms", "-o", str(tmp_path / "x"), *argv]) == 2
        err = capsys.readouterr().err.strip()
        assert err and "\n" not in err and "Traceback" not in err
        assert not (tmp_path / "x").exists()


def test_cli_writes_a_counts_noise_case(tmp_path):
    out = tmp_path / "counts"
    code = main(["phantoms", "-o", str(out), "--count", "1", "--seed", "3", "--voxel-mm", "12", "--phantom-version",
                 "2", "--pet-noise", "counts", "--pet-minutes-per-bed", "3"])
    assert code == 0
    manifest = json.loads(next(out.glob("*/manifest.json")).read_text())
    assert manifest["pet_noise"]["settings"]["minutes_per_bed"] == 3.0
