"""Axial chest CT slices cut from whole-body phantoms, for the small CT GAN on the realistic anatomy (versions 2-6).

The chest-slice phantom (:mod:`ct_slices`) draws a torso of ellipses; a whole-body case of version 2 or later has
arms, ribs as arcs, muscle compartments, vessels and airways. Each subject gives ``count`` slices spread evenly
from the lung apex to the lung bases (where the case's label map holds lung), area-averaged from the case's CT
matrix to ``size`` px over the whole field of view, so partial volume at the small size is physical, as in the
simple CT GAN paper's LIDC images downsampled from 512 px.
"""

from __future__ import annotations

import numpy as np

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.phantoms.tissues import LABEL
from MedGANSynthLib.phantoms.versions import REALISTIC_PHANTOM_VERSIONS, spoken_versions
from MedGANSynthLib.volume import Volume


def wholebody_chest_ct_slices(seed: int, count: int, size: int, version: int) -> Volume:
    """``count`` axial chest slices ``[count, size, size]`` in HU of one whole-body subject (non-contrast)."""
    from MedGANSynthLib.phantoms.wholebody import WholeBodyConfig, make_wholebody_case

    if version not in REALISTIC_PHANTOM_VERSIONS:
        raise InputError("Chest slices from whole-body phantoms need --phantom-version "
                         f"{spoken_versions(REALISTIC_PHANTOM_VERSIONS)}; got {version}.")
    config = WholeBodyConfig()
    if config.ct_matrix % size:
        divisors = [d for d in range(8, config.ct_matrix + 1) if config.ct_matrix % d == 0]
        raise InputError(f"--size must divide the phantom's {config.ct_matrix}-px CT matrix for whole-body slices; "
                         f"choose one of {', '.join(map(str, divisors))} (got {size}).")
    case = make_wholebody_case(seed, "normal", config, version=version)
    levels = chest_levels(case.organs.array, count)
    factor = config.ct_matrix // size
    stack = case.ct.array[levels].astype(np.float64)
    small = stack.reshape(count, size, factor, size, factor).mean(axis=(2, 4)).astype(np.float32)
    spacing = (case.ct.spacing[0] * factor, case.ct.spacing[1] * factor, case.ct.spacing[2])
    return Volume(small, spacing, case.ct.origin, modality="CT", units="HU")


def chest_levels(labels: np.ndarray, count: int) -> np.ndarray:
    """Indices of ``count`` slices spread evenly over the slices that hold lung (apex to bases, inclusive)."""
    with_lung = np.flatnonzero((labels == LABEL["lung"]).any(axis=(1, 2)))
    if with_lung.size == 0:
        raise InputError("This phantom has no lung slices to cut chest CT slices from.")
    return np.round(np.linspace(with_lung[0], with_lung[-1], count)).astype(int)
