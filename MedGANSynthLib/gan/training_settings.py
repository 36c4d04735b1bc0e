"""Settings of a GAN training run (RadioGAN, brain-PET DCGAN, CT GAN) and the recipes of the bundled GANs.

Every ``medgansynth train`` flag is a field here (cli/settings_flags.py builds the flags); ``None`` means "the
paper's value for the architecture" (training/optimizers.py PAPER_DEFAULTS, networks/registry.py). No torch here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from MedGANSynthLib.training.augmentation_policy import parse_augment_policy
from MedGANSynthLib.training.settings import TrainingSettings, parse_low_high, setting

ARCHITECTURE_NAMES = ("radiogan", "brain_dcgan", "ct_gan")
ARCHITECTURE_TITLES = {"radiogan": "RadioGAN", "brain_dcgan": "brain DCGAN", "ct_gan": "CT GAN"}
LOSS_NAMES = ("bce", "wgan-gp", "hinge")
RADIOGAN = ("radiogan",)


@dataclass
class GanTrainingSettings(TrainingSettings):
    """One GAN training run; the field names are the flags of ``medgansynth train``."""

    architecture: str | None = setting(
        None, f"one of {', '.join(ARCHITECTURE_NAMES)} (--resume reads it from the run)")
    data: str | None = setting(
        None, "data folder: MIP PNG/NRRD images (radiogan), PET volumes (brain_dcgan) or CT volumes / DICOM folders "
        "(ct_gan); optional labels.csv (file,label)")
    labels: str | None = setting(None, "labels CSV with columns file,label (default: DATA/labels.csv if present)")
    stage: str | None = setting(None, "brain_dcgan: train on the volumes of this stage only (e.g. NC, MCI, AD)")
    epochs: int | None = setting(None, "epochs (paper: radiogan 300, brain_dcgan 500)")
    batch_size: int | None = setting(None, "images per step (paper: brain_dcgan 64, ct_gan 16)")
    lr: float | None = setting(None, "learning rate of both networks (default: the paper's); with --resume, the run "
                               "continues at this rate (e.g. a lower one to fine-tune)")
    lr_d: float | None = setting(None, "discriminator learning rate when it should differ from --lr (default: the "
                                 "paper's); with --resume, like --lr")
    loss: str = setting("bce", "adversarial loss (default bce)", choices=LOSS_NAMES)
    n_critic: int | None = setting(None, "discriminator steps per generator step (wgan-gp: 5)")
    image_size: str | None = setting(None, "image size HxW (e.g. 160x96) or N for square images")
    width: float | None = setting(None, "multiply every channel count of both networks (e.g. 0.25)")
    discriminator_norm: str | None = setting(
        None, "normalisation in the discriminator (default: the paper's; the bundled models use spectral, see the "
        "README)", choices=("batch", "spectral", "none"))
    auxiliary_classifier: float | None = setting(
        None, "radiogan: add an AC-GAN class head to the discriminator, its cross-entropy weighted by WEIGHT (e.g. 1); "
        "not in the paper", architectures=RADIOGAN, metavar="WEIGHT", run_file_names=("auxiliary_class_weight",))
    window: list[float] | None = setting(
        None, "intensity window mapped onto the generator's output range, in the data's units (default: radiogan SUV "
        "0,30 as in the paper; brain_dcgan SUV 0,15; ct_gan HU -1000,1000); e.g. 0,10 gives whole-body MIPs, mostly "
        "below SUV 3, more contrast; write a negative LOW as --window=-160,240", metavar="LOW,HIGH",
        parse=parse_low_high)
    discriminator_dropout: float | None = setting(
        None, "radiogan, ct_gan: dropout rate of the discriminator (paper: 0.25 and 0.6); --minibatch-std needs 0",
        architectures=("radiogan", "ct_gan"), metavar="P", note="the brain DCGAN has no dropout")
    minibatch_std: bool = setting(
        False, "let the discriminator see the batch's spread (fights mode collapse); not in the papers")
    class_projection: bool = setting(
        False, "radiogan: projection discriminator, which judges real-or-fake per class on its final features "
        "(Miyato & Koyama 2018); not in the paper", architectures=RADIOGAN)
    mismatched_labels: bool = setting(
        False, "radiogan: also show the discriminator real images with a wrong class as fakes (matching-aware "
        "discriminator, Reed et al. 2016), so it must check the class; not in the paper", architectures=RADIOGAN)
    hardest_mismatch: bool = setting(
        False, "radiogan, with --mismatched-labels: show each real image with the wrong class the discriminator "
        "currently finds most believable rather than a random one (hard negatives; one extra discriminator pass per "
        "class); not in the paper", architectures=RADIOGAN)
    class_batchnorm: bool = setting(
        False, "radiogan: class-conditional BatchNorm after every generator up-sampling, so the class reaches every "
        "resolution (de Vries et al. 2017); not in the paper", architectures=RADIOGAN)
    generator_upsampling: str | None = setting(
        None, "radiogan, brain_dcgan, ct_gan: the papers' transposed convolutions (default) or nearest resize + 3x3 "
        "conv, which cannot paint a checkerboard; not in the papers", choices=("transposed", "resize"),
        architectures=("radiogan", "brain_dcgan", "ct_gan"))
    generator_ema: float | None = setting(
        None, "keep an exponential moving average of the generator's weights with this decay per step (e.g. 0.999) "
        "and export it instead of the last weights; may be switched on when resuming (the average then starts from "
        "the resumed weights); 0 = off; not in the papers", metavar="DECAY")
    augment: str | None = setting(
        None, "differentiable augmentation (Zhao et al. 2020) of every image the discriminator sees, real and generated "
        "alike, in both networks' updates, against memorising a small data set: a comma-separated list of translation "
        "(shift by up to 1/8 of each side) and cutout (blank a rectangle of half each side), the background filling "
        "what they uncover; e.g. translation,cutout; no flip (it swaps the body's sides); not in the architectures' papers",
        metavar="POLICY", parse=parse_augment_policy)
    latent_coordinates: bool = setting(
        False, "ct_gan: give the fully convolutional generator each latent cell's position, so it can lay out a whole "
        "slice rather than a texture; not in the paper", architectures=("ct_gan",),
        note="the only fully convolutional generator")
    global_latent: int | None = setting(
        None, "ct_gan: N latent numbers shared by the whole latent map, for what the whole slice must agree on (body "
        "size); not in the paper", architectures=("ct_gan",), metavar="N",
        note="the only fully convolutional generator")
    init_weights: str | None = setting(
        None, "start from saved weights (a bundled model id such as radiogan-phantom, or a .safetensors file with its "
        "card) and fine-tune them on --data: the networks and the window come from the model card, the data must "
        "have the same classes; a lower --lr suits a fine-tune", metavar="MODEL", stored=False)
    no_amp: bool = setting(False, "no mixed precision on CUDA", stored=False)

    RESUME_MAY_CHANGE: ClassVar[tuple[str, ...]] = ("epochs", "lr", "lr_d", "generator_ema")
    RUN_FILE_KEYS: ClassVar[tuple[str, ...]] = (
        "architecture", "data", "labels", "stage", "loss", "lr", "n_critic", "batch_size", "seed", "checkpoint_every",
        "network_config")
    """Keys every GAN run.json has had (older ones lack some of today's fields; those take their defaults)."""


def _shared(**values: Any) -> dict[str, Any]:
    """The settings all bundled GANs share (Testing/Training/train_bundled_gans.sh)."""
    return {"discriminator_norm": "spectral", "minibatch_std": True, "checkpoint_every": 5, **values}


GAN_RECIPES: dict[str, dict[str, Any]] = {
    # Testing/Training/train_gans_v3.sh stages_translation: the bundled RadioGAN (session 33's epoch-700 stage, on
    # version-3 MIPs: dataset mip --phantom-version 3).
    "radiogan-phantom": _shared(architecture="radiogan", epochs=700, batch_size=32, discriminator_dropout=0.0,
                                loss="hinge", class_projection=True, generator_upsampling="resize",
                                class_batchnorm=True, mismatched_labels=True, window=[0.0, 10.0], lr=2e-4,
                                lr_d=2e-4, seed=11, augment="translation"),
    "ct-gan-phantom": _shared(architecture="ct_gan", epochs=40, image_size="40", width=0.5, discriminator_dropout=0.0,
                              latent_coordinates=True, global_latent=16, lr=5e-4, lr_d=2e-4, seed=14),
    # One model per stage: add --stage NC, MCI or AD.
    "brain-dcgan-phantom": _shared(architecture="brain_dcgan", epochs=75, batch_size=32, image_size="64", lr=5e-4,
                                   lr_d=2e-4, seed=12),
}
"""Named settings of the bundled GANs (``medgansynth train --recipe NAME --data DIR -o RUN``)."""
