"""Latent-space walks (RadioGAN, Amyar et al., Figs. 4-5): a memorising GAN blends training images along the walk,
a generalising one shows a sequence of realistic images. Walk between two seeds and/or two classes; for a
conditional model the label *embedding* is interpolated too, as in RadioGAN's walk from lung cancer to lymphoma.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from MedGANSynthLib.device import resolve_device
from MedGANSynthLib.errors import InputError
from MedGANSynthLib.gan.sampling import resolve_class, run_generator, seeded_generator
from MedGANSynthLib.networks.gan_base import GANGenerator

WALK_MODES = ("linear", "slerp")


def interpolation_weights(steps: int) -> torch.Tensor:
    """``steps`` (>= 2) fractions from exactly 0 to exactly 1."""
    return torch.arange(steps, dtype=torch.float64) / (steps - 1)


def lerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Rows ``(1 - t) a + t b``; t = 0 and 1 give a and b exactly."""
    t = t.view(-1, *([1] * a.dim())).to(a.dtype)
    return (1 - t) * a + t * b


def slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Spherical interpolation (keeps the norm typical of Gaussian latents); falls back to lerp for parallel vectors."""
    a64, b64 = a.double().flatten(), b.double().flatten()
    cosine = torch.clamp(torch.dot(a64, b64) / (a64.norm() * b64.norm()), -1.0, 1.0)
    omega = torch.arccos(cosine)
    if float(torch.sin(omega)) < 1e-6:
        return lerp(a, b, t)
    t64 = t.view(-1, 1)
    rows = (torch.sin((1 - t64) * omega) * a64 + torch.sin(t64 * omega) * b64) / torch.sin(omega)
    rows[t == 0] = a64  # exact endpoints, whatever the rounding of sin
    rows[t == 1] = b64
    return rows.view(-1, *a.shape).to(a.dtype)


def latent_walk(
    generator: GANGenerator,
    steps: int,
    seed_a: int,
    seed_b: int | None = None,
    class_a: int | str | None = None,
    class_b: int | str | None = None,
    mode: str = "linear",
    device: str | torch.device = "cpu",
    class_names: Sequence[str] | None = None,
) -> np.ndarray:
    """``steps`` images ``(steps, C, H, W)`` from (seed_a, class_a) to (seed_b, class_b), in the output range.

    ``seed_b`` defaults to ``seed_a`` (a walk between classes only), ``class_b`` to ``class_a`` (between seeds
    only). The first and last images equal ``sample_images`` of (seed_a, class_a) and (seed_b, class_b). The latent
    is interpolated by ``mode``; the label embedding always linearly.
    """
    if mode not in WALK_MODES:
        raise InputError(f"Unknown walk mode '{mode}'; choose linear or slerp.")
    if isinstance(steps, bool) or not isinstance(steps, int | np.integer) or steps < 2:
        raise InputError(f"A latent walk needs at least 2 steps, got {steps!r}.")
    seed_b = seed_a if seed_b is None else seed_b
    index_a = resolve_class(generator, class_a, class_names)
    index_b = index_a if class_b is None else resolve_class(generator, class_b, class_names)
    target = resolve_device(device)
    z_a = generator.sample_latent(1, generator=seeded_generator(seed_a))[0]
    z_b = generator.sample_latent(1, generator=seeded_generator(seed_b))[0]
    t = interpolation_weights(int(steps))
    z = (lerp if mode == "linear" else slerp)(z_a, z_b, t)
    generator.to(target)
    embedding = None
    if index_a is not None:
        with torch.no_grad():
            pair = generator.embed_labels(torch.tensor([index_a, index_b], device=target))
        embedding = lerp(pair[0], pair[1], t.to(target))
    return run_generator(generator, z.to(target), embedding).float().cpu().numpy()
