"""Specks outside the body: real phantom MIPs have none, a bright blob in the air is one, faint noise is none."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.evaluation.specks_outside_body import (
    BODY_SUV,
    SPECK_SUV,
    count_specks,
    specks_outside_body,
    specks_per_image,
)
from MedGANSynthLib.gan.dataset_builders import training_mip
from MedGANSynthLib.phantoms import WholeBodyConfig, make_wholebody_case
from MedGANSynthLib.training.datasets import resize_image, single_plane

RADIOGAN_SIZE = (160, 96)
RADIOGAN_SUV_HIGH = 10.0  # the bundled RadioGAN's window: SUV 0-10
VOXEL_MM = 8.0  # 'dataset mip' uses 4 mm; 8 mm builds four phantoms in seconds and gives the same kind of MIP


def phantom_mip(seed: int, lesion_class: str, version: int, arms: str | None = None) -> np.ndarray:
    """A phantom's MIP as evaluate-gan sees a real one: 'dataset mip' preprocessing, 160 x 96, SUV window 0-10
    (``resize_image`` and ``single_plane`` are what the training data set reads MIPs with)."""
    options = {"arms": arms} if arms else {}
    case = make_wholebody_case(seed, lesion_class, WholeBodyConfig().with_voxel_mm(VOXEL_MM), version=version, **options)
    mip = training_mip(case.pet)
    plane = single_plane(mip, "phantom MIP")
    small = resize_image(torch.from_numpy(np.ascontiguousarray(plane, dtype=np.float32))[None], RADIOGAN_SIZE)[0]
    return np.clip(small.numpy(), 0.0, RADIOGAN_SUV_HIGH)


@pytest.fixture(scope="module")
def real_mips() -> list[np.ndarray]:
    return [phantom_mip(3, "lymphoma", 1), phantom_mip(4, "head_neck", 1),
            phantom_mip(5, "lung", 3, arms="down"), phantom_mip(6, "normal", 3, arms="up")]


def air_beside_body(mip: np.ndarray, gap: int = 8) -> tuple[int, int]:
    """A pixel ``gap`` columns left of the body's leftmost tissue, on the image's middle row (the trunk)."""
    row = mip.shape[0] // 2
    leftmost = int(np.flatnonzero(mip[row] > BODY_SUV)[0])
    assert leftmost >= gap + 2, "the trunk must leave air on its left for the blob"
    assert mip[row - 1:row + 1, leftmost - gap:leftmost - gap + 2].max() == 0.0  # it is air
    return row, leftmost - gap


def test_real_phantom_mips_have_no_specks(real_mips):
    assert [count_specks(mip) for mip in real_mips] == [0, 0, 0, 0]


def test_a_bright_blob_in_the_air_is_one_speck(real_mips):
    for mip in real_mips:
        row, column = air_beside_body(mip)
        spotted = mip.copy()
        spotted[row:row + 2, column:column + 2] = 3.0  # a 2 x 2 blob at SUV 3, 8 pixels beside the trunk
        assert count_specks(spotted) == 1
        spotted[10:11, 2:3] = SPECK_SUV  # one pixel at the threshold in the top corner counts too
        assert count_specks(spotted) == 2


def test_noise_below_the_speck_threshold_is_not_a_speck(real_mips, rng):
    for mip in real_mips:
        noisy = mip + rng.uniform(0.0, 0.95 * SPECK_SUV, mip.shape) * (mip == 0.0)  # air only, up to 0.95 SUV
        assert count_specks(noisy) == 0
        assert count_specks(mip + 0.95 * SPECK_SUV) == 0  # uniform haze: the whole image is one "body"


def test_a_blob_touching_the_body_is_not_a_speck(real_mips):
    mip = real_mips[0]
    row = mip.shape[0] // 2
    leftmost = int(np.flatnonzero(mip[row] > BODY_SUV)[0])
    touching = mip.copy()
    touching[row:row + 2, leftmost - 2:leftmost] = 3.0
    assert count_specks(touching) == 0


def test_set_summary_counts_images_and_specks(real_mips):
    generated = np.stack(real_mips).copy()
    for index in (1, 3):
        row, column = air_beside_body(generated[index])
        generated[index, row:row + 2, column:column + 2] = 3.0
    generated[3, 5:7, 3:5] = 5.0  # a second speck in the fourth image, in the top-left air
    result = specks_outside_body(generated, np.stack(real_mips)).summary()
    assert list(specks_per_image(generated)) == [0, 1, 0, 2]
    assert result["generated"] == {"images_with_specks": 0.5, "specks_per_image": 0.75}
    assert result["floor_heldout"] == {"images_with_specks": 0.0, "specks_per_image": 0.0}
    assert result["generated_indices_with_specks"] == [1, 3]


def test_multichannel_images_are_refused():
    with pytest.raises(InputError, match="one-channel"):
        specks_per_image(np.zeros((2, 3, 40, 24)))
