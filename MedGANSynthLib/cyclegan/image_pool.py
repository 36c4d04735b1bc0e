"""The history of generated images the CycleGAN discriminators learn from (Shrivastava et al. 2017; Zhu et al.
2017, section 4: "we update the discriminators using a history of generated images rather than the ones produced by
the latest generators ... an image buffer that stores the 50 previously created images").

Rule of the reference code, per image of a batch: while the pool holds fewer than ``size`` images, store it and
hand it on; once full, with probability 1/2 hand on a stored image chosen uniformly (and store the new one in its
place), otherwise hand on the new image. Random draws come from a torch.Generator the caller passes (the engine's
per-epoch noise generator), and the stored images are part of the training checkpoint, so a resumed run draws and
returns exactly what an uninterrupted one would.
"""

from __future__ import annotations

import torch

from MedGANSynthLib.errors import InputError

POOL_SIZE = 50


class ImagePool:
    def __init__(self, size: int = POOL_SIZE) -> None:
        if size < 0:
            raise InputError(f"The image pool size must be 0 or more (got {size}).")
        self.size = size
        self.images: list[torch.Tensor] = []

    def query(self, images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """The batch to show the discriminator for the generated ``images`` (N, C, H, W); detached."""
        images = images.detach()
        if self.size == 0:
            return images
        chosen = []
        for image in images:
            if len(self.images) < self.size:
                self.images.append(image.clone())
                chosen.append(image)
            elif float(torch.rand((), generator=generator)) < 0.5:
                slot = int(torch.randint(len(self.images), (), generator=generator))
                chosen.append(self.images[slot].to(image.device))
                self.images[slot] = image.clone()
            else:
                chosen.append(image)
        return torch.stack(chosen)

    def state(self) -> list[torch.Tensor]:
        return [image.detach().cpu() for image in self.images]

    def load_state(self, images: list[torch.Tensor], device: torch.device | str = "cpu") -> None:
        self.images = [image.to(device) for image in images][: self.size]
