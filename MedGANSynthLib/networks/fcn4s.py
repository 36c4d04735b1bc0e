"""FCN-4s on a VGG-16 backbone: the regression network of the virtual-PET system (Ben-Cohen et al.).

The paper decapitates VGG-16, turns its fully connected layers into convolutions, appends a 1x1 score layer and
upsamples in the network, combining coarse and fine information through skips from pool4 and pool3 (as FCN-8s)
plus one more from pool2, so the last in-network upsampling starts from stride 4 ("4s") and is a x4 upsampling.

Differences from the Caffe FCN, chosen on purpose:

* The input is zero-padded at the bottom/right to a multiple of 32 and the output cropped back, instead of FCN's
  100-pixel padding and crop offsets; zero is air after the [-160, 240] HU window, so padding adds only air.
* fc6 uses "same" padding, so every stride level has exactly size/stride pixels and the skips add without crops.
* ``width`` scales every channel count so a CPU-sized model exists; ``width=1, fc_channels=4096, fc6_kernel=7``
  is the paper's network. Trained from scratch by default; :func:`load_vgg16_weights` optionally loads a local
  torchvision-format VGG-16 file (never downloads).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from MedGANSynthLib.errors import InputError

# VGG-16 "configuration D": (number of 3x3 convs, channels) per block, each block ends in a 2x2 max-pool.
VGG16_BLOCKS: tuple[tuple[int, int], ...] = ((2, 64), (2, 128), (3, 256), (3, 512), (3, 512))
OUTPUT_ACTIVATIONS = ("none", "sigmoid", "tanh")


@dataclass
class FCN4sConfig:
    in_channels: int = 1
    """CT slices fed as channels (2.5-D): 1, or an odd number of neighbouring slices centred on the target."""
    out_channels: int = 1
    width: float = 1.0
    """Multiplies every VGG channel count (0.125 gives a CPU-sized model)."""
    fc_channels: int = 4096
    """Channels of fc6/fc7 (VGG-16: 4096); scaled by ``width`` too."""
    fc6_kernel: int = 7
    dropout: float = 0.5
    output_activation: str = "none"
    """"none" regresses normalised SUV in [0, 1] directly (clipped at inference); "sigmoid" or "tanh" bound it."""

    def channels(self, base: int) -> int:
        return max(1, int(round(base * self.width)))

    def validate(self) -> None:
        if self.in_channels < 1 or self.out_channels < 1:
            raise InputError("FCN-4s needs at least one input and one output channel.")
        if self.width <= 0 or self.fc_channels < 1 or self.fc6_kernel < 1 or self.fc6_kernel % 2 == 0:
            raise InputError("FCN-4s needs width > 0, fc_channels >= 1 and an odd fc6_kernel.")
        if self.output_activation not in OUTPUT_ACTIVATIONS:
            raise InputError(f"Unknown output activation '{self.output_activation}'; use one of {OUTPUT_ACTIVATIONS}.")

    @property
    def output_range(self) -> tuple[float, float]:
        """The interval the network's output maps onto SUV [0, 20]."""
        return (-1.0, 1.0) if self.output_activation == "tanh" else (0.0, 1.0)


def bilinear_kernel(channels: int, kernel_size: int) -> torch.Tensor:
    """Weights that make a transposed convolution a per-channel bilinear upsampler (FCN's initialisation)."""
    factor = (kernel_size + 1) // 2
    centre = factor - 1 if kernel_size % 2 == 1 else factor - 0.5
    ramp = 1.0 - torch.abs(torch.arange(kernel_size, dtype=torch.float64) - centre) / factor
    kernel2d = (ramp[:, None] * ramp[None, :]).float()
    weight = torch.zeros(channels, channels, kernel_size, kernel_size)
    for channel in range(channels):
        weight[channel, channel] = kernel2d
    return weight


