"""Shared fixtures. Real patient data lives in ``../shared/data`` beside the clone; tests skip without it."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from MedGANSynthLib.volume import Volume

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_DATA = Path(os.environ.get("MEDGANSYNTH_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


def shared_data_path(*parts: str) -> Path:
    """Path inside ../shared/data, or skip the test with the reason when it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real test data {path} is absent (it sits beside the clone in CI, not in a user's clone)")
    return path


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


@pytest.fixture
def oblique_volume(rng) -> Volume:
    """A small anisotropic volume with a rotated direction matrix and an arbitrary origin."""
    angle = np.deg2rad(17.0)
    rotation = np.array(
        [[np.cos(angle), -np.sin(angle), 0.0], [np.sin(angle), np.cos(angle), 0.0], [0.0, 0.0, 1.0]]
    )
    tilt = np.deg2rad(9.0)
    tilt_matrix = np.array([[1.0, 0.0, 0.0], [0.0, np.cos(tilt), -np.sin(tilt)], [0.0, np.sin(tilt), np.cos(tilt)]])
    return Volume(
        array=rng.normal(size=(7, 11, 13)).astype(np.float32),
        spacing=(0.8, 1.3, 2.5),
        origin=(-120.5, 33.25, 410.0),
        direction=rotation @ tilt_matrix,
        modality="CT",
        units="HU",
    )


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Tiny test networks run faster on one thread than two (measured: 6 ms vs 865 ms per step on a busy
    2-core machine), and tests then don't fight each other for cores. Benchmarks measure threading instead."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
