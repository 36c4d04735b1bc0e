"""CycleGAN's learning-rate schedule (Zhu et al. 2017, section 4: "keep the same learning rate for the first 100
epochs and linearly decay the rate to zero over the next 100 epochs").

The reference code's rule, for the epoch with 0-based index ``epoch`` of a run with ``constant`` epochs at the base
rate followed by ``decay`` epochs: factor = 1 - max(0, epoch + 1 - constant) / (decay + 1). The first decaying
epoch runs at decay / (decay + 1) of the base rate and the last at 1 / (decay + 1); the rate would reach 0 one epoch
after the run ends. The factor depends on the epoch alone, so a resumed run gets the same rates.
"""

from __future__ import annotations

from MedGANSynthLib.errors import InputError


def learning_rate_factor(epoch: int, constant: int, decay: int) -> float:
    if constant < 0 or decay < 0 or epoch < 0:
        raise InputError(f"Learning-rate schedule needs epoch, constant and decay epochs >= 0 (got {epoch}, "
                         f"{constant}, {decay}).")
    return 1.0 - max(0, epoch + 1 - constant) / float(decay + 1)


def split_epochs(epochs: int, decay_epochs: int | None) -> tuple[int, int]:
    """(constant, decay) epochs: by default the second half of the run decays (the paper's 100 + 100)."""
    decay = epochs // 2 if decay_epochs is None else decay_epochs
    if not 0 <= decay <= epochs:
        raise InputError(f"--decay-epochs must be between 0 and --epochs ({epochs}); got {decay}.")
    return epochs - decay, decay
