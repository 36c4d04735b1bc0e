"""Training data sets: file reading, labels, windows (against hand arithmetic) and bad inputs."""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk
import torch

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.io.volume_io import write_volume
from MedGANSynthLib.preprocessing.windows import CT_GAN_WINDOW, RADIOGAN_SUV_WINDOW
from MedGANSynthLib.training.datasets import (
    BRAIN_PET_SUV_WINDOW,
    BrainSliceDataset,
    CTSliceDataset,
    ImageFolderDataset,
    window_for_output,
)
from MedGANSynthLib.volume import Volume

TANH_MIP_WINDOW = window_for_output(RADIOGAN_SUV_WINDOW, (-1.0, 1.0))


def _write_png(path, array):
    sitk.WriteImage(sitk.GetImageFromArray(np.asarray(array, dtype=np.uint8)), str(path))


def _coronal_mip(values: np.ndarray) -> Volume:
    """A (k, 1, i) MIP: k runs towards the head (direction +S), as the project's MIPs do."""
    return Volume(values[:, None, :].astype(np.float32), spacing=(2.0, 2.0, 2.0), modality="MIP", units="SUV")


def _write_labels(path, rows):
    path.write_text("file,label\n" + "".join(f"{name},{label}\n" for name, label in rows))


def test_png_folder_is_scaled_from_grey_values(tmp_path):
    _write_png(tmp_path / "a.png", [[0, 255], [51, 102]])
    _write_png(tmp_path / "b.png", [[255, 255], [0, 0]])
    data = ImageFolderDataset(tmp_path, window=TANH_MIP_WINDOW)
    assert len(data) == 2 and data.num_classes == 0 and "label" not in data[0]
    expected = np.array([[0, 255], [51, 102]]) / 255.0 * 2.0 - 1.0
    np.testing.assert_allclose(data[0]["image"][0].numpy(), expected, atol=1e-6)
    assert data.describe()["normalisation"]["high"] == 255.0


def test_nrrd_mips_with_free_form_labels(tmp_path):
    first = np.array([[0.0, 7.5], [15.0, 45.0]])  # rows: k = 0 (feet), k = 1 (head)
    write_volume(_coronal_mip(first), tmp_path / "p1.nrrd")
    write_volume(_coronal_mip(first * 0.5), tmp_path / "p2.nrrd")
    write_volume(_coronal_mip(first * 0.1), tmp_path / "p3.nrrd")
    _write_labels(tmp_path / "classes.csv", [("p1.nrrd", "lymphoma"), ("p2.nrrd", "Head and neck"),
                                             ("p3.nrrd", "lymphoma")])
    data = ImageFolderDataset(tmp_path, tmp_path / "classes.csv", window=TANH_MIP_WINDOW)
    assert data.class_names == ["Head and neck", "lymphoma"]  # sorted, not in row order
    assert [int(data[i]["label"]) for i in range(3)] == [1, 0, 1]
    # SUV clipped to [0, 30] and mapped to [-1, 1]; head (k = 1) on the top row
    expected = np.array([[15.0, 30.0], [0.0, 7.5]]) / 30.0 * 2.0 - 1.0
    np.testing.assert_allclose(data[0]["image"][0].numpy(), expected, atol=1e-6)
    assert data.describe()["class_counts"] == {"Head and neck": 1, "lymphoma": 2}


def test_resize_to_model_size(tmp_path):
    _write_png(tmp_path / "a.png", np.full((20, 12), 255))
    data = ImageFolderDataset(tmp_path, image_size=(10, 6), window=TANH_MIP_WINDOW)
    assert data.image_shape == (1, 10, 6)
    assert torch.allclose(data[0]["image"], torch.ones(1, 10, 6))


def test_bad_image_folders(tmp_path):
    with pytest.raises(InputError, match="no PNG, NRRD"):
        ImageFolderDataset(tmp_path)
    with pytest.raises(InputError, match="does not exist"):
        ImageFolderDataset(tmp_path / "nowhere")
    _write_png(tmp_path / "a.png", [[0, 1], [2, 3]])
    _write_labels(tmp_path / "labels.csv", [("a.png", "normal"), ("gone.png", "lung")])
    with pytest.raises(InputError, match="1 file\\(s\\) missing .*gone.png"):
        ImageFolderDataset(tmp_path)
    (tmp_path / "labels.csv").write_text("name,what\na.png,x\n")
    with pytest.raises(InputError, match="'file' column"):
        ImageFolderDataset(tmp_path)
    (tmp_path / "labels.csv").unlink()
    write_volume(_coronal_mip(np.ones((2, 2))), tmp_path / "b.nrrd")
    with pytest.raises(InputError, match="mixes PNG"):
        ImageFolderDataset(tmp_path)