def _upsampler(channels: int, factor: int) -> nn.ConvTranspose2d:
    """Exact x``factor`` learned upsampling (kernel 2f, stride f, padding f/2), initialised bilinear."""
    layer = nn.ConvTranspose2d(channels, channels, 2 * factor, stride=factor, padding=factor // 2, bias=False)
    with torch.no_grad():
        layer.weight.copy_(bilinear_kernel(channels, 2 * factor))
    return layer


def _vgg_block(in_channels: int, out_channels: int, n_convs: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    for index in range(n_convs):
        layers += [nn.Conv2d(in_channels if index == 0 else out_channels, out_channels, 3, padding=1),
                   nn.ReLU(inplace=True)]
    layers.append(nn.MaxPool2d(2, stride=2))
    return nn.Sequential(*layers)


class FCN4s(nn.Module):
    """VGG-16 FCN with skips from pool2, pool3 and pool4; output at the input's size, one channel of SUV."""

    STRIDE = 32

    def __init__(self, config: FCN4sConfig | None = None) -> None:
        super().__init__()
        self.config = config or FCN4sConfig()
        self.config.validate()
        cfg = self.config
        blocks, channels_in = [], cfg.in_channels
        for n_convs, base in VGG16_BLOCKS:
            blocks.append(_vgg_block(channels_in, cfg.channels(base), n_convs))
            channels_in = cfg.channels(base)
        self.block1, self.block2, self.block3, self.block4, self.block5 = blocks
        fc = cfg.channels(cfg.fc_channels)
        self.fc6 = nn.Sequential(nn.Conv2d(channels_in, fc, cfg.fc6_kernel, padding=cfg.fc6_kernel // 2),
                                 nn.ReLU(inplace=True), nn.Dropout2d(cfg.dropout))
        self.fc7 = nn.Sequential(nn.Conv2d(fc, fc, 1), nn.ReLU(inplace=True), nn.Dropout2d(cfg.dropout))
        out = cfg.out_channels
        self.score_fr = nn.Conv2d(fc, out, 1)
        self.score_pool4 = nn.Conv2d(cfg.channels(512), out, 1)
        self.score_pool3 = nn.Conv2d(cfg.channels(256), out, 1)
        self.score_pool2 = nn.Conv2d(cfg.channels(128), out, 1)
        self.up_to_pool4 = _upsampler(out, 2)
        self.up_to_pool3 = _upsampler(out, 2)
        self.up_to_pool2 = _upsampler(out, 2)
        self.up_to_input = _upsampler(out, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        height, width = x.shape[-2:]
        x = F.pad(x, (0, (-width) % self.STRIDE, 0, (-height) % self.STRIDE))
        pool1 = self.block1(x)
        pool2 = self.block2(pool1)
        pool3 = self.block3(pool2)
        pool4 = self.block4(pool3)
        pool5 = self.block5(pool4)
        score = self.score_fr(self.fc7(self.fc6(pool5)))                 # stride 32
        score = self.up_to_pool4(score) + self.score_pool4(pool4)        # stride 16
        score = self.up_to_pool3(score) + self.score_pool3(pool3)        # stride 8
        score = self.up_to_pool2(score) + self.score_pool2(pool2)        # stride 4: the extra skip of FCN-4s
        score = self.up_to_input(score)[..., :height, :width]
        if self.config.output_activation == "sigmoid":
            return torch.sigmoid(score)
        if self.config.output_activation == "tanh":
            return torch.tanh(score)
        return score

    def vgg_convolutions(self) -> list[nn.Conv2d]:
        """The 13 VGG-16 convolutions in torchvision order."""
        blocks = (self.block1, self.block2, self.block3, self.block4, self.block5)
        return [layer for block in blocks for layer in block if isinstance(layer, nn.Conv2d)]


def load_vgg16_weights(model: FCN4s, path: str | Path) -> list[str]:
    """Copy a LOCAL torchvision-format VGG-16 file (``features.N.*``, optional ``classifier.0/3.*``) into ``model``.

    Reads ``.safetensors`` with safetensors, anything else with ``torch.load(weights_only=True)``; never downloads
    and never unpickles arbitrary objects. The model must have ``width=1``. RGB first-layer filters are summed over
    colour and shared equally by the ``in_channels`` CT channels, so a grey image gives the response VGG gave to it.
    fc6/fc7 are loaded only when shapes match (``fc_channels=4096, fc6_kernel=7``). Returns the loaded layer names.
    """
    state = _read_state_dict(Path(path))
    convs = model.vgg_convolutions()
    feature_indices = sorted({int(key.split(".")[1]) for key in state if key.startswith("features.")})
    if len(feature_indices) != len(convs):
        raise InputError(f"{path} does not hold the 13 convolutions of a torchvision VGG-16 ('features.N.weight').")
    loaded = []
    with torch.no_grad():
        for index, conv in zip(feature_indices, convs, strict=True):
            weight = state[f"features.{index}.weight"].float()
            if conv is convs[0] and weight.shape[1] != conv.in_channels:
                weight = weight.sum(dim=1, keepdim=True).repeat(1, conv.in_channels, 1, 1) / conv.in_channels
            _copy_checked(conv.weight, weight, path)
            _copy_checked(conv.bias, state[f"features.{index}.bias"].float(), path)
            loaded.append(f"features.{index}")
        for key, layer in (("classifier.0", model.fc6[0]), ("classifier.3", model.fc7[0])):
            if f"{key}.weight" not in state:
                continue
            weight = state[f"{key}.weight"].float()
            if weight.numel() != layer.weight.numel():
                continue
            layer.weight.copy_(weight.reshape(layer.weight.shape))
            layer.bias.copy_(state[f"{key}.bias"].float())
            loaded.append(key)
    return loaded


def _read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    if not path.is_file():
        raise InputError(f"VGG-16 weights file {path} does not exist; give the path of a local file.")
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(str(path))
    state = torch.load(str(path), map_location="cpu", weights_only=True)
    if not isinstance(state, dict):
        raise InputError(f"{path} is not a state dict of tensors.")
    return state


def _copy_checked(target: torch.Tensor, source: torch.Tensor, path: str | Path) -> None:
    if tuple(target.shape) != tuple(source.shape):
        raise InputError(
            f"{path} has a layer of shape {tuple(source.shape)} where the FCN-4s expects {tuple(target.shape)}; "
            "VGG-16 weights need width=1."
        )
    target.copy_(source)


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def float32_megabytes(model: nn.Module) -> float:
    return parameter_count(model) * 4 / 1e6


__all__ = ["FCN4s", "FCN4sConfig", "load_vgg16_weights", "bilinear_kernel", "parameter_count",
           "float32_megabytes"]
