"""GAN samples and latent walks as a real Slicer sequence + browser (slicer-core)."""

from __future__ import annotations

import numpy as np
import pytest
from mrml_support import ijk_to_ras_of, new_mrml_context, slicer

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.mrml.sequences import frame_volume_node, sequence_from_volumes
from MedGANSynthLib.mrml.volume_nodes import volume_from_node
from MedGANSynthLib.volume import Volume

pytestmark = pytest.mark.mrml


@pytest.fixture(scope="module")
def mrml():
    return new_mrml_context()


def _mip_frames(count: int, rng) -> list[Volume]:
    """One-slice coronal MIPs (64 x 1 x 48 voxels) with true pixel spacing, as RadioGAN samples are."""
    return [
        Volume(rng.random((64, 1, 48)).astype(np.float32) * 10, spacing=(4.0, 4.0, 3.27), origin=(-96.0, 0.0, -100.0),
               modality="MIP", units="SUV")
        for _ in range(count)
    ]


def test_samples_become_a_sequence_with_index_values_and_exact_frames(mrml, rng):
    frames = _mip_frames(5, rng)
    sequence, browser = sequence_from_volumes(frames, mrml.scene, "RadioGAN samples")
    assert sequence.GetNumberOfDataNodes() == 5
    assert sequence.GetIndexName() == "frame"
    assert [sequence.GetNthIndexValue(n) for n in range(5)] == ["0", "1", "2", "3", "4"]
    assert browser.GetMasterSequenceNode().GetID() == sequence.GetID()
    for n, frame in enumerate(frames):
        stored = sequence.GetNthDataNode(n)
        assert stored.GetSpacing() == pytest.approx((4.0, 4.0, 3.27))
        assert stored.GetImageData().GetDimensions() == (48, 1, 64)
        assert np.array_equal(volume_from_node(stored).array, frame.array)


def test_latent_walk_steps_play_through_the_browser_proxy(mrml, rng):
    frames = _mip_frames(4, rng)
    steps = [0.0, 0.25, 0.5, 0.75]
    sequence, browser = sequence_from_volumes(frames, mrml.scene, "Latent walk", index_name="step",
                                              index_values=steps)
    assert sequence.GetIndexName() == "step"
    assert [float(sequence.GetNthIndexValue(n)) for n in range(4)] == steps
    for n in (2, 0, 3):
        browser.SetSelectedItemNumber(n)
        shown = frame_volume_node(browser)
        assert shown.GetScene() is mrml.scene
        assert np.array_equal(slicer.util.arrayFromVolume(shown), frames[n].array)
    flip = np.diag([-1.0, -1.0, 1.0, 1.0])
    np.testing.assert_allclose(ijk_to_ras_of(shown), flip @ frames[3].index_to_physical, atol=1e-9)


def test_mismatched_index_values_are_an_input_error(mrml, rng):
    with pytest.raises(InputError):
        sequence_from_volumes(_mip_frames(3, rng), mrml.scene, index_values=[0, 1])
    with pytest.raises(InputError):
        sequence_from_volumes([], mrml.scene)
