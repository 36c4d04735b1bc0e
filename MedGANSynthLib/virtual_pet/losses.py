"""Losses of the virtual-PET networks (Ben-Cohen et al., section 2.4 "Loss Weights").

The paper weights the pixel-wise L2 loss by the true SUV of each pixel, so the rare high-uptake pixels (malignant
tumours, SUV > 2.5) dominate the gradient although most pixels are low. A weight of exactly SUV would give air
(SUV 0) no weight at all, so the network could put anything outside the body; we therefore use

    w = weight_offset + clip(true_SUV, 0, max_suv)        (defaults: weight_offset = 1, max_suv = 20)
    loss = sum(w * (pred - target)^2) / sum(w)

over every pixel of the batch: background still counts (w = 1), a tumour pixel of SUV 8 counts 9 times as much,
the clip at the paper's SUV range [0, 20] bounds the weight, and dividing by the sum of weights keeps the loss on
the scale of a mean squared error whatever the uptake in the batch.

Not in the paper, 1 by default: ``weight_power`` raises the weight to a power, w = (offset + SUV)^p. Lesions cover a
few hundred of a scan's millions of voxels, so with p = 1 they carry well under 1 % of the loss and our phantom
models learned organs but not lesions; p = 2 makes a pixel of SUV 8 count 81 times as much as air, not 9 times.

Not in the paper, off by default: ``predicted_suv`` makes the weight symmetric, w = (offset + max(true, predicted))^p.
The paper's weight comes from the truth alone, so a hot spot drawn where the truth is cold costs the weight of cold
tissue while a missed lesion costs the weight of the lesion; minimising that favours wide hot halos around anything
that might be hot (our power-2 models drew organ-sized hot regions and many false lesions). With the larger of the
two, a false hot spot costs as much as a missed one of the same SUV.

Not in the paper, off by default (factor 1): ``overshoot_factor`` F multiplies the weight of every pixel whose truth
is below the lesion threshold T (default the paper's SUV 2.5) while the prediction is above it, so a hot spot drawn
where the truth is not hot costs F times as much. The symmetric weight alone did not stop our models painting
normal muscle, fat and bowel hot (58 % of their false positives on held-out phantoms lay in muscle, predicted SUVmax
~3.6 where the truth is ~0.8): with power 2 such a pixel weighs (1 + 3.6)^2 = 21, a missed SUV-8 lesion pixel 81.
F raises the cost of exactly the error that makes a false lesion (crossing T on cold tissue) and leaves lesions,
under-calls and cold tissue drawn cold weighted as before.

Adversarial term, ``gan_loss``: "bce" (default; pix2pix and the paper) or "lsgan", least squares (Mao et al. 2017),
as pix2pix's reference code offers it (--gan_mode lsgan): the PatchGAN's raw patch outputs are pulled towards 1 for
real and 0 for generated pairs by squared error, and the generator pulls them towards 1. Mao et al.'s reason: the
sigmoid's flat tails. A BCE PatchGAN that separates the pairs well saturates (measured, session 20: its loss fell to
~5e-5 by epoch 3), and then neither it nor the generator learns how far the generated patches are from real ones;
the squared error on the raw outputs grows with that distance. The reconstruction term is the same either way.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from MedGANSynthLib.cyclegan.losses import lsgan_discriminator_loss, lsgan_generator_loss
from MedGANSynthLib.errors import InputError
from MedGANSynthLib.training.losses import bce_d_loss, bce_g_loss
from MedGANSynthLib.virtual_pet.lesions import PAPER_THRESHOLD_SUV
from MedGANSynthLib.virtual_pet.training_settings import GAN_LOSSES

SUV_RANGE_MAX = 20.0
"""Upper end of the paper's SUV window [0, 20]."""
PIX2PIX_RECONSTRUCTION_WEIGHT = 100.0
"""lambda of pix2pix (Isola et al.) for its reconstruction term; the paper keeps pix2pix's settings."""


def suv_weights(true_suv: torch.Tensor, weight_offset: float = 1.0, max_suv: float = SUV_RANGE_MAX,
                weight_power: float = 1.0) -> torch.Tensor:
    return (weight_offset + true_suv.clamp(0.0, max_suv)) ** weight_power


