"""The task's sample picture at every checkpoint: samples/epoch_NNNN.png, and samples/epoch_NNNN_step_SSSSSSS.png
at a checkpoint inside an epoch (NNNN is then the running epoch)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch

from MedGANSynthLib.io.atomic import atomic_output
from MedGANSynthLib.training.callbacks import TrainerCallback, TrainingState, evaluation_mode


class SampleGridWriter(TrainerCallback):
    """The task's ``sample_grid()`` (eval mode, no gradients, the CPU random stream left as it was) as a PNG."""

    def on_checkpoint(self, state: TrainingState) -> None:
        with torch.random.fork_rng(devices=[]), evaluation_mode(state.modules), torch.no_grad():
            grid = state.task.sample_grid()
        write_image_grid(grid, state.run_dir / "samples" / sample_picture_name(state))


def sample_picture_name(state: TrainingState) -> str:
    if state.partial_epoch is None:
        return f"epoch_{state.epochs_completed:04d}.png"
    return f"epoch_{state.epochs_completed + 1:04d}_step_{state.global_step:07d}.png"


MIN_TILE_PIXELS = 64


def write_image_grid(images: torch.Tensor, path: Path) -> None:
    """Tile (N, C, H, W) images in [0, 1] into one PNG (grey for 1 channel, RGB for 3, first channel otherwise).

    Images smaller than 64 pixels are enlarged by a whole factor (nearest neighbour) so every pixel stays visible.
    """
    from matplotlib.image import imsave

    array = images.detach().float().cpu().clamp(0.0, 1.0).numpy()
    if array.ndim != 4:
        raise ValueError(f"sample_grid must return (N, C, H, W) images, got shape {tuple(array.shape)}")
    zoom = max(1, MIN_TILE_PIXELS // max(array.shape[2:]))  # tiny images (16 x 16) are unreadable at 1:1
    if zoom > 1:
        array = array.repeat(zoom, axis=2).repeat(zoom, axis=3)
    count, channels, height, width = array.shape
    columns = max(1, math.ceil(math.sqrt(count)))
    rows = math.ceil(count / columns)
    pad = 2
    colour = channels == 3
    canvas = np.ones((rows * (height + pad) + pad, columns * (width + pad) + pad, 3 if colour else 1),
                     dtype=np.float32)
    for index in range(count):
        top = pad + (index // columns) * (height + pad)
        left = pad + (index % columns) * (width + pad)
        tile = array[index].transpose(1, 2, 0) if colour else array[index, :1].transpose(1, 2, 0)
        canvas[top:top + height, left:left + width] = tile
    with atomic_output(path) as temp:
        if colour:
            imsave(temp, canvas, format="png")
        else:
            imsave(temp, canvas[..., 0], cmap="gray", vmin=0.0, vmax=1.0, format="png")
