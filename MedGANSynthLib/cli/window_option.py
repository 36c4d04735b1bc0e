"""``--window LOW,HIGH``: the intensity window of a training command (train, train-cyclegan)."""

from __future__ import annotations

import re

from MedGANSynthLib.errors import InputError


def parse_window(text: str) -> list[float]:
    match = re.fullmatch(r"\s*(-?[\d.]+(?:e-?\d+)?)\s*,\s*(-?[\d.]+(?:e-?\d+)?)\s*", text)
    if not match:
        raise InputError(f"--window must look like LOW,HIGH (e.g. 0,10), got '{text}'.")
    low, high = float(match.group(1)), float(match.group(2))
    if not low < high:
        raise InputError(f"--window needs LOW below HIGH, got '{text}'.")
    return [low, high]
