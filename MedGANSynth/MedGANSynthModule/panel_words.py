"""The library's messages in the panel's words, and the panel's path fields as the Logic's arguments."""

from __future__ import annotations

import re

from slicer.i18n import tr as _

# The library's messages name command-line flags (or Logic arguments); the panel names its field to change instead.
PANEL_LABELS = {  # literal _() so Slicer's string extraction finds each label
    "--weight-kg": _("Patient weight"), "--dose-mbq": _("Injected dose"), "--injection-time": _("Injection time"),
    "--scan-time": _("Scan time"), "--spacing": _("Voxel size"), "--threshold": _("Lesion threshold"),
    "--model": _("Model"), "--device": _("Device"), "-o/--output": _("Output folder"), "--output": _("Output folder"),
    "--data": _("Dataset folder"), "--epochs": _("Epochs"), "--batch-size": _("Batch size"),
    "--lr": _("Learning rate"), "--init-weights": _("Start from"), "--count": _("Images"), "--seed": _("Seed"),
    # ... and the Logic's keyword arguments, which its messages name for Python users
    "weightKg": _("Patient weight"), "doseMBq": _("Injected dose"), "injectionTime": _("Injection time"),
    "scanTime": _("Scan time"),
}
_FLAG = re.compile(r"(?<![\w-])(" + "|".join(re.escape(flag) for flag in sorted(PANEL_LABELS, key=len, reverse=True))
                   + r")(?![\w-])")


def inPanelWords(message: str) -> str:
    """``message`` with each command-line flag replaced by the panel field it stands for, in quotes."""
    return _FLAG.sub(lambda match: f"'{PANEL_LABELS[match.group(1)]}'", message)


def pathOrNone(path) -> str | None:
    """A path parameter as text, None when empty ("." is what scenes saved by earlier versions hold for empty)."""
    text = str(path).strip() if path is not None else ""
    return None if text in ("", ".") else text
