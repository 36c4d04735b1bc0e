"""The one place that chooses a torch device; nothing else in the library touches ``torch.cuda``."""

from __future__ import annotations

import torch

from MedGANSynthLib.errors import InputError

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


def resolve_device(name: str | torch.device = "auto") -> torch.device:
    """Turn ``"auto" | "cpu" | "cuda" | "cuda:N" | "mps"`` into a device that exists on this machine.

    ``"auto"`` picks CUDA, then Apple MPS, then the CPU, so a CPU-only user never gets a GPU default that crashes.
    """
    if isinstance(name, torch.device):
        name = str(name)
    text = (name or "auto").strip().lower()
    if text == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    if text == "cpu":
        return torch.device("cpu")
    if text == "mps":
        if not _mps_available():
            raise InputError("Device 'mps' was asked for but Apple Metal is not available here; use --device cpu.")
        return torch.device("mps")
    if text == "cuda" or text.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise InputError(
                f"Device '{name}' was asked for but this machine has no usable CUDA GPU; use --device auto or cpu."
            )
        device = torch.device(text)
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise InputError(
                f"Device '{name}' does not exist: this machine has {torch.cuda.device_count()} CUDA GPU(s)."
            )
        return device
    raise InputError(f"Unknown device '{name}'; choose auto, cpu, cuda, cuda:N or mps.")


def autocast_dtype(device: torch.device) -> torch.dtype | None:
    """Mixed-precision dtype for ``device``: bf16 where the GPU supports it, else fp16; None (no AMP) off CUDA."""
    if device.type != "cuda":
        return None
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())
