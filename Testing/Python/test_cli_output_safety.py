"""Output safety of the CLI (issue 26): every command writes through one staged, locked, all-or-nothing output set.

Real commands on real files, in process (``main([...])``) or as real subprocesses for Ctrl-C and kill -9. The
tests run as root on the CI machine, and root ignores file permissions, so "not writable" is tested with what
root cannot write either: a read-only mount, a full file system (both tiny tmpfs mounts, skipped with the reason
when this machine may not mount), a path inside /proc, and a file where a folder has to be.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from MedGANSynthLib.cli.main import main
from MedGANSynthLib.io import read_volume, write_volume
from MedGANSynthLib.io.output_set import LOCK_TAG, STAGING_TAG
from MedGANSynthLib.volume import Volume

REPO = Path(__file__).resolve().parents[2]
SLOW_PHANTOMS = ["phantoms", "--kind", "wholebody", "--phantom-version", "1", "--count", "50", "--voxel-mm", "8"]


def _suv_volume(path: Path, value: float = 2.0, units: str = "SUV") -> Path:
    array = np.full((6, 8, 10), value, np.float32)
    array[3, 4, 5] = 3 * value
    write_volume(Volume(array, spacing=(2.0, 2.0, 2.0), modality="PT", units=units), path)
    return path


def _one_error_line(capsys, *words: str) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    for word in words:
        assert word in err, err
    return err


def _hidden_siblings(folder: Path) -> list[str]:
    return sorted(entry.name for entry in folder.iterdir() if entry.name.startswith("."))


@pytest.fixture
def suv_file(tmp_path) -> Path:
    return _suv_volume(tmp_path / "pet.nrrd")


# ---- existing outputs, --overwrite, closing line ------------------------------------------------------------
def test_existing_file_is_refused_then_replaced_with_overwrite(tmp_path, suv_file, capsys):
    out = tmp_path / "mip.nrrd"
    out.write_text("an earlier result")
    assert main(["mip", str(suv_file), "-o", str(out)]) == 2
    _one_error_line(capsys, "-o/--output", "already exists", "--overwrite")
    assert out.read_text() == "an earlier result"
    assert main(["mip", str(suv_file), "-o", str(out), "--overwrite"]) == 0
    assert read_volume(out).array.max() == pytest.approx(6.0)  # the hot voxel, 3 x SUV 2
    assert f"wrote {out}" in capsys.readouterr().err
    assert _hidden_siblings(tmp_path) == []  # no staging, no lock left


def test_overwriting_a_folder_replaces_the_whole_set(tmp_path, capsys):
    out = tmp_path / "phantoms"
    assert main(["phantoms", "--kind", "brain", "--count", "2", "-o", str(out)]) == 0
    (out / "my_notes.txt").write_text("stale")
    capsys.readouterr()
    assert main(["phantoms", "--kind", "brain", "--count", "1", "-o", str(out)]) == 2
    _one_error_line(capsys, "already exists", "--overwrite")
    assert sorted(p.name for p in out.iterdir()) == ["brain_0000_NC", "brain_0001_MCI", "cases.csv", "my_notes.txt"]
    assert main(["phantoms", "--kind", "brain", "--count", "1", "-o", str(out), "--overwrite"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["brain_0000_NC", "cases.csv"]  # nothing stale, nothing mixed
    assert _hidden_siblings(tmp_path) == []


def test_an_empty_existing_folder_is_used(tmp_path):
    out = tmp_path / "made_by_the_user"
    out.mkdir()
    assert main(["phantoms", "--kind", "brain", "--count", "1", "-o", str(out)]) == 0
    assert (out / "cases.csv").is_file()


def test_every_writing_command_ends_with_one_line_naming_what_it_wrote(tmp_path, suv_file, capsys):
    out = tmp_path / "suv.nrrd"
    assert main(["suv", str(suv_file), "-o", str(out)]) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == f"medgansynth suv: wrote {out} ({out.stat().st_size / 1e3:.1f} kB)\n"
    assert main(["phantoms", "--kind", "brain", "--count", "1", "-o", str(tmp_path / "b")]) == 0
    files = [p for p in (tmp_path / "b").rglob("*") if p.is_file()]
    assert f"wrote {tmp_path / 'b'}/ ({len(files)} files" in capsys.readouterr().err.splitlines()[-1]


def test_quiet_silences_the_closing_line_and_json_keeps_stdout_machine_readable(tmp_path, suv_file, capsys):
    assert main(["mip", str(suv_file), "-o", str(tmp_path / "a.nrrd"), "--quiet"]) == 0
    assert capsys.readouterr().err == ""
    assert main(["mip", str(suv_file), "-o", str(tmp_path / "b.nrrd"), "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["output"] == str(tmp_path / "b.nrrd")  # stdout is the JSON and nothing else
    assert "wrote" in captured.err


def test_paths_in_summaries_and_index_files_are_the_final_ones(tmp_path, capsys):
    out = tmp_path / "data"
    assert main(["dataset", "brain", "--phantoms", "2", "--heldout", "1", "-o", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert STAGING_TAG not in json.dumps(summary)
    for file in out.rglob("*"):
        if file.suffix in (".json", ".csv"):
            assert STAGING_TAG.strip(".") not in file.read_text(), file


@pytest.mark.parametrize("suffix", [".nrrd", ".mha"])
def test_staging_paths_in_volume_headers_become_the_final_paths(tmp_path, suffix):
    """MedGANSynth keeps metadata (a source path, say) in NRRD/MHA headers; written in the stage, it must name
    the final place, and the voxels must be untouched."""
    from MedGANSynthLib.io.output_set import staged_output

    out = tmp_path / "set"
    volume = Volume(np.arange(60, dtype=np.float32).reshape(3, 4, 5), spacing=(1.0, 2.0, 3.0), modality="PT")
    with staged_output(out, overwrite=False) as staged:
        volume.metadata = {"made_from": str(staged.paths[0] / "dicom")}
        write_volume(volume, staged.paths[0] / f"pet{suffix}")
    back = read_volume(out / f"pet{suffix}")
    assert back.metadata["made_from"] == str(out / "dicom")
    np.testing.assert_array_equal(back.array, volume.array)
    assert STAGING_TAG.encode() not in (out / f"pet{suffix}").read_bytes()


# ---- wrong kinds and file-system errors ---------------------------------------------------------------------
@pytest.mark.parametrize("argv_tail, words", [
    (["phantoms", "--kind", "brain", "-o", "{file}"], ["is a file; a folder is needed"]),
    (["suv", "{pet}", "-o", "{folder}"], ["choose a .nrrd"]),
    (["mip", "{pet}", "-o", "{folder_nrrd}"], ["is a folder; give a file name"]),
    (["mip", "{pet}", "-o", "{file}/inside.nrrd"], ["is a file, not a folder"]),
    (["mip", "{pet}", "-o", "/proc/medgansynth-test/mip.nrrd"], ["cannot write -o/--output"]),
])
def test_outputs_that_cannot_be_written_give_one_line(tmp_path, suv_file, capsys, argv_tail, words):
    file = tmp_path / "a_file.txt"
    file.write_text("x")
    (tmp_path / "folder.nrrd").mkdir()
    names = {"file": file, "pet": suv_file, "folder": tmp_path, "folder_nrrd": tmp_path / "folder.nrrd"}
    argv = [part.format(**names) for part in argv_tail]
    before = sorted(p.name for p in tmp_path.iterdir())
    assert main(argv) == 2
    _one_error_line(capsys, *words)
    assert sorted(p.name for p in tmp_path.iterdir()) == before


@pytest.mark.parametrize("where", [".", "..", "{home}"])
def test_the_current_folder_one_above_it_or_home_is_never_an_output(tmp_path, monkeypatch, capsys, where):
    work = tmp_path / "work"
    work.mkdir()
    (work / "my_scan.nrrd").write_text("the user's own file")
    monkeypatch.chdir(work)
    target = where.format(home=Path.home())
    assert main(["phantoms", "--kind", "brain", "--count", "1", "-o", target, "--overwrite"]) == 2
    _one_error_line(capsys, "is the current folder, a folder above it or the home folder")
    assert sorted(p.name for p in work.iterdir()) == ["my_scan.nrrd"]


@pytest.fixture
def tiny_mount(tmp_path):
    """Mount a 256 kB tmpfs (read-only or not) at tmp_path/<name>; skipped where this machine may not mount."""
    mounted = []

    def mount(name: str, read_only: bool) -> Path:
        point = tmp_path / name
        point.mkdir()
        options = "size=256k" + (",ro" if read_only else "")
        result = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(point)], capture_output=True,
                                text=True)
        if result.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here ({result.stderr.strip() or 'mount failed'}); as root, "
                        "permissions alone cannot make a folder unwritable")
        mounted.append(point)
        return point

    yield mount
    for point in mounted:
        subprocess.run(["umount", str(point)], check=False)


def test_read_only_file_system_gives_one_line(tiny_mount, suv_file, capsys):
    read_only = tiny_mount("ro", read_only=True)
    assert main(["suv", str(suv_file), "-o", str(read_only / "suv.nrrd")]) == 2
    _one_error_line(capsys, "-o/--output", "read-only")


def test_full_disk_gives_one_line_and_leaves_nothing(tiny_mount, capsys):
    full = tiny_mount("full", read_only=False)
    # A brain phantom is ~3 MB: it cannot fit in 256 kB.
    assert main(["phantoms", "--kind", "brain", "--count", "1", "-o", str(full / "phantoms")]) == 2
    _one_error_line(capsys, "-o/--output", "the disk is full")
    assert list(full.iterdir()) == []


# ---- nothing written before the inputs are accepted ---------------------------------------------------------
def test_mip_writes_no_volume_when_its_picture_cannot_be_written(tmp_path, suv_file, capsys):
    blocker = tmp_path / "pictures"
    blocker.write_text("a file where the picture folder should be")
    out = tmp_path / "mip.nrrd"
    assert main(["mip", str(suv_file), "-o", str(out), "--png", str(blocker / "mip.png")]) == 2
    _one_error_line(capsys, "--png")
    assert not out.exists() and _hidden_siblings(tmp_path) == []


def test_dataset_from_labels_writes_nothing_when_a_later_row_is_refused(tmp_path, capsys):
    good = _suv_volume(tmp_path / "first.nrrd")
    in_bq = _suv_volume(tmp_path / "second.nrrd", value=5000.0, units="BQML")
    table = tmp_path / "labels.csv"
    table.write_text(f"file,label\n{good.name},normal\n{in_bq.name},lung\n")
    out = tmp_path / "data"
    assert main(["dataset", "mip", "--labels", str(table), "-o", str(out)]) == 2
    _one_error_line(capsys, "second.nrrd", "not SUV")
    assert not out.exists() and _hidden_siblings(tmp_path) == []


def test_a_labels_csv_that_is_not_utf8_gives_one_line(tmp_path, capsys):
    _suv_volume(tmp_path / "première.nrrd")
    table = tmp_path / "labels.csv"
    table.write_bytes("file,label\npremière.nrrd,normal\n".encode("latin-1"))
    assert main(["dataset", "mip", "--labels", str(table), "-o", str(tmp_path / "data")]) == 2
    _one_error_line(capsys, "not UTF-8")
    assert not (tmp_path / "data").exists()


def test_training_labels_that_are_not_utf8_give_one_line(tmp_path, capsys):
    data = tmp_path / "images"
    data.mkdir()
    (data / "labels.csv").write_bytes("file,label\nimage_é.png,normal\n".encode("latin-1"))
    assert main(["train", "--architecture", "radiogan", "--data", str(data), "-o", str(tmp_path / "run")]) == 2
    _one_error_line(capsys, "not UTF-8")
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("argv", [
    ["phantoms", "-o", "{out}", "--seed", "-1"],
    ["phantoms", "-o", "{out}", "--seed", str(2**63)],
    ["dataset", "mip", "--phantoms", "2", "-o", "{out}", "--seed", "-1"],
    ["demo", "-o", "{out}", "--seed", str(2**64)],
    ["sample", "radiogan-phantom", "-o", "{out}", "--seed", "-5"],
    ["walk", "radiogan-phantom", "-o", "{out}", "--seed-b", str(2**63)],
    ["train", "--architecture", "ct_gan", "--data", "{out}", "-o", "{out}", "--seed", "-1"],
])
def test_seeds_outside_0_to_2_63_are_refused_at_parsing(tmp_path, capsys, argv):
    assert main([part.format(out=tmp_path / "out") for part in argv]) == 2
    _one_error_line(capsys, "--seed", "2**63 - 1")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", [["demo"], ["phantoms"], ["dataset", "mip", "--phantoms", "2"]])
@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf"])
def test_voxel_sizes_that_are_not_positive_numbers_are_refused(tmp_path, capsys, command, value):
    assert main([*command, "-o", str(tmp_path / "out"), f"--voxel-mm={value}"]) == 2
    _one_error_line(capsys, "--voxel-mm")
    assert not (tmp_path / "out").exists()


def test_train_on_a_missing_cuda_device_leaves_no_run_folder(tmp_path, capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA; the case is a machine without it")
    from tiny_gan import write_ct_folder

    data = tmp_path / "ct"
    write_ct_folder(data, slices=4)
    run = tmp_path / "run"
    capsys.readouterr()
    assert main(["train", "--architecture", "ct_gan", "--data", str(data), "-o", str(run), "--epochs", "1",
                 "--device", "cuda"]) == 2
    _one_error_line(capsys, "no usable CUDA GPU", "--device")
    assert not run.exists() and _hidden_siblings(tmp_path) == []


def test_overwrite_and_resume_together_are_refused(tmp_path, capsys):
    from tiny_gan import write_ct_folder

    write_ct_folder(tmp_path / "ct", slices=4)
    capsys.readouterr()
    assert main(["train", "--architecture", "ct_gan", "--data", str(tmp_path / "ct"), "-o", str(tmp_path / "run"),
                 "--resume", "--overwrite"]) == 2
    _one_error_line(capsys, "--overwrite", "--resume")


# ---- lock, Ctrl-C, killed runs (real subprocesses) ----------------------------------------------------------
def _start(argv: list[str]) -> subprocess.Popen:
    """The command in a child process with the terminal's Ctrl-C: a CI runner that starts jobs with '&' from a
    non-interactive shell hands them SIGINT ignored, and Python then installs no KeyboardInterrupt handler (the
    fresh-clone CI run saw the child finish with 0 after SIGINT)."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-m", "MedGANSynthLib", *argv], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def _wait_for(condition, process: subprocess.Popen, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the run did not get that far in time"
        time.sleep(0.1)


def _staging_of(out: Path):
    return lambda: any(entry.name.startswith(f".{out.name}{STAGING_TAG}") for entry in out.parent.iterdir())


def test_a_second_run_into_the_same_folder_is_refused_while_the_first_runs(tmp_path, capsys):
    out = tmp_path / "phantoms"
    first = _start([*SLOW_PHANTOMS, "-o", str(out)])
    try:
        _wait_for(_staging_of(out), first)
        assert main(["phantoms", "--kind", "brain", "--count", "1", "-o", str(out), "--overwrite"]) == 2
        _one_error_line(capsys, "being written by another medgansynth run", f"PID {first.pid}")
    finally:
        first.send_signal(signal.SIGINT)
        first.communicate(timeout=60)
    assert not out.exists()  # the second run wrote nothing, the first was interrupted


def test_a_lock_left_by_a_dead_process_is_taken_over(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    out = tmp_path / "phantoms"
    (tmp_path / f".{out.name}{LOCK_TAG}").write_text(f"{dead.stdout.strip()}\n{os.uname().nodename}\n")
    assert main(["phantoms", "--kind", "brain", "--count", "1", "-o", str(out)]) == 0
    assert _hidden_siblings(tmp_path) == []


@pytest.mark.parametrize("argv", [SLOW_PHANTOMS, ["dataset", "mip", "--phantoms", "20", "--voxel-mm", "8"]])
def test_ctrl_c_keeps_exactly_what_the_message_says(tmp_path, argv):
    out = tmp_path / "out"
    run = _start([*argv, "-o", str(out)])
    _wait_for(_staging_of(out), run)
    time.sleep(2.0)  # let it write a case or two into the staging folder
    run.send_signal(signal.SIGINT)
    _, err = run.communicate(timeout=60)
    assert run.returncode == 130
    assert err.strip().splitlines()[-1].endswith(f"interrupted; nothing was written; '{out}' is as it was before.")
    assert not out.exists() and _hidden_siblings(tmp_path) == []


def test_staging_left_by_a_killed_run_is_removed_by_the_next_run(tmp_path):
    out = tmp_path / "phantoms"
    run = _start([*SLOW_PHANTOMS, "-o", str(out)])
    _wait_for(_staging_of(out), run)
    time.sleep(1.0)
    run.kill()  # SIGKILL: no clean-up of its own
    run.communicate(timeout=60)
    assert _hidden_siblings(tmp_path)  # its staging folder and lock are still there
    assert not out.exists()
    assert main(["phantoms", "--kind", "brain", "--count", "1", "-o", str(out)]) == 0
    assert _hidden_siblings(tmp_path) == []
    assert sorted(p.name for p in out.iterdir()) == ["brain_0000_NC", "cases.csv"]


def test_virtual_pet_killed_while_writing_leaves_nothing_a_later_run_keeps(tmp_path):
    from tiny_models import phantoms_with_untrained_virtual_pet

    root, model = phantoms_with_untrained_virtual_pet(tmp_path / "inputs")
    (ct,) = (root / "data").glob("*_lymphoma/ct.nrrd")
    out = tmp_path / "vpet"
    run = _start(["virtual-pet", str(ct), "-o", str(out), "--model", str(model), "--device", "cpu",
                  "--uncertainty", "4"])
    _wait_for(_staging_of(out), run)
    # Wait until the pipeline stages its files (its own hidden folder inside the command's staging), then kill.
    _wait_for(lambda: any(entry.name.startswith(f"..{out.name}{STAGING_TAG}") for entry in tmp_path.iterdir())
              or run.poll() is not None, run)
    run.kill()
    run.communicate(timeout=60)
    assert not out.exists()
    assert main(["virtual-pet", str(ct), "-o", str(out), "--model", str(model), "--device", "cpu",
                 "--no-pictures"]) == 0
    assert _hidden_siblings(tmp_path) == []
    assert (out / "virtual_pet.nrrd").is_file()
