"""The artefact measures of an evaluation run: per class, pooled over the classes, and what the console prints."""

from __future__ import annotations

import numpy as np
import pytest

from MedGANSynthLib.cli.cmd_evaluate_gan import artefact_lines
from MedGANSynthLib.evaluation.grid_texture import MIN_SIDE, grid_texture_scores
from MedGANSynthLib.gan.artefact_measures import artefact_measures


def bodies(rng: np.random.Generator, count: int, size: tuple[int, int] = (64, 48)) -> np.ndarray:
    """MIP-like images in a [-1, 1] model range (SUV 0-10): an ellipse of ~1.5 SUV with noise, air at 0 SUV."""
    rows, columns = np.indices(size)
    inside = ((rows - size[0] / 2) / (0.4 * size[0])) ** 2 + ((columns - size[1] / 2) / (0.3 * size[1])) ** 2 < 1
    suv = inside * (1.5 + 0.2 * rng.standard_normal((count, *size)))
    return (suv / 5.0 - 1.0)[:, None].astype(np.float32)


def to_suv(images: np.ndarray) -> np.ndarray:
    return (np.asarray(images) + 1.0) * 5.0


def test_per_class_and_pooled_measures(rng):
    generated = {"a": bodies(rng, 6), "b": bodies(rng, 4)}
    generated["a"][2, 0, 2:4, 2:4] = 3.0 / 5.0 - 1.0  # a 2 x 2 speck of SUV 3 in the top-left air
    heldout = {"a": bodies(rng, 5), "b": bodies(rng, 5)}
    measures = artefact_measures(generated, heldout, to_suv)
    a, b, overall = measures["per_class"]["a"], measures["per_class"]["b"], measures["overall"]
    assert a["specks_outside_body"]["generated"] == {"images_with_specks": 1 / 6, "specks_per_image": 1 / 6}
    assert a["specks_outside_body"]["generated_indices_with_specks"] == [2]
    assert b["specks_outside_body"]["generated"]["specks_per_image"] == 0.0
    assert overall["specks_outside_body"]["generated"] == {"images_with_specks": 0.1, "specks_per_image": 0.1}
    assert overall["specks_outside_body"]["floor_heldout"]["images_with_specks"] == 0.0
    # pooled grid texture = mean over all images = the class means weighted by their image counts
    assert a["grid_texture"]["generated"] == pytest.approx(grid_texture_scores(generated["a"]).mean())
    pooled = (6 * a["grid_texture"]["generated"] + 4 * b["grid_texture"]["generated"]) / 10
    assert overall["grid_texture"]["generated"] == pytest.approx(pooled)
    assert overall["grid_texture"]["ratio"] == pytest.approx(pooled / overall["grid_texture"]["floor_heldout"])


def test_specks_need_a_mip_model_and_grid_texture_large_enough_images(rng):
    images = {"one": bodies(rng, 4)}
    assert set(artefact_measures(images, images)["per_class"]["one"]) == {"grid_texture"}
    small = {"one": bodies(rng, 4, (MIN_SIDE - 2, MIN_SIDE - 2))}
    assert set(artefact_measures(small, small, to_suv)["per_class"]["one"]) == {"specks_outside_body"}


def test_the_console_lines(rng):
    generated = bodies(rng, 4)
    generated[0, 0, 2:4, 2:4] = 3.0 / 5.0 - 1.0
    measures = artefact_measures({"one": generated}, {"one": bodies(rng, 4)}, to_suv)
    section = measures["per_class"]["one"]
    lines = artefact_lines({"per_class": {"one": section}, "overall": None})
    texture = section["grid_texture"]
    assert lines[0].startswith(f"Grid texture: generated {texture['generated']:.2f}, held-out real "
                               f"{texture['floor_heldout']:.2f} (ratio {texture['ratio']:.2f}")
    assert lines[1] == ("Specks outside the body: 25% of generated images, 0.25 per image (held-out real: 0%, 0.00)")
