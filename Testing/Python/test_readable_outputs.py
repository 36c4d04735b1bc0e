"""Outputs a person can read: virtual PET >= 0 SUV, one minimum lesion volume (0.5 ml) everywhere, and PNG pictures
at >= 512 px with the true physical aspect, orientation letters and a colour bar.

The picture checks find the drawn image on the page by its content (the largest block of non-white pixels; test
images are never white), then compare its size with the physical extent computed here from shape x spacing.
"""

from __future__ import annotations

import inspect
import json

import matplotlib.image
import numpy as np
import pytest
from conftest import shared_data_path
from scipy import ndimage

from MedGANSynthLib.cli.main import build_parser, main
from MedGANSynthLib.io import read_volume
from MedGANSynthLib.pictures import (
    display_orientation,
    save_fusion_png,
    save_mip_comparison_png,
    save_mip_png,
    save_slice_png,
)
from MedGANSynthLib.projection.mip import mip
from MedGANSynthLib.virtual_pet.lesions import MIN_LESION_VOLUME_ML, find_lesion_candidates
from MedGANSynthLib.volume import Volume

# --- one minimum lesion volume ------------------------------------------------------------------------------------


def test_one_published_minimum_lesion_volume_is_every_default():
    from MedGANSynthLib.app import demo_models
    from MedGANSynthLib.mrml.logic import MedGANSynthLogic
    from MedGANSynthLib.virtual_pet.evaluation import evaluate_virtual_pet
    from MedGANSynthLib.virtual_pet.pipeline import run_virtual_pet

    assert MIN_LESION_VOLUME_ML == 0.5  # the published value: a 1 cm sphere (0.52 ml), the smallest phantom lesion
    parser = build_parser()
    for command in (["virtual-pet", "ct.nii.gz", "-o", "out"], ["evaluate-virtual-pet", "--data", "data", "-o", "out"]):
        assert parser.parse_args(command).min_volume_ml == 0.5, command
    defaults = {
        "run_virtual_pet": inspect.signature(run_virtual_pet).parameters["min_volume_ml"].default,
        "evaluate_virtual_pet": inspect.signature(evaluate_virtual_pet).parameters["min_volume_ml"].default,
        "find_lesion_candidates": inspect.signature(find_lesion_candidates).parameters["min_volume_ml"].default,
        "Logic.predictVirtualPET": inspect.signature(MedGANSynthLogic.predictVirtualPET).parameters[
            "minVolumeMl"].default,
        "demo": demo_models.MIN_CANDIDATE_ML,
    }
    assert defaults == dict.fromkeys(defaults, 0.5)


def test_a_single_voxel_hot_spot_is_not_a_candidate_by_default():
    """2 mm voxels: one hot voxel is 0.008 ml; a 5 x 5 x 5 block (1 ml) is a lesion. Only 0 ml lists the speck."""
    suv = np.ones((30, 30, 30), np.float32)
    suv[5, 5, 5] = 8.0
    suv[15:20, 15:20, 15:20] = 6.0
    volume = Volume(suv, spacing=(2.0, 2.0, 2.0), modality="PT", units="SUV")
    _, by_default = find_lesion_candidates(volume)
    assert [round(c["volume_ml"], 6) for c in by_default] == [125 * 0.008]
    _, everything = find_lesion_candidates(volume, min_volume_ml=0.0)
    assert sorted(round(c["volume_ml"], 6) for c in everything) == [0.008, 1.0]


# --- virtual-pet on the real CT with the bundled model ------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_ct_virtual_pet(tmp_path_factory):
    """``medgansynth virtual-pet`` on the real torso CT with its defaults (about 13 s on 2 cores)."""
    ct = shared_data_path("ct-nifti", "example_ct_sm.nii.gz")
    out = tmp_path_factory.mktemp("vpet") / "out"
    assert main(["virtual-pet", str(ct), "-o", str(out), "--threads", "1"]) == 0
    return ct, out


def test_virtual_pet_of_a_real_ct_is_never_below_0_suv(real_ct_virtual_pet):
    """Before the clamp the blend went down to -0.13 SUV on this CT (measured with the bundled model)."""
    _, out = real_ct_virtual_pet
    virtual = read_volume(out / "virtual_pet.nrrd")
    assert virtual.units == "SUV" and float(virtual.array.min()) >= 0.0
    assert float(virtual.array.max()) > 2.5  # not clamped to nothing: hot regions remain


def test_virtual_pet_lists_no_candidate_below_the_minimum_volume(real_ct_virtual_pet, tmp_path):
    ct, out = real_ct_virtual_pet
    summary = json.loads((out / "summary.json").read_text())
    lesions = json.loads((out / "lesions.json").read_text())["lesions"]
    assert summary["min_volume_ml"] == 0.5 and len(lesions) == summary["lesions"]
    assert all(lesion["volume_ml"] >= 0.5 for lesion in lesions)
    every = tmp_path / "every"
    assert main(["virtual-pet", str(ct), "-o", str(every), "--threads", "1", "--min-volume-ml", "0",
                 "--no-pictures", "--no-fcn-gan-outputs"]) == 0
    specks = [c for c in json.loads((every / "lesions.json").read_text())["lesions"] if c["volume_ml"] < 0.5]
    assert specks, "the raw rule lists specks smaller than 0.5 ml on this CT"
    assert len(specks) + len(lesions) == len(json.loads((every / "lesions.json").read_text())["lesions"])