def test_brain_slices_are_three_adjacent_axial_slices(tmp_path):
    # 6 axial slices; slice k holds SUV 2k everywhere except an empty first slice
    values = np.stack([np.full((4, 4), 2.0 * k) for k in range(6)]).astype(np.float32)
    write_volume(Volume(values, units="SUV", modality="PT"), tmp_path / "nc1.nrrd")
    write_volume(Volume(values * 0.5, units="SUV", modality="PT"), tmp_path / "ad1.nrrd")
    _write_labels(tmp_path / "labels.csv", [("nc1.nrrd", "NC"), ("ad1.nrrd", "AD")])
    data = BrainSliceDataset(tmp_path, image_size=(4, 4), min_signal_fraction=0.3)
    window = BRAIN_PET_SUV_WINDOW  # SUV [0, 15] -> [-1, 1]
    # centres 1..4 qualify where the centre reaches 30 % of the max (10 -> 3; 5 -> 1.5): k = 2, 3, 4 each
    assert len(data) == 6 and data.class_names == ["AD", "NC"]
    first = data[0]["image"]
    assert first.shape == (3, 4, 4)
    expected = [(2.0 * k) / 15.0 * 2.0 - 1.0 for k in (1, 2, 3)]
    np.testing.assert_allclose(first[:, 0, 0].numpy(), expected, atol=1e-6)
    assert window.high == 15.0
    only_ad = BrainSliceDataset(tmp_path, stage="AD", image_size=(4, 4), min_signal_fraction=0.3)
    assert len(only_ad) == 3 and only_ad.num_classes == 0
    with pytest.raises(InputError, match="stage 'MCI'"):
        BrainSliceDataset(tmp_path, stage="MCI")


def test_ct_slices_scaled_to_zero_two(tmp_path):
    hu = np.full((3, 8, 8), -1000.0, dtype=np.float32)
    hu[1, 2:6, 2:6] = 40.0  # soft tissue in the middle slice only
    hu[2] = 1500.0  # dense bone: clipped at 1000 HU
    write_volume(Volume(hu, modality="CT", units="HU"), tmp_path / "ct.nrrd")
    data = CTSliceDataset(tmp_path, image_size=(8, 8))
    assert len(data) == 2  # the all-air slice is skipped
    assert data.window == CT_GAN_WINDOW
    np.testing.assert_allclose(data[0]["image"][0, 3, 3].item(), (40.0 + 1000.0) / 2000.0 * 2.0, atol=1e-6)
    np.testing.assert_allclose(data[0]["image"][0, 0, 0].item(), 0.0, atol=1e-6)
    np.testing.assert_allclose(data[1]["image"].numpy(), 2.0, atol=1e-6)
    small = CTSliceDataset(tmp_path, image_size=(4, 4))
    assert small.image_shape == (1, 4, 4)


def test_a_selection_split_adds_new_cases_and_leaves_train_and_heldout_as_they_were(tmp_path, capsys):
    from MedGANSynthLib.cli.main import main
    from MedGANSynthLib.io.volume_io import read_volume

    common = ["dataset", "ct", "--phantoms", "3", "--heldout", "1", "--slices", "4", "--size", "24", "--seed", "7"]
    assert main([*common, "-o", str(tmp_path / "plain")]) == 0
    assert main([*common, "--selection", "2", "-o", str(tmp_path / "with")]) == 0
    assert main([*common, "--selection", "-1", "-o", str(tmp_path / "bad")]) == 2
    assert "--selection cannot be negative" in capsys.readouterr().err

    def voxels(root, split):
        return {path.name: read_volume(path).array for path in sorted((root / split).glob("*.nrrd"))}

    for split in ("train", "heldout"):
        plain, with_selection = voxels(tmp_path / "plain", split), voxels(tmp_path / "with", split)
        assert plain.keys() == with_selection.keys()
        assert all(np.array_equal(plain[name], with_selection[name]) for name in plain)
    selection = voxels(tmp_path / "with", "selection")
    assert sorted(selection) == ["chest_0003.nrrd", "chest_0004.nrrd"]
    others = [*voxels(tmp_path / "plain", "train").values(), *voxels(tmp_path / "plain", "heldout").values()]
    assert not any(np.array_equal(new, old) for new in selection.values() for old in others)
    assert (tmp_path / "with" / "selection" / "labels.csv").read_text().splitlines()[1:] == [
        "chest_0003.nrrd,chest", "chest_0004.nrrd,chest"]
    assert not (tmp_path / "plain" / "selection").exists()
