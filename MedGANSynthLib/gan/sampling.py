"""Draw images from a trained generator, reproducibly by seed, and map them back to SUV / HU through the card."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from MedGANSynthLib.device import resolve_device
from MedGANSynthLib.errors import InputError
from MedGANSynthLib.jobs.progress import CancelToken, ProgressCallback, report
from MedGANSynthLib.networks.gan_base import GANGenerator
from MedGANSynthLib.weights.model_card import ModelCard


def resolve_class(
    generator: GANGenerator, label: int | str | None, class_names: Sequence[str] | None = None
) -> int | None:
    """Class index for a conditional generator from an index or a name; None for an unconditional one.

    An unconditional model accepts its own single class name (e.g. a brain model trained on stage "AD").
    """
    names = list(class_names or [])
    if not generator.conditional:
        if label is None or (isinstance(label, str) and names == [label]):
            return None
        raise InputError("This model is unconditional (one class per model): do not choose a class.")
    if label is None:
        shown = ", ".join(names) if names else f"0..{generator.num_classes - 1}"
        raise InputError(f"This model is conditional: choose a class ({shown}).")
    if isinstance(label, str):
        if label in names:
            return names.index(label)
        if label.isdigit():
            label = int(label)
        else:
            raise InputError(f"Unknown class '{label}'; this model knows {', '.join(names) or 'no class names'}.")
    if isinstance(label, bool) or not isinstance(label, int | np.integer) or not 0 <= int(label) < generator.num_classes:
        raise InputError(f"Class index {label!r} is out of range 0..{generator.num_classes - 1}.")
    return int(label)


def seeded_generator(seed: int) -> torch.Generator:
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise InputError(f"The seed must be a whole number, got {seed!r}.")
    return torch.Generator().manual_seed(int(seed))


@torch.no_grad()
def run_generator(generator: GANGenerator, z: torch.Tensor, embedding: torch.Tensor | None) -> torch.Tensor:
    """Forward in eval mode (BatchNorm running statistics, so batch size cannot change a sample); restores the mode."""
    was_training = generator.training
    generator.eval()
    try:
        return generator.forward_embedded(z, embedding)
    finally:
        generator.train(was_training)


def sample_images(
    generator: GANGenerator,
    label: int | str | None = None,
    count: int = 1,
    seed: int = 0,
    device: str | torch.device = "cpu",
    class_names: Sequence[str] | None = None,
    batch_size: int = 64,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> np.ndarray:
    """``count`` images ``(count, C, H, W)`` float32 in the generator's output range (tanh: [-1, 1]).

    The latents are drawn on the CPU from ``seed`` in one go, so sample ``i`` is the same whatever the device and
    batch size, and ``count=1`` with a seed reproduces the first image of any larger draw with that seed.
    """
    if isinstance(count, bool) or not isinstance(count, int | np.integer) or count < 1:
        raise InputError(f"The number of images must be a whole number >= 1, got {count!r}.")
    class_index = resolve_class(generator, label, class_names)
    target = resolve_device(device)
    latents = generator.sample_latent(int(count), generator=seeded_generator(seed))
    generator.to(target)
    images = []
    for start in range(0, int(count), batch_size):
        z = latents[start:start + batch_size].to(target)
        embedding = None
        if class_index is not None:
            labels = torch.full((z.shape[0],), class_index, dtype=torch.long, device=target)
            with torch.no_grad():
                embedding = generator.embed_labels(labels)
        images.append(run_generator(generator, z, embedding).float().cpu().numpy())
        report(progress, cancel, "sampling", min(start + batch_size, int(count)), int(count))
    return np.concatenate(images, axis=0)


def to_physical(images: np.ndarray, card: ModelCard, clip: bool = True) -> np.ndarray:
    """Map generator output back to physical units (SUV, HU) with the card's normalisation.

    Inverse of the training scaling ``output = out_lo + (x - low) / (high - low) * (out_hi - out_lo)``; e.g. RadioGAN
    clips SUV to [0, 30] (Amyar et al.) and trains on [-1, 1], so -1 -> SUV 0 and 1 -> SUV 30. ``clip`` keeps the
    result inside [low, high], the only range the model ever saw.
    """
    norm = card.normalisation
    low, high = float(norm["low"]), float(norm["high"])
    out_low, out_high = (float(v) for v in norm["output_range"])
    physical = low + (np.asarray(images, dtype=np.float64) - out_low) * ((high - low) / (out_high - out_low))
    if clip:
        physical = np.clip(physical, low, high)
    return physical.astype(np.float32)
