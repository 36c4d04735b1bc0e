"""MIP: numpy reference on the right patient axis, one-slice geometry, permuted directions, real CT, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import shared_data_path

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.io import read_volume
from MedGANSynthLib.projection.mip import mip
from MedGANSynthLib.volume import Volume


def _phantom(rng) -> np.ndarray:
    """A body-like ellipsoid of soft tissue with a few hot spots and noise, indexed [k, j, i]."""
    k, j, i = np.meshgrid(np.linspace(-1, 1, 20), np.linspace(-1, 1, 16), np.linspace(-1, 1, 18), indexing="ij")
    body = ((i / 0.8) ** 2 + (j / 0.6) ** 2 + (k / 0.95) ** 2 <= 1.0) * 1.5
    array = (body + rng.gamma(2.0, 0.1, size=body.shape)).astype(np.float32)
    array[5, 4, 7], array[14, 11, 3] = 12.0, 8.0
    return array


@pytest.mark.parametrize(("axis", "array_axis"), [("coronal", 1), ("sagittal", 2), ("axial", 0)])
def test_matches_numpy_max_on_an_lps_aligned_phantom(rng, axis, array_axis):
    # Identity direction: array axis 0 = k = S, 1 = j = P, 2 = i = L.
    volume = Volume(_phantom(rng), (1.5, 1.2, 2.0), (-10.0, 20.0, 300.0), modality="PT", units="SUV")
    out = mip(volume, axis)
    np.testing.assert_array_equal(out.array, volume.array.max(axis=array_axis, keepdims=True))
    assert out.units == "SUV" and out.metadata["source_modality"] == "PT" and out.metadata["mip_axis"] == axis


def test_coronal_geometry_is_one_slice_at_the_centre_of_the_projected_extent(rng):
    volume = Volume(_phantom(rng), (1.5, 1.2, 2.0), (-10.0, 20.0, 300.0))
    out = mip(volume, "coronal")
    assert out.array.shape == (20, 1, 18)
    assert out.spacing == (1.5, 1.2, 2.0)
    np.testing.assert_allclose(out.direction, np.eye(3))
    # 16 rows along P at 1.2 mm: first centre at y = 20, last at 20 + 15 * 1.2 = 38, middle at 29.
    np.testing.assert_allclose(out.origin, (-10.0, 29.0, 300.0))


def test_sagittally_stored_volume_still_projects_anterior_posterior(rng):
    # Columns: i runs posterior, j runs inferior, k runs to the patient's right (a sagittal acquisition).
    direction = np.array([[0.0, 0.0, -1.0], [1.0, 0.0, 0.0], [0.0, -1.0, 0.0]])
    array = _phantom(rng)
    volume = Volume(array, (0.9, 1.1, 3.0), (50.0, -80.0, 120.0), direction)
    out = mip(volume, "coronal")
    np.testing.assert_array_equal(out.array, array.max(axis=2, keepdims=True))  # i (axis 2) is the P axis
    # The hot spot at [k=5, j=4, i=7] keeps its left-right and head-feet position.
    hot = volume.physical_point((7, 4, 5))
    k, j, i = np.unravel_index(np.argmax(out.array), out.array.shape)
    seen = out.physical_point((i, j, k))
    np.testing.assert_allclose(seen[[0, 2]], hot[[0, 2]], atol=1e-9)
    # and sits on the middle of the anterior-posterior extent: y = -80 + 0.9 * (18 - 1) / 2.
    assert seen[1] == pytest.approx(-80.0 + 0.9 * 8.5)


def test_oblique_volume_projects_along_its_most_anterior_posterior_axis(oblique_volume):
    # The fixture is rotated 17 degrees about S and tilted 9 degrees: j is still closest to P.
    out = mip(oblique_volume, "coronal")
    np.testing.assert_array_equal(out.array, oblique_volume.array.max(axis=1, keepdims=True))


def test_real_ct_coronal_and_axial():
    ct = read_volume(shared_data_path("ct-nifti", "example_ct_sm.nii.gz"))
    # Direction diag(-1, -1, 1): array axis 1 (j) runs anterior (y decreasing), axis 0 (k) superior.
    assert np.allclose(np.abs(ct.direction), np.eye(3))
    coronal = mip(ct, "coronal")
    np.testing.assert_array_equal(coronal.array, ct.array.max(axis=1, keepdims=True))
    axial = mip(ct, "axial")
    np.testing.assert_array_equal(axial.array, ct.array.max(axis=0, keepdims=True))
    # Centre of the projected P extent: origin_y + direction_yy * spacing * (n - 1) / 2, by hand.
    n_rows = ct.array.shape[1]
    expected_y = ct.origin[1] + ct.direction[1, 1] * ct.spacing[1] * (n_rows - 1) / 2.0
    np.testing.assert_allclose(coronal.origin, (ct.origin[0], expected_y, ct.origin[2]), atol=1e-6)
    assert coronal.array.max() == ct.array.max()


def test_integer_types_torch_cannot_reduce_still_work(rng):
    array = rng.integers(0, 60000, size=(4, 5, 6)).astype(np.uint16)
    np.testing.assert_array_equal(mip(Volume(array), "coronal").array, array.max(axis=1, keepdims=True))


def test_unknown_axis_is_refused(oblique_volume):
    with pytest.raises(InputError, match="Unknown projection axis 'frontal'; choose coronal, sagittal or axial"):
        mip(oblique_volume, "frontal")


def test_nan_volume_is_refused(oblique_volume):
    broken = oblique_volume.with_array(oblique_volume.array.copy())
    broken.array[1, 2, 3] = np.nan
    with pytest.raises(InputError, match="NaN or infinite"):
        mip(broken, "coronal")