def test_virtual_pet_pictures_are_readable(real_ct_virtual_pet):
    ct_file, out = real_ct_virtual_pet
    ct = read_volume(ct_file)
    width_mm = ct.size[0] * ct.spacing[0]  # i runs right-left in all three pictures
    heights_mm = {"virtual_pet_mip": ct.size[2] * ct.spacing[2], "fusion_coronal": ct.size[2] * ct.spacing[2],
                  "fusion_axial": ct.size[1] * ct.spacing[1]}
    for name, height_mm in heights_mm.items():
        page = matplotlib.image.imread(str(out / f"{name}.png"))
        assert max(page.shape[:2]) >= 512, name
        if name.startswith("fusion"):  # CT air is black, never white: the image is one block
            image = drawn_image(page)
            assert max(image.shape[:2]) >= 512
            assert image.shape[0] / image.shape[1] == pytest.approx(height_mm / width_mm, rel=0.02), name


# --- pictures --------------------------------------------------------------------------------------------------------


def drawn_image(page: np.ndarray) -> np.ndarray:
    """The largest connected block of non-white pixels of a PNG page."""
    labels, _ = ndimage.label((page[..., :3] < 0.98).any(axis=2))
    largest = np.argmax(np.bincount(labels.ravel())[1:]) + 1
    return page[ndimage.find_objects(labels)[largest - 1]]


@pytest.fixture
def anisotropic_pet() -> Volume:
    """SUV 5 everywhere (mid grey, never white) with one hotter voxel; 1.2 x 4 x 3.3 mm voxels."""
    suv = np.full((23, 17, 41), 5.0, np.float32)
    suv[10, 8, 20] = 7.0
    return Volume(suv, spacing=(1.2, 4.0, 3.3), origin=(-20.0, 10.0, 30.0), modality="PT", units="SUV")


@pytest.mark.parametrize("plane", ["coronal", "sagittal", "axial"])
def test_mip_picture_has_the_physical_aspect_and_512_px(tmp_path, anisotropic_pet, plane):
    size_mm = np.array(anisotropic_pet.size) * np.array(anisotropic_pet.spacing)  # L, P, S extents
    rows_mm, columns_mm = {"coronal": (size_mm[2], size_mm[0]), "sagittal": (size_mm[2], size_mm[1]),
                           "axial": (size_mm[1], size_mm[0])}[plane]
    page = matplotlib.image.imread(str(save_mip_png(mip(anisotropic_pet, plane), tmp_path / "mip.png")))
    image = drawn_image(page)
    assert max(image.shape[:2]) >= 512
    assert image.shape[0] / image.shape[1] == pytest.approx(rows_mm / columns_mm, rel=0.02)
    assert page.shape[1] > image.shape[1] + 60  # room beside the image for the colour bar and its labels


def test_slice_fusion_and_comparison_pictures_keep_the_aspect(tmp_path, anisotropic_pet):
    ct = anisotropic_pet.with_array(np.full(anisotropic_pet.array.shape, 40.0, np.float32), modality="CT", units="HU")
    ct.array[10, 8, 20] = 100.0  # soft tissue (grey, never white) with one brighter voxel
    ratio = (anisotropic_pet.size[1] * 4.0) / (anisotropic_pet.size[0] * 1.2)  # axial: P rows, L columns
    for path in (save_slice_png(ct, tmp_path / "slice.png", plane="axial"),
                 save_fusion_png(ct, anisotropic_pet, tmp_path / "fusion.png", plane="axial")):
        image = drawn_image(matplotlib.image.imread(str(path)))
        assert max(image.shape[:2]) >= 512
        assert image.shape[0] / image.shape[1] == pytest.approx(ratio, rel=0.02)
    coronal = mip(anisotropic_pet, "coronal")
    page = matplotlib.image.imread(str(save_mip_comparison_png([(coronal, "real"), (coronal, "virtual")],
                                                               tmp_path / "both.png")))
    labels, count = ndimage.label((page[..., :3] < 0.98).any(axis=2))
    sizes = np.sort(np.bincount(labels.ravel())[1:])[::-1]
    assert sizes[1] > 0.9 * sizes[0]  # two images of the same size side by side


def test_orientation_letters_follow_the_direction_matrix():
    volume = Volume(np.zeros((4, 5, 6), np.float32))
    assert display_orientation(volume, "coronal") == {"top": "S", "bottom": "I", "left": "R", "right": "L"}
    assert display_orientation(volume, "axial") == {"top": "A", "bottom": "P", "left": "R", "right": "L"}
    assert display_orientation(volume, "sagittal") == {"top": "S", "bottom": "I", "left": "A", "right": "P"}
    # Stored the other way round (RAS-like axes): still shown radiologically, so the same letters.
    flipped = Volume(np.zeros((4, 5, 6), np.float32), direction=np.diag([-1.0, -1.0, 1.0]))
    assert display_orientation(flipped, "coronal") == {"top": "S", "bottom": "I", "left": "R", "right": "L"}
    # Rotated 30 degrees about S: the column axis points to 0.87 L + 0.5 P, so the right edge reads "LP".
    angle = np.deg2rad(30.0)
    rotation = np.array([[np.cos(angle), -np.sin(angle), 0.0], [np.sin(angle), np.cos(angle), 0.0], [0, 0, 1.0]])
    oblique = Volume(np.zeros((4, 5, 6), np.float32), direction=rotation)
    assert display_orientation(oblique, "coronal") == {"top": "S", "bottom": "I", "left": "RA", "right": "LP"}


def test_real_ct_slice_picture_is_readable(tmp_path):
    """The real 3 mm torso CT (122 x 101 voxels in-plane) was written as a 122 x 101 px PNG before."""
    ct = read_volume(shared_data_path("ct-nifti", "example_ct_sm.nii.gz"))
    image = drawn_image(matplotlib.image.imread(str(save_slice_png(ct, tmp_path / "ct.png", plane="axial"))))
    assert max(image.shape[:2]) >= 512
    assert image.shape[0] / image.shape[1] == pytest.approx((101 * 3.0) / (122 * 3.0), rel=0.02)
