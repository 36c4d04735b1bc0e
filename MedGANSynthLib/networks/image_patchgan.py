"""The 70x70 PatchGAN of CycleGAN: the layout of :mod:`.patchgan` (C64-C128-C256-C512-C1, 4x4 convolutions, the
first three of stride 2), judging ONE image rather than a (CT, PET) pair, with InstanceNorm instead of BatchNorm
as CycleGAN uses (Zhu et al. 2017, 7.2: "we use InstanceNorm ... C64 without InstanceNorm", LeakyReLU 0.2).
Its width and depth come from :class:`~.patchgan.PatchGANConfig` (``ct_channels`` = the image's channels,
``pet_channels`` unused), so :func:`~.patchgan.receptive_field` holds for it too.
"""

from __future__ import annotations

import torch
from torch import nn

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.networks.patchgan import PatchGANConfig, patch_layers


class ImagePatchGAN(nn.Module):
    def __init__(self, config: PatchGANConfig | None = None) -> None:
        super().__init__()
        self.config = config or PatchGANConfig()
        cfg = self.config
        if cfg.ct_channels < 1 or cfg.n_strided < 1 or not cfg.width > 0:
            raise InputError("The PatchGAN needs image channels, at least one strided layer and width > 0.")
        self.model = patch_layers(cfg, cfg.ct_channels, nn.InstanceNorm2d, bias_after_first=True)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """A map of raw scores, one per 70x70 patch (least-squares losses compare it with 1 and 0)."""
        return self.model(images)
