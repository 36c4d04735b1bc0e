"""Phantom version 6: version 5 with the unenhanced CT's noise measured on the real CTs in ../shared/data
(REFERENCE.md, "Version 6: CT noise").

The noise is measured alike on the written phantoms and on the real CTs, at test time, with the estimator session 27
compared them with (:mod:`MedGANSynthLib.evaluation.ct_noise`; the real CTs as
Testing/Training/ct_noise_phantom_vs_real.py puts them on about the phantoms' voxels). Version 5 stays bit for bit
(test_phantoms_versions.py's digests); here, version 6 changes nothing but the unenhanced CT noise.
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace

import numpy as np
import pytest
from conftest import REPO_ROOT, shared_data_path

from MedGANSynthLib.cli.main import main
from MedGANSynthLib.evaluation.ct_noise import soft_tissue_noise_sd
from MedGANSynthLib.io.volume_io import read_volume
from MedGANSynthLib.phantoms.ct_noise_v6 import CT_NOISE_SD_V6
from MedGANSynthLib.phantoms.values_v2 import CT_NOISE_SD
from MedGANSynthLib.phantoms.wholebody import WholeBodyConfig, make_wholebody_case

sys.path.insert(0, str(REPO_ROOT / "Testing" / "Training"))
from ct_noise_phantom_vs_real import real_ct_noise  # noqa: E402

TOLERANCE_HU = 0.5
"""The real CTs' own figures move by about this much with how they are sampled: the thorax CT's 6.0 HU by 0.26 HU
(5.80-6.06) with where its 2 x 4 x 4 blocks start, the torso CT's 10.5 HU to 9.98 and 10.69 HU on its two halves."""
ARRAYS = ("pet", "organs", "lesions", "pet_truth")
COARSE = WholeBodyConfig().with_voxel_mm(8.0)  # the identity of arrays holds on any grid


@pytest.fixture(scope="module")
def real_range() -> tuple[float, float]:
    """The lowest and highest noise of the two real CTs, measured now."""
    shared_data_path("ct-nifti", "example_ct_sm.nii.gz")
    noise = real_ct_noise(shared_data_path("ct-dicom-thorax").parent)
    return min(noise.values()), max(noise.values())


def test_written_version_6_cases_measure_inside_the_real_cts_noise(tmp_path, real_range):
    """Three new subjects (none of the eight the band was read from), written on the 4 mm grid by the command line,
    unenhanced; version 5 of the first is noisier than both real CTs, as session 27 measured."""
    out = tmp_path / "v6"
    assert main(["phantoms", "-o", str(out), "--count", "3", "--seed", "61", "--voxel-mm", "4",
                 "--phantom-version", "6", "--quiet"]) == 0
    low, high = real_range
    cases = sorted(out.glob("wholebody_*"))
    assert len(cases) == 3
    for case in cases:
        manifest = json.loads((case / "manifest.json").read_text())
        assert (manifest["generator"], manifest["contrast"]) == ("wholebody-6", "none")
        assert CT_NOISE_SD_V6["none"][0] <= manifest["ct_noise_sd_hu"] <= CT_NOISE_SD_V6["none"][1]
        ct = read_volume(case / "ct.nrrd")
        assert ct.spacing == pytest.approx((4.0, 4.0, 4.0))
        noise, voxels = soft_tissue_noise_sd(ct.array)
        assert voxels > 10_000, case.name
        assert low - TOLERANCE_HU <= noise <= high + TOLERANCE_HU, (case.name, noise, real_range)
    first = json.loads((cases[0] / "manifest.json").read_text())
    v5 = make_wholebody_case(first["seed"], first["class"], WholeBodyConfig().with_voxel_mm(4.0), version=5)
    assert soft_tissue_noise_sd(v5.ct.array)[0] > high + TOLERANCE_HU


def _manifest_but_noise(case) -> dict:
    return {key: value for key, value in case.manifest.items()
            if key not in ("generator", "generator_version", "ct_noise_sd_hu")}


@pytest.mark.parametrize("seed", [3, 8])  # a woman (endometrium, breast) and a man
def test_version_6_changes_only_the_unenhanced_ct_noise(seed):
    """Same PET, labels, lesions and record as version 5; the CT's noise SD is the same one draw of the CT stream
    put on the other band (the same quantile), and without noise the CTs are equal too."""
    v5, v6 = (make_wholebody_case(seed, "lymphoma", COARSE, version=v) for v in (5, 6))
    for name in ARRAYS:
        assert np.array_equal(getattr(v5, name).array, getattr(v6, name).array), name
    assert _manifest_but_noise(v5) == _manifest_but_noise(v6)
    assert (v6.manifest["generator"], v6.manifest["generator_version"]) == ("wholebody-6", 6)
    quantiles = [(case.manifest["ct_noise_sd_hu"] - band[0]) / (band[1] - band[0])
                 for case, band in ((v5, CT_NOISE_SD["none"]), (v6, CT_NOISE_SD_V6["none"]))]
    assert quantiles[0] == pytest.approx(quantiles[1], abs=0.002)  # the manifest rounds each SD to 0.01 HU
    assert not np.array_equal(v5.ct.array, v6.ct.array)
    noiseless = replace(COARSE, noise=False)
    v5, v6 = (make_wholebody_case(seed, "lymphoma", noiseless, version=v) for v in (5, 6))
    for name in ("ct", *ARRAYS):
        assert np.array_equal(getattr(v5, name).array, getattr(v6, name).array), name


def test_the_portal_venous_phase_is_version_5s():
    """Version 6 keeps the diagnostic (portal-venous) band, so its enhanced case is version 5's, CT included."""
    v5, v6 = (make_wholebody_case(8, "normal", COARSE, version=v, contrast="portal-venous") for v in (5, 6))
    assert CT_NOISE_SD_V6["portal-venous"] == CT_NOISE_SD["portal-venous"]
    for name in ("ct", *ARRAYS):
        assert np.array_equal(getattr(v5, name).array, getattr(v6, name).array), name
    assert v5.manifest["ct_noise_sd_hu"] == v6.manifest["ct_noise_sd_hu"]
