"""Which lines of the extension's requirements.txt Slicer's Python does not satisfy yet.

Used by the module before an action that needs them; importing nothing heavy, so it runs before torch is there.
"""

from __future__ import annotations

import importlib.metadata
import re
from pathlib import Path

SLICER_SHIPPED = ("numpy", "SimpleITK", "requests", "scipy", "pydicom")
"""Packages Slicer ships: never reinstalled, a different build can break Slicer itself."""


def requirement_check(text: str):
    """(package name, version test) of a requirement line; only presence is tested without ``packaging``."""
    try:
        from packaging.requirements import Requirement
    except ImportError:
        return re.split(r"[<>=!~;\[ ]", text, maxsplit=1)[0], lambda version: True
    requirement = Requirement(text)
    return requirement.name, lambda version: requirement.specifier.contains(version, prereleases=True)


def missing_requirements(requirements_file: Path, shipped=SLICER_SHIPPED) -> list[str]:
    """Requirement lines of ``requirements_file`` not installed in a matching version (``shipped`` excluded)."""
    skipped = {name.lower() for name in shipped}
    missing = []
    for line in Path(requirements_file).read_text().splitlines():
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        name, accepts = requirement_check(text)
        if name.lower() in skipped:
            continue
        try:
            installed = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            installed = None
        if installed is None or not accepts(installed):
            missing.append(text)
    return missing
