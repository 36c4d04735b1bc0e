"""Resampling: grid geometry, identity, label maps, PET-onto-CT alignment in physical space, bad inputs."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage
from scipy.spatial.transform import Rotation

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.preprocessing.resample import resample_isotropic, resample_to_reference
from MedGANSynthLib.volume import Volume


def _grid_points(shape_kji, spacing, origin, direction) -> np.ndarray:
    """Physical LPS point of every voxel, shape (k, j, i, 3), by plain arithmetic."""
    k, j, i = np.meshgrid(*[np.arange(n, dtype=float) for n in shape_kji], indexing="ij")
    index = np.stack([i, j, k], axis=-1) * np.asarray(spacing)
    return np.asarray(origin) + index @ np.asarray(direction).T


def _linear_field(points: np.ndarray) -> np.ndarray:
    return 3.0 + 0.2 * points[..., 0] - 0.5 * points[..., 1] + 0.7 * points[..., 2]


@pytest.fixture
def ct_and_pet():
    """A CT grid and a PET grid with different origin, spacing and a rotated direction, PET covering the CT."""
    ct_shape, ct_spacing, ct_origin = (12, 20, 24), (0.98, 0.98, 2.0), (-11.0, -9.0, 95.0)
    ct = Volume(np.zeros(ct_shape, np.float32), ct_spacing, ct_origin, np.eye(3), "CT", "HU")
    direction = Rotation.from_euler("zx", [25.0, 12.0], degrees=True).as_matrix()
    pet_shape, pet_spacing = (20, 22, 22), (4.07, 4.07, 3.27)
    ct_centre = ct.physical_point((np.array(ct.size) - 1) / 2.0)
    half = direction @ (np.array(pet_spacing) * (np.array(pet_shape[::-1]) - 1) / 2.0)
    pet_origin = ct_centre - half + np.array([1.3, -0.7, 2.1])  # not centred exactly: no accidental symmetry
    points = _grid_points(pet_shape, pet_spacing, pet_origin, direction)
    pet = Volume(_linear_field(points), pet_spacing, pet_origin, direction, "PT", "SUV", {"patient": "x"})
    return ct, pet


def test_pet_onto_ct_matches_the_field_at_every_ct_voxel(ct_and_pet):
    ct, pet = ct_and_pet
    out = resample_to_reference(pet, ct, interpolation="linear")
    assert out.same_grid(ct)
    expected = _linear_field(_grid_points(ct.array.shape, ct.spacing, ct.origin, ct.direction))
    # Trilinear interpolation reproduces a linear function exactly.
    np.testing.assert_allclose(out.array, expected, rtol=0, atol=1e-6)
    assert (out.modality, out.units, out.metadata["patient"]) == ("PT", "SUV", "x")


def test_a_physical_point_lands_on_the_same_value(ct_and_pet, rng):
    ct, pet = ct_and_pet
    pet = pet.with_array(rng.normal(size=pet.array.shape))  # arbitrary values: compare with scipy's trilinear
    out = resample_to_reference(pet, ct, interpolation="linear")
    pet_matrix = np.asarray(pet.direction) @ np.diag(pet.spacing)
    for ijk in [(3, 4, 5), (0, 0, 0), (23, 19, 11), (10, 7, 2)]:
        point = np.asarray(ct.origin) + np.asarray(ct.direction) @ (np.asarray(ct.spacing) * ijk)
        pet_index_ijk = np.linalg.solve(pet_matrix, point - np.asarray(pet.origin))
        expected = ndimage.map_coordinates(pet.array, pet_index_ijk[::-1, None], order=1)[0]
        assert out.array[ijk[2], ijk[1], ijk[0]] == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("interpolation", ["nearest", "linear"])
def test_onto_its_own_grid_is_identity(oblique_volume, interpolation):
    out = resample_to_reference(oblique_volume, oblique_volume, interpolation=interpolation)
    np.testing.assert_allclose(out.array, oblique_volume.array, atol=1e-6)
    assert out.same_grid(oblique_volume)


def test_bspline_onto_its_own_grid_interpolates_the_samples(oblique_volume):
    out = resample_to_reference(oblique_volume, oblique_volume, interpolation="bspline")
    np.testing.assert_allclose(out.array, oblique_volume.array, atol=1e-3)


def test_isotropic_grid_geometry(oblique_volume):
    out = resample_isotropic(oblique_volume, 2.0, "linear")
    extent = np.array(oblique_volume.size) * np.array(oblique_volume.spacing)  # (10.4, 14.3, 17.5) mm
    expected_size = (5, 7, 9)  # round(extent / 2)
    assert out.size == expected_size and out.spacing == (2.0, 2.0, 2.0)
    np.testing.assert_allclose(extent / 2.0, [5.2, 7.15, 8.75])
    np.testing.assert_allclose(out.direction, oblique_volume.direction)
    # The field-of-view centres coincide.
    d, s, o = oblique_volume.direction, np.array(oblique_volume.spacing), np.array(oblique_volume.origin)
    centre_in = o + d @ (s * (np.array(oblique_volume.size) - 1) / 2.0)
    centre_out = np.array(out.origin) + d @ (2.0 * (np.array(expected_size) - 1) / 2.0)
    np.testing.assert_allclose(centre_out, centre_in, atol=1e-5)


def test_isotropic_of_an_isotropic_volume_is_identity(rng):
    volume = Volume(rng.normal(size=(6, 7, 8)), (2.0, 2.0, 2.0), (5.0, -3.0, 7.0))
    out = resample_isotropic(volume, 2.0, "nearest")
    assert out.same_grid(volume)
    np.testing.assert_array_equal(out.array, volume.array)


def test_nearest_round_trip_through_a_finer_grid_is_exact(rng):
    volume = Volume(rng.integers(0, 100, size=(5, 6, 7)).astype(np.int16), (2.0, 2.0, 2.0), (1.0, 2.0, 3.0))
    fine = resample_isotropic(volume, 2.0 / 3.0, "nearest")
    assert fine.array.shape == (15, 18, 21)
    back = resample_isotropic(fine, 2.0, "nearest")
    assert back.same_grid(volume)
    np.testing.assert_array_equal(back.array, volume.array)


def test_label_map_keeps_its_label_values_even_when_linear_is_asked(rng):
    labels = rng.choice(np.array([0, 3, 7], dtype=np.uint8), size=(9, 10, 11))
    segmentation = Volume(labels, (4.07, 4.07, 3.0), modality="SEG", units="label")
    out = resample_isotropic(segmentation, 2.0, "linear")
    assert set(np.unique(out.array)) <= {0, 3, 7} and out.array.dtype == np.uint8
    assert out.metadata["interpolation"] == "nearest"
    # The same array as an image does get interpolated (intermediate values appear).
    image = resample_isotropic(segmentation.with_array(labels, modality="CT", units="HU"), 2.0, "linear")
    assert not set(np.unique(image.array)) <= {0, 3, 7}


def test_whole_body_pet_geometry():
    pet = Volume(np.zeros((429 // 10, 168 // 4, 168 // 4), np.float32), (4.07 * 4, 4.07 * 4, 2.0 * 10))
    out = resample_isotropic(pet, 2.0, "nearest")
    assert out.size == (round(42 * 16.28 / 2), round(42 * 16.28 / 2), round(42 * 20.0 / 2))


# --- bad inputs ------------------------------------------------------------------------------------------------
def test_2d_image_is_refused():
    with pytest.raises(InputError, match="2-D image"):
        resample_isotropic(np.zeros((64, 64)))


def test_nan_volume_is_refused(oblique_volume):
    broken = oblique_volume.with_array(oblique_volume.array.copy())
    broken.array[2, 3, 4] = np.nan
    with pytest.raises(InputError, match="1 NaN or infinite voxels"):
        resample_isotropic(broken)


def test_unknown_interpolation_is_refused(oblique_volume):
    with pytest.raises(InputError, match="Unknown interpolation 'cubic'; choose one of nearest, linear, bspline"):
        resample_isotropic(oblique_volume, 2.0, "cubic")


@pytest.mark.parametrize("spacing", [0.0, 1e6, -2.0, float("nan")])
def test_absurd_spacing_is_refused(oblique_volume, spacing):
    with pytest.raises(InputError, match="outside the plausible"):
        resample_isotropic(oblique_volume, spacing)


def test_non_overlapping_reference_is_refused(ct_and_pet):
    ct, pet = ct_and_pet
    far_ct = Volume(ct.array, ct.spacing, (ct.origin[0], ct.origin[1], ct.origin[2] + 900.0), ct.direction)
    with pytest.raises(InputError, match="do not overlap"):
        resample_to_reference(pet, far_ct)


def test_partial_overlap_is_accepted_and_outside_is_default(ct_and_pet):
    ct, pet = ct_and_pet
    shifted = Volume(ct.array, ct.spacing, (ct.origin[0], ct.origin[1], ct.origin[2] + 40.0), ct.direction)
    out = resample_to_reference(pet, shifted, default_value=-1.0)
    assert (out.array == -1.0).any() and (out.array != -1.0).any()
