"""A non-editable install (a wheel, as `pip install .` builds) carries the bundled models and the licence, and
`medgansynth models` finds them outside the source tree (issue 26)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from MedGANSynthLib.weights.catalogue import file_sha256, load_catalogue

REPO = Path(__file__).resolve().parents[2]
MODELS = REPO / "Resources" / "Models"
# The installed copy must not see the source tree: no PYTHONPATH, and commands run outside the checkout.
CLEAN_ENV = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel pip builds from this checkout (without build isolation: offline, with this venv's setuptools)."""
    folder = tmp_path_factory.mktemp("wheel")
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-v",
                             "-w", str(folder), str(REPO)], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    deprecations = [line for line in (result.stdout + result.stderr).splitlines()
                    if "Deprecat" in line or "deprecat" in line]
    assert deprecations == []
    (built,) = folder.glob("*.whl")
    return built


@pytest.mark.slow
def test_wheel_holds_every_bundled_model_byte_for_byte_and_the_licence(wheel):
    entries = load_catalogue(MODELS)
    assert entries, "the source tree has no bundled models to ship"
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        for entry in entries:
            for file in (MODELS / entry.file, (MODELS / entry.file).with_suffix(".json")):
                member = f"MedGANSynthLib/bundled_models/{file.name}"
                assert member in names
                assert archive.read(member) == file.read_bytes()
        assert archive.read("MedGANSynthLib/bundled_models/catalogue.json") == (MODELS / "catalogue.json").read_bytes()
        (licence,) = [name for name in names if name.endswith(".dist-info/licenses/LICENSE")]
        assert archive.read(licence) == (REPO / "LICENSE").read_bytes()
        metadata = archive.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
        assert "License-Expression: Apache-2.0" in metadata


@pytest.mark.slow
def test_installed_wheel_lists_and_loads_the_models_from_anywhere(wheel, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300, env=CLEAN_ENV)
    python = venv / "bin" / "python"
    # The dependencies come from this environment's site-packages (a path entry, so its editable install of
    # MedGANSynthLib, a .pth hook there, is not picked up); MedGANSynthLib itself only from the wheel.
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True, env=CLEAN_ENV).stdout.strip())
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    # --ignore-installed: this environment's own (editable) MedGANSynthLib is visible through that path entry;
    # it must be neither taken for the wheel nor uninstalled.
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--ignore-installed",
                    str(wheel)], check=True, timeout=600, env=CLEAN_ENV)
    listing = subprocess.run([str(venv / "bin" / "medgansynth"), "models", "--json"], capture_output=True, text=True,
                             cwd=tmp_path, timeout=300, env=CLEAN_ENV)
    assert listing.returncode == 0, listing.stderr
    summary = json.loads(listing.stdout)
    assert Path(summary["folder"]).is_relative_to(site)
    assert [m["id"] for m in summary["models"]] == [e.id for e in load_catalogue(MODELS)]
    # The Python API resolves a bundled id (its SHA-256 checked against the catalogue) outside the source tree.
    code = ("from MedGANSynthLib.weights.catalogue import resolve_model; import MedGANSynthLib; "
            "print(MedGANSynthLib.__file__); print(resolve_model('radiogan-phantom', task='gan'))")
    api = subprocess.run([str(python), "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=300,
                         env=CLEAN_ENV)
    assert api.returncode == 0, api.stderr
    package_file, model = api.stdout.split()
    assert Path(package_file).is_relative_to(site) and Path(model).is_relative_to(site)
    assert file_sha256(model) == file_sha256(MODELS / "radiogan_phantom.safetensors")
