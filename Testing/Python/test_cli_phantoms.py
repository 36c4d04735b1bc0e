"""``medgansynth phantoms`` in-process (plus one subprocess check of the error path)."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import numpy as np

from MedGANSynthLib.cli.main import main
from MedGANSynthLib.io.volume_io import read_volume


def _rows(folder):
    with open(folder / "cases.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def test_wholebody_dataset(tmp_path, capsys):
    out = tmp_path / "wb"
    code = main(["phantoms", "-o", str(out), "--count", "3", "--seed", "4", "--classes", "normal,lung",
                 "--voxel-mm", "10", "--json", "--progress-lines"])
    assert code == 0
    printed = capsys.readouterr().out
    summary = json.loads(printed[printed.index("{\n"):])
    assert [case["label"] for case in summary["cases"]] == ["normal", "lung", "normal"]
    rows = _rows(out)
    assert [row["label"] for row in rows] == ["normal", "lung", "normal"]
    assert len({row["seed"] for row in rows}) == 3
    for row in rows:
        files = [out / p for p in row["paths"].split(";")]
        assert {f.name for f in files} == {"ct.nrrd", "pet.nrrd", "organs.nrrd", "lesions.nrrd", "manifest.json"}
        assert all(f.is_file() for f in files)
        manifest = json.loads((out / row["case_id"] / "manifest.json").read_text())
        assert manifest["seed"] == int(row["seed"]) and manifest["class"] == row["label"]
        ct, organs = read_volume(out / row["case_id"] / "ct.nrrd"), read_volume(out / row["case_id"] / "organs.nrrd")
        assert ct.same_grid(organs) and ct.spacing[0] == 500.0 / 50
        pet = read_volume(out / row["case_id"] / "pet.nrrd")
        assert pet.units == "SUV" and pet.spacing == (12.5, 12.5, 12.5)
    assert not [p for p in out.rglob(".*")]  # no temporary files left behind
    assert "MEDGANSYNTH-PROGRESS" in printed


def test_same_seed_same_dataset(tmp_path):
    for name in ("a", "b"):
        assert main(["phantoms", "-o", str(tmp_path / name), "--count", "2", "--seed", "9", "--voxel-mm", "12",
                     "--progress-lines"]) == 0
    for row in _rows(tmp_path / "a"):
        one = read_volume(tmp_path / "a" / row["case_id"] / "pet.nrrd").array
        two = read_volume(tmp_path / "b" / row["case_id"] / "pet.nrrd").array
        assert np.array_equal(one, two)


def test_brain_and_ct_slices(tmp_path):
    assert main(["phantoms", "-o", str(tmp_path / "brain"), "--kind", "brain", "--count", "2", "--stages", "AD,NC",
                 "--progress-lines"]) == 0
    rows = _rows(tmp_path / "brain")
    assert [row["label"] for row in rows] == ["AD", "NC"]
    assert read_volume(tmp_path / "brain" / rows[0]["case_id"] / "regions.nrrd").array.shape == (91, 109, 91)
    assert main(["phantoms", "-o", str(tmp_path / "ct"), "--kind", "ctslices", "--count", "5", "--size", "40",
                 "--progress-lines"]) == 0
    (row,) = _rows(tmp_path / "ct")
    assert read_volume(tmp_path / "ct" / row["case_id"] / "ct.nrrd").array.shape == (5, 40, 40)


def _exit_code(argv) -> int:
    """main() returns the exit code, argparse's own errors (e.g. a bad --kind choice) included."""
    return main(argv)


def test_bad_input_exits_2_with_one_line(tmp_path, capsys):
    for argv in (["--classes", "normal,melanoma"], ["--count", "0"], ["--kind", "mri"],
                 ["--kind", "brain", "--stages", "FTD"], ["--kind", "brain", "--voxel-mm", "8"]):
        assert _exit_code(["phantoms", "-o", str(tmp_path / "x"), *argv]) == 2
        err = capsys.readouterr().err.strip()
        assert err and "\n" not in err and "Traceback" not in err
    assert not (tmp_path / "x").exists()


def test_subprocess_error_is_one_line(tmp_path):
    result = subprocess.run([sys.executable, "-m", "MedGANSynthLib", "phantoms", "-o", str(tmp_path / "y"),
                             "--classes", "melanoma"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert "melanoma" in result.stderr


def test_quiet_shows_no_progress_bar_and_no_closing_line(tmp_path):
    """A real run: without --quiet tqdm draws its bar on stderr, with --quiet stderr stays empty (only errors and
    warnings would go there), and the files are the same."""
    def run(*extra):
        return subprocess.run([sys.executable, "-m", "MedGANSynthLib", "phantoms", "--kind", "ctslices", "--count",
                               "2", "--size", "40", *extra], capture_output=True, text=True, timeout=300)

    shown = run("-o", str(tmp_path / "shown"))
    assert shown.returncode == 0 and "ct slices: 100%|" in shown.stderr and "wrote" in shown.stderr
    quiet = run("-o", str(tmp_path / "quiet"), "--quiet")
    assert quiet.returncode == 0 and quiet.stderr == "" and quiet.stdout == ""
    assert sorted(p.name for p in (tmp_path / "quiet").iterdir()) == sorted(p.name for p in (tmp_path / "shown").iterdir())
