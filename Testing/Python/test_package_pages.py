"""The library's own pages (MedGANSynthLib/**/README.md) link only what exists, and the pictures they show stay as
small as the scripts that draw them promise, so a renamed or regenerated picture cannot leave a page broken."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PAGES = sorted((REPO / "MedGANSynthLib").rglob("README.md"))
PICTURE_LIMIT_BYTES = 300 * 1024  # Testing/Training/phantom_pictures.py: "each < 300 KB"


def local_targets(page: Path) -> list[Path]:
    """The files the page's Markdown links and pictures point at, relative to the page; web links left out."""
    targets = []
    for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text(encoding="utf-8")):
        path = target.partition("#")[0]
        if path and not re.match(r"[a-z]+:", path):
            targets.append(page.parent / path)
    return targets


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(REPO)))
def test_every_local_link_of_a_package_page_exists(page):
    missing = [str(target) for target in local_targets(page) if not target.exists()]
    assert not missing, f"{page.relative_to(REPO)} links what does not exist: {missing}"


def test_the_phantom_page_shows_the_default_version_once_per_lesion_class_each_under_300_kb():
    """When the default phantom version changes, the page must show pictures of the new one (regenerate them with
    Testing/Training/phantom_pictures.py)."""
    from MedGANSynthLib.phantoms.lesions import LESION_CLASSES
    from MedGANSynthLib.phantoms.versions import DEFAULT_PHANTOM_VERSION

    page = REPO / "MedGANSynthLib" / "phantoms" / "README.md"
    pictures = {target.name: target for target in local_targets(page) if target.suffix == ".png"}
    expected = {f"phantom_v{DEFAULT_PHANTOM_VERSION}_{name}.png" for name in LESION_CLASSES}
    assert expected <= set(pictures), f"{page.name} lacks {sorted(expected - set(pictures))}"
    for picture in pictures.values():
        assert picture.stat().st_size < PICTURE_LIMIT_BYTES, f"{picture.name}: {picture.stat().st_size} bytes"
