"""Plausibility warnings kept on the node they concern, so the panel (or a script) can show them later."""

from __future__ import annotations

WARNINGS_ATTRIBUTE = "MedGANSynth.warnings"
"""Attribute of an SUV node holding its plausibility warnings, one a line, for the panel to show."""


def attach_warnings(node, warnings: list[str]) -> None:
    """Keep ``warnings`` on ``node`` (one a line); a node without warnings gets no attribute."""
    if warnings:
        node.SetAttribute(WARNINGS_ATTRIBUTE, "\n".join(warnings))
