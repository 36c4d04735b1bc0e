"""Start a GAN training run from saved weights: fine-tune a bundled (or earlier) model on new images.

The networks are rebuilt from the model card, so a warm start can only continue the architecture and settings the
weights were made with; the data must bring the same classes in the same order and be scaled by the same window,
or the model would learn new meanings for its old inputs. Both networks are loaded when the file holds the
discriminator (every model ``medgansynth train`` exports does); otherwise the discriminator starts from its initial
weights. Optimiser state is not in a weights file, so Adam's moments start at zero: a lower ``--lr`` suits a
fine-tune. Nothing is unpickled (safetensors + JSON only).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from torch import nn

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.weights.catalogue import resolve_model
from MedGANSynthLib.weights.safetensors_io import file_sha256, load_gan


@dataclass(frozen=True)
class WarmStart:
    """What a run records about the weights it started from (run.json and the model card)."""

    path: str
    sha256: str
    architecture: str
    network_config: dict[str, Any]
    class_names: list[str]
    window: list[float]
    window_units: str  # "SUV", "HU", or "" for grey values (PNG)
    epochs: int

    def record(self) -> dict[str, Any]:
        return {"path": self.path, "sha256": self.sha256, "epochs": self.epochs}


def read_warm_start(model: str) -> WarmStart:
    """The card of ``model`` (a catalogue id or a .safetensors path), checked against its weights file."""
    path = resolve_model(model, task="gan")
    _, _, card = load_gan(path, with_discriminator=False)  # verifies checksum, card and tensor shapes
    return WarmStart(path=str(path), sha256=file_sha256(path), architecture=card.architecture,
                     network_config=dict(card.config), class_names=list(card.class_names),
                     window=[float(card.normalisation["low"]), float(card.normalisation["high"])],
                     window_units=card.units, epochs=int(card.epochs))


def check_data_matches(start: WarmStart, class_names: list[str], window_low_high: tuple[float, float],
                       conditional: bool) -> None:
    """Refuse data whose classes or intensity window differ from the ones the weights learned."""
    if conditional and list(class_names) != start.class_names:
        raise InputError(f"The data's classes {list(class_names)} differ from the model's {start.class_names}; "
                         "a fine-tune needs the same classes in the same order (rename them in labels.csv).")
    if [float(v) for v in window_low_high] != start.window:
        low, high = start.window
        raise InputError(f"The data are scaled by the window {list(window_low_high)} but the model learned "
                         f"{start.window}; pass --window={low:g},{high:g} (or train from scratch).")


def load_warm_start_weights(start: WarmStart, generator: nn.Module, discriminator: nn.Module) -> bool:
    """Copy the saved weights into freshly built networks; True when the discriminator was in the file too."""
    saved_generator, saved_discriminator, _ = load_gan(start.path)
    generator.load_state_dict(saved_generator.state_dict())
    if saved_discriminator is not None:
        discriminator.load_state_dict(saved_discriminator.state_dict())
    return saved_discriminator is not None
