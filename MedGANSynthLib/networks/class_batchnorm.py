"""Class-conditional BatchNorm: a generator's BatchNorm whose scale and shift depend on the class.

Conditional BatchNorm (de Vries et al. 2017; used in the generators of Miyato & Koyama 2018 and BigGAN) normalises
each channel as plain BatchNorm does, then scales by ``1 + gain(e)`` and shifts by ``shift(e)``, where ``e`` is the
class's label embedding. The class thereby reaches every resolution of the generator, not only its first map.
Starting from zero weights, the layer begins as plain BatchNorm without an affine part and learns what each class
changes. Taking the embedding rather than the label keeps latent walks between classes possible (they interpolate
embeddings).
"""

from __future__ import annotations

from torch import Tensor, nn


class ClassBatchNorm2d(nn.Module):
    def __init__(self, channels: int, embedding_dim: int, momentum: float) -> None:
        super().__init__()
        self.norm = nn.BatchNorm2d(channels, momentum=momentum, affine=False)
        self.gain = nn.Linear(embedding_dim, channels)
        self.shift = nn.Linear(embedding_dim, channels)
        self.reset_class_parameters()

    def reset_class_parameters(self) -> None:
        """Zero gain and shift: plain normalisation until training teaches the classes apart."""
        for layer in (self.gain, self.shift):
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    def forward(self, x: Tensor, embedding: Tensor) -> Tensor:
        scale = 1.0 + self.gain(embedding)[:, :, None, None]
        return self.norm(x) * scale + self.shift(embedding)[:, :, None, None]
