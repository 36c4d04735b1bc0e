"""``--class NAME|INDEX`` of the GAN commands (sample, walk): an index when it is a number, else a class name."""

from __future__ import annotations


def class_argument(text: str | None) -> int | str | None:
    if text is None:
        return None
    return int(text) if text.strip().lstrip("-").isdigit() else text.strip()
