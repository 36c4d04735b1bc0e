"""Small untrained models saved exactly as the library saves real ones (safetensors + JSON card), for Logic tests.

Their outputs are meaningless; tests compare what the Logic shows with what the library computes from the same
file, so only the plumbing (files, child processes, nodes, geometry) is under test.
"""

from __future__ import annotations

from pathlib import Path

import torch

RADIOGAN = {"image_height": 20, "image_width": 12, "generator_base_channels": 16,
            "discriminator_channels": [4] * 8, "embedding_dim": 6}
RADIOGAN_CLASSES = ["normal", "head_neck", "oesophagus", "lung", "lymphoma"]
BRAIN_DCGAN = {"image_size": 32, "generator_base_channels": 16, "discriminator_channels": [4, 4, 8, 8, 8]}


def _with_batch_statistics(generator, labels=None):
    """BatchNorm running statistics of exactly one batch (as after training), so samples differ visibly."""
    norms = [m for m in generator.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    for norm in norms:
        norm.momentum = None  # cumulative average: one batch gives exactly its statistics
    with torch.no_grad():
        generator(generator.sample_latent(16), labels)
    for norm in norms:
        norm.momentum = 0.1
    return generator


def save_tiny_gan(folder: Path, architecture: str = "radiogan", seed: int = 3) -> Path:
    """A small RadioGAN (5 classes, SUV 0-30) or single-stage brain DCGAN (AD, SUV 0-15); returns the .safetensors."""
    from MedGANSynthLib.networks import build_gan
    from MedGANSynthLib.weights import ModelCard, phantom_training_data, save_model

    torch.manual_seed(seed)
    config, classes, high = ((RADIOGAN, RADIOGAN_CLASSES, 30) if architecture == "radiogan"
                             else (BRAIN_DCGAN, ["AD"], 15))
    generator = build_gan(architecture, config)[0]
    _with_batch_statistics(generator, torch.arange(16) % 5 if generator.num_classes else None)
    card = ModelCard(architecture=architecture, config={}, class_names=classes,
                     normalisation={"kind": "suv", "low": 0, "high": high, "output_range": [-1, 1]},
                     training_data=phantom_training_data({"images": 16}))
    tensors, _ = save_model({"generator": generator}, card, Path(folder) / architecture)
    return tensors


def save_tiny_virtual_pet(folder: Path, seed: int = 0, working_pixel_mm: float | None = None) -> Path:
    """A small FCN-4s + pix2pix generator pair as a virtual-PET model; returns the .safetensors."""
    from MedGANSynthLib.networks.fcn4s import FCN4s, FCN4sConfig
    from MedGANSynthLib.networks.unet_pix2pix import UNetConfig, UNetGenerator
    from MedGANSynthLib.virtual_pet.weights import save_virtual_pet
    from MedGANSynthLib.weights import phantom_training_data

    torch.manual_seed(seed)
    fcn = FCN4s(FCN4sConfig(in_channels=1, width=0.0625, fc_channels=128, fc6_kernel=3,
                            output_activation="sigmoid"))
    gan = UNetGenerator(UNetConfig(in_channels=1, depth=4, width=0.125))
    tensors, _ = save_virtual_pet(fcn, gan, Path(folder) / "virtual_pet", phantom_training_data({"cases": 1}),
                                  working_pixel_mm=working_pixel_mm)
    return tensors


def phantoms_with_untrained_virtual_pet(root: Path) -> tuple[Path, Path]:
    """Two 8 mm whole-body phantoms (lymphoma, lung; seed 9) in root/data and an untrained model built the way
    ``train-virtual-pet`` builds its networks; returns the root and the model's .safetensors."""
    from MedGANSynthLib.cli.main import main
    from MedGANSynthLib.training.engine import seed_everything
    from MedGANSynthLib.virtual_pet.training_task import VirtualPETNetworkSettings, build_networks
    from MedGANSynthLib.virtual_pet.weights import save_virtual_pet
    from MedGANSynthLib.weights.model_card import phantom_training_data

    assert main(["phantoms", "--kind", "wholebody", "--phantom-version", "1",
                 "--count", "2", "--seed", "9", "--voxel-mm", "8",
                 "--classes", "lymphoma,lung", "-o", str(root / "data")]) == 0
    seed_everything(0)
    fcn, generator, _ = build_networks(VirtualPETNetworkSettings(width_fcn=0.0625, fc_channels=256, fc6_kernel=3,
                                                                 width_gan=0.0625, depth=4))
    model, _ = save_virtual_pet(fcn.eval(), generator.eval(), root / "model",
                                phantom_training_data({"cases": 0}, "untrained test model"), working_pixel_mm=16.0)
    return root, model
