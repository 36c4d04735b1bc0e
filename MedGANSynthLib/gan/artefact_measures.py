"""Artefacts a GAN adds that real images never have, per class and pooled, each beside its held-out real floor.

- grid texture (:mod:`MedGANSynthLib.evaluation.grid_texture`): every model whose images are at least
  ``MIN_SIDE`` pixels a side; the CT GAN's target is slices "without grid texture";
- specks outside the body (:mod:`MedGANSynthLib.evaluation.specks_outside_body`): whole-body MIP models only
  (RadioGAN; its target is "no specks outside the body"), counted in SUV.

:func:`artefact_measures` returns entries to merge into the per-class and overall sections of a GAN evaluation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from MedGANSynthLib.evaluation.grid_texture import MIN_SIDE, GridTexture, grid_texture
from MedGANSynthLib.evaluation.image_batches import as_image_batch
from MedGANSynthLib.evaluation.specks_outside_body import SpecksOutsideBody, specks_outside_body


def artefact_measures(
    generated_by_class: Mapping[str, np.ndarray],
    heldout_by_class: Mapping[str, np.ndarray],
    to_suv: Callable[[np.ndarray], np.ndarray] | None = None,
) -> dict:
    """``{"per_class": {name: entries}, "overall": entries}``; ``to_suv`` (MIP models only) maps the images to SUV
    for the speck count, which is left out without it. Images smaller than ``MIN_SIDE`` get no grid-texture score."""
    names = list(generated_by_class)
    generated = {n: as_image_batch(generated_by_class[n], f"The generated '{n}' images") for n in names}
    heldout = {n: as_image_batch(heldout_by_class[n], f"The held-out '{n}' images") for n in names}
    textured = min(generated[names[0]].shape[2:]) >= MIN_SIDE
    per_class: dict[str, dict] = {name: {} for name in names}
    textures: list[GridTexture] = []
    specks: list[SpecksOutsideBody] = []
    for name in names:
        if textured:
            textures.append(grid_texture(generated[name], heldout[name]))
            per_class[name]["grid_texture"] = textures[-1].summary()
        if to_suv is not None:
            specks.append(specks_outside_body(to_suv(generated[name]), to_suv(heldout[name])))
            per_class[name]["specks_outside_body"] = specks[-1].summary()
    overall: dict = {}
    if textures:
        overall["grid_texture"] = GridTexture(np.concatenate([t.generated for t in textures]),
                                              np.concatenate([t.heldout for t in textures])).summary()
    if specks:
        pooled = SpecksOutsideBody(np.concatenate([s.generated for s in specks]),
                                   np.concatenate([s.heldout for s in specks])).summary()
        pooled.pop("generated_indices_with_specks")  # per-class lists hold them, with per-class indices
        overall["specks_outside_body"] = pooled
    return {"per_class": per_class, "overall": overall}