def suv_weighted_l2(
    pred: torch.Tensor,
    target_suv_normalised: torch.Tensor,
    true_suv: torch.Tensor,
    weight_offset: float = 1.0,
    max_suv: float = SUV_RANGE_MAX,
    weight_power: float = 1.0,
    predicted_suv: torch.Tensor | None = None,
    symmetric: bool = True,
    overshoot_factor: float = 1.0,
    overshoot_threshold: float = PAPER_THRESHOLD_SUV,
) -> torch.Tensor:
    """Squared error weighted by ``(weight_offset + clip(true_suv, 0, max_suv))^weight_power``, over the sum of weights.

    ``pred`` and ``target_suv_normalised`` are in the network's normalised units; ``true_suv`` is the same target in
    SUV (the weight must come from the true uptake, not the normalised value). All three have the same shape.
    ``predicted_suv`` (the prediction in SUV, same shape): with ``symmetric``, weigh by the larger of the true and
    predicted SUV; with ``overshoot_factor`` F != 1, multiply by F the weight of the pixels whose truth is below
    ``overshoot_threshold`` and prediction above it (:func:`overshoot_weights`; both need ``predicted_suv``).
    """
    weighting_suv = true_suv if predicted_suv is None or not symmetric else torch.maximum(true_suv, predicted_suv)
    weights = suv_weights(weighting_suv.detach(), weight_offset, max_suv, weight_power)
    if overshoot_factor != 1.0:
        if predicted_suv is None:
            raise InputError("An overshoot factor needs the prediction in SUV (predicted_suv).")
        weights = overshoot_weights(weights, true_suv, predicted_suv, overshoot_factor, overshoot_threshold)
    return (weights * (pred - target_suv_normalised) ** 2).sum() / weights.sum()


def overshoot_weights(weights: torch.Tensor, true_suv: torch.Tensor, predicted_suv: torch.Tensor, factor: float,
                      threshold: float) -> torch.Tensor:
    """``weights`` times ``factor`` where the truth is below ``threshold`` and the (detached) prediction above it."""
    overshoot = (true_suv.detach() < threshold) & (predicted_suv.detach() > threshold)
    return torch.where(overshoot, weights * factor, weights)


def adversarial_bce(logits: torch.Tensor, real: bool) -> torch.Tensor:
    """pix2pix's GAN term (the same BCE-with-logits as ``training.losses``): binary cross-entropy of the PatchGAN logits against all-real or all-fake labels."""
    labels = torch.ones_like(logits) if real else torch.zeros_like(logits)
    return F.binary_cross_entropy_with_logits(logits, labels)


def generator_loss(
    fake_logits: torch.Tensor,
    reconstruction: torch.Tensor,
    reconstruction_weight: float = PIX2PIX_RECONSTRUCTION_WEIGHT,
    gan_loss: str = "bce",
) -> torch.Tensor:
    """Fool the discriminator and stay close to the real PET: ``reconstruction`` is the SUV-weighted L2 of
    :func:`suv_weighted_l2` (paper 2.3), passed in so the training step computes it once for the loss and its log.
    The adversarial term: BCE -log D(G(x)), or with "lsgan" mean((D(G(x)) - 1)^2)."""
    adversarial = lsgan_generator_loss if _checked(gan_loss) == "lsgan" else bce_g_loss
    return adversarial(fake_logits) + reconstruction_weight * reconstruction


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor, gan_loss: str = "bce") -> torch.Tensor:
    """Half the sum of the real and fake terms (pix2pix halves D's loss to slow it relative to G): BCE, or with
    "lsgan" 0.5 * (mean((D(real) - 1)^2) + mean(D(fake)^2))."""
    if _checked(gan_loss) == "lsgan":
        return lsgan_discriminator_loss(real_logits, fake_logits)  # halved there, as here
    return 0.5 * bce_d_loss(real_logits, fake_logits)


def _checked(gan_loss: str) -> str:
    if gan_loss not in GAN_LOSSES:
        raise InputError(f"--gan-loss must be one of {', '.join(GAN_LOSSES)} (got '{gan_loss}').")
    return gan_loss
