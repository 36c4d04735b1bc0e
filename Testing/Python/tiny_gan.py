"""Tiny GAN networks and data for training tests; they keep the library's GAN interface (networks/gan_base.py)."""

from __future__ import annotations

import torch
from torch import nn
from torch.utils.data import Dataset


class TinyGenerator(nn.Module):
    def __init__(self, latent_dim: int = 8, num_classes: int = 0, size: int = 8, channels: int = 1) -> None:
        super().__init__()
        self.latent_dim, self.num_classes = latent_dim, num_classes
        self.image_shape = (channels, size, size)
        self.latent_distribution = "normal"
        self.output_range = (-1.0, 1.0)
        self.embedding = nn.Embedding(num_classes, 4) if num_classes else None
        self.body = nn.Sequential(
            nn.Linear(latent_dim + (4 if num_classes else 0), 32), nn.BatchNorm1d(32), nn.ReLU(),
            nn.Linear(32, channels * size * size), nn.Tanh(),
        )

    def sample_latent(self, n, generator=None, device=None):
        noise = torch.randn((int(n), self.latent_dim), generator=generator)
        return noise.to(device) if device is not None else noise

    def forward(self, z, labels=None):
        if self.num_classes:
            z = torch.cat([z, self.embedding(labels)], dim=1)
        return self.body(z).view(z.shape[0], *self.image_shape)


class TinyDiscriminator(nn.Module):
    def __init__(self, num_classes: int = 0, size: int = 8, channels: int = 1, dropout: float = 0.2) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.image_shape = (channels, size, size)
        self.embedding = nn.Embedding(num_classes, size * size) if num_classes else None
        in_channels = channels + (1 if num_classes else 0)
        self.body = nn.Sequential(
            nn.Conv2d(in_channels, 8, 3, stride=2, padding=1), nn.LeakyReLU(0.2), nn.Dropout(dropout),
            nn.Flatten(), nn.Linear(8 * (size // 2) ** 2, 1),
        )

    def forward(self, images, labels=None):
        if self.num_classes:
            plane = self.embedding(labels).view(images.shape[0], 1, *images.shape[2:])
            images = torch.cat([images, plane], dim=1)
        return self.body(images).squeeze(1)


class BlobDataset(Dataset):
    """Bright square on a dark background (values in [-1, 1]), with labels when ``num_classes`` > 0."""

    def __init__(self, count: int = 24, size: int = 8, num_classes: int = 0, seed: int = 0) -> None:
        gen = torch.Generator().manual_seed(seed)
        self.images = torch.full((count, 1, size, size), -0.9)
        self.images[:, :, size // 4: 3 * size // 4, size // 4: 3 * size // 4] = 0.8
        self.images += 0.05 * torch.randn(self.images.shape, generator=gen)
        self.labels = torch.arange(count) % num_classes if num_classes else None

    def __len__(self) -> int:
        return self.images.shape[0]

    def __getitem__(self, index):
        item = {"image": self.images[index]}
        if self.labels is not None:
            item["label"] = self.labels[index]
        return item


def single_thread():
    """Generator for a fixture: one intra-op thread (tiny models on 2 shared cores run 100x slower with more)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def write_mip_folder(folder, classes: tuple[str, str]):
    """Six 20 x 12 grey PNG 'MIPs' alternating between two classes, with labels.csv; returns the folder."""
    import numpy as np
    import SimpleITK as sitk

    folder.mkdir()
    rows = []
    for index in range(6):
        picture = np.zeros((20, 12), dtype=np.uint8)
        picture[2 + index: 8 + index, 3:9] = 200
        sitk.WriteImage(sitk.GetImageFromArray(picture), str(folder / f"m{index}.png"))
        rows.append(f"m{index}.png,{classes[index % 2]}\n")
    (folder / "labels.csv").write_text("file,label\n" + "".join(rows))
    return folder


def write_ct_folder(folder, slices: int):
    """One 32 x 32 CT volume of `slices` axial slices (air around a soft-tissue square) as ct.nrrd; returns the folder."""
    import numpy as np

    from MedGANSynthLib.io.volume_io import write_volume
    from MedGANSynthLib.volume import Volume

    folder.mkdir()
    hu = np.full((slices, 32, 32), -1000.0, np.float32)
    hu[:, 8:24, 8:24] = 40.0
    write_volume(Volume(hu, spacing=(0.8, 0.8, 2.5), modality="CT", units="HU"), folder / "ct.nrrd")
    return folder


def recording_step_context(task, record: dict):
    """A real StepContext on the CPU for ``task`` whose ``optimize`` also stores, in ``record[name]``, a copy of every
    module's gradients right after that optimiser's update: what each update left behind."""
    from MedGANSynthLib.training.engine import StepContext

    class _Recording(StepContext):
        def optimize(self, name, loss):
            super().optimize(name, loss)
            record[name] = {f"{module_name}.{key}": None if value.grad is None else value.grad.clone()
                            for module_name, module in self.models.items()
                            for key, value in module.named_parameters()}

    models = task.modules()
    return _Recording(torch.device("cpu"), models, task.optimizers(),
                      {name: torch.amp.GradScaler("cpu", enabled=False) for name in models},
                      torch.Generator().manual_seed(0), amp_dtype=None)


def assert_generator_update_leaves_discriminator_gradients_alone(task, batch):
    """After one GAN step the discriminator's gradients are exactly those of its own update (the generator's update
    computed none), and every parameter asks for a gradient again."""
    record: dict = {}
    task.train_step(batch, recording_step_context(task, record))
    after_discriminator, after_generator = record["discriminator"], record["generator"]
    checked = [key for key in after_discriminator if key.startswith("discriminator.")]
    assert checked and all(after_discriminator[key] is not None for key in checked)
    for key in checked:
        assert torch.equal(after_generator[key], after_discriminator[key]), key
    assert all(parameter.requires_grad for module in task.modules().values() for parameter in module.parameters())
