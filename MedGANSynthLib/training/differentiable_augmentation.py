"""Differentiable augmentation of the images a GAN's discriminator sees (Zhao et al. 2020, "Differentiable
Augmentation for Data-Efficient GAN Training"; Karras et al. 2020, ADA).

With a hundred images per class the discriminator learns the training images themselves, and the generator is
taught to copy them. Showing the discriminator randomly shifted and partly blanked images, real and generated alike
and in both networks' updates, keeps it from memorising; because the same kind of transform is applied to the
generated images and its gradient reaches the generator, the generator is still taught the un-augmented images
(augmenting the real images alone would teach it the augmented ones).

Each image gets its own draw, from the caller's noise generator (so a resumed run draws the same):

- ``translation``: shift by a whole number of pixels, uniform in [-H/8, H/8] rows and [-W/8, W/8] columns (the
  paper's 1/8 of each side); what enters at the border is the background;
- ``cutout``: blank a rectangle of half each side (the paper's 1/2) centred on a uniformly drawn pixel, clipped at
  the border, to the background.

The background is the generator's low output (the window's low end: SUV 0 or air) rather than the papers' 0,
which in a [-1, 1] output is mid-window (SUV 5 in the bundled RadioGAN's 0-10 window): a grey band no image has. Transforms only move or blank pixels, so
the gradient of a kept pixel is passed through unchanged and that of a blanked one is 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from MedGANSynthLib.training.augmentation_policy import AUGMENTATIONS

TRANSLATION_FRACTION = 1 / 8
CUTOUT_FRACTION = 1 / 2


@dataclass(frozen=True)
class AugmentationDraw:
    """The random part of one augmentation of a batch: per image (rows, columns) pairs, ``None`` when the transform
    is not in the policy."""

    shifts: torch.Tensor | None = None  # (N, 2) whole pixels; positive moves the content down / right
    cutout_corners: torch.Tensor | None = None  # (N, 2) top-left corner of the blanked rectangle (may lie outside)
    cutout_size: tuple[int, int] = (0, 0)


def largest_shift(height: int, width: int) -> tuple[int, int]:
    """The largest translation in rows and columns: 1/8 of each side, rounded half up."""
    return _rounded(height * TRANSLATION_FRACTION), _rounded(width * TRANSLATION_FRACTION)


def cutout_size(height: int, width: int) -> tuple[int, int]:
    """The blanked rectangle's rows and columns: half of each side, rounded half up."""
    return _rounded(height * CUTOUT_FRACTION), _rounded(width * CUTOUT_FRACTION)


def _rounded(value: float) -> int:
    return int(value + 0.5)


def draw_augmentation(names: tuple[str, ...], count: int, height: int, width: int,
                      generator: torch.Generator) -> AugmentationDraw:
    """Draw the parameters of ``names`` for ``count`` images of ``height`` x ``width`` from ``generator`` (CPU)."""
    unknown = set(names) - set(AUGMENTATIONS)
    if unknown:
        raise ValueError(f"unknown augmentations {sorted(unknown)}")
    shifts = corners = None
    size = (0, 0)
    if "translation" in names:
        rows, columns = largest_shift(height, width)
        shifts = torch.stack([torch.randint(-rows, rows + 1, (count,), generator=generator),
                              torch.randint(-columns, columns + 1, (count,), generator=generator)], dim=1)
    if "cutout" in names:
        size = cutout_size(height, width)
        centres = torch.stack([torch.randint(0, height, (count,), generator=generator),
                               torch.randint(0, width, (count,), generator=generator)], dim=1)
        corners = centres - torch.tensor([size[0] // 2, size[1] // 2])
    return AugmentationDraw(shifts, corners, size)


def apply_augmentation(images: torch.Tensor, draw: AugmentationDraw, background: float) -> torch.Tensor:
    """``images`` (N, C, H, W) transformed by ``draw``, in the order of AUGMENTATIONS (translation, then cutout)."""
    if draw.shifts is not None:
        images = translate(images, draw.shifts.to(images.device), background)
    if draw.cutout_corners is not None:
        images = cut_out(images, draw.cutout_corners.to(images.device), draw.cutout_size, background)
    return images


def augment(images: torch.Tensor, names: tuple[str, ...], generator: torch.Generator,
            background: float) -> torch.Tensor:
    """``images`` with a fresh draw of ``names`` per image (``images`` itself when ``names`` is empty: no draw)."""
    if not names:
        return images
    count, _, height, width = images.shape
    return apply_augmentation(images, draw_augmentation(names, count, height, width, generator), background)


def translate(images: torch.Tensor, shifts: torch.Tensor, background: float) -> torch.Tensor:
    """Move image n's content by ``shifts[n]`` = (rows, columns) pixels; the uncovered border becomes
    ``background``. Output pixel (i, j) reads input pixel (i - rows, j - columns), or a one-pixel frame of
    ``background`` around the image when that lies outside (an index gather, so gradients flow to the kept pixels).
    """
    count, _, height, width = images.shape
    framed = F.pad(images, (1, 1, 1, 1), value=background)
    rows = _source_index(height, shifts[:, 0])
    columns = _source_index(width, shifts[:, 1])
    batch = torch.arange(count, device=images.device)[:, None, None]
    moved = framed[batch, :, rows[:, :, None], columns[:, None, :]]  # (N, H, W, C): indexed dims come first
    return moved.permute(0, 3, 1, 2).contiguous()


def _source_index(length: int, shift: torch.Tensor) -> torch.Tensor:
    """(N, length) indices into the framed axis: the source pixel + 1, or the frame (0 or length + 1) outside."""
    positions = torch.arange(length, device=shift.device)[None, :] - shift[:, None]
    return positions.clamp(-1, length) + 1


def cut_out(images: torch.Tensor, corners: torch.Tensor, size: tuple[int, int], background: float) -> torch.Tensor:
    """Set, in image n, the ``size`` rectangle whose top-left corner is ``corners[n]`` (clipped at the border) to
    ``background``."""
    _, _, height, width = images.shape
    rows = torch.arange(height, device=images.device)[None, :]
    columns = torch.arange(width, device=images.device)[None, :]
    top, left = corners[:, 0:1], corners[:, 1:2]
    in_rows = (rows >= top) & (rows < top + size[0])
    in_columns = (columns >= left) & (columns < left + size[1])
    blanked = in_rows[:, None, :, None] & in_columns[:, None, None, :]
    return images.masked_fill(blanked, background)
