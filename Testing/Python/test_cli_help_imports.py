"""`--help` and argument errors answer without importing torch (issue 26: they took 5-10 s because torch came first).

Run in a fresh interpreter, since this test session has imported torch long ago. The time it saves is measured by
Testing/Benchmarks/bench_cli_help.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from MedGANSynthLib.cli import cmd_train_cyclegan
from MedGANSynthLib.cli.cmd_mip import AXES
from MedGANSynthLib.cli.main import COMMAND_MODULES
from MedGANSynthLib.projection.mip import PROJECTION_PATIENT_AXIS

REPO = Path(__file__).resolve().parents[2]
PROBE = """
import contextlib, io, json, sys
from MedGANSynthLib.cli.main import main
first_torch = None
for argv in json.loads(sys.argv[1]):
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        code = main(argv)
    if first_torch is None and "torch" in sys.modules:
        first_torch = argv
print(json.dumps({"first_command_that_imported_torch": first_torch, "vtk": "vtk" in sys.modules}))
"""


def _probe(argvs: list[list[str]]) -> dict:
    result = subprocess.run([sys.executable, "-c", PROBE, json.dumps(argvs)], capture_output=True, text=True,
                            cwd=REPO, env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_help_of_every_subcommand_and_argument_errors_do_not_import_torch():
    commands = [name.replace("_", "-") for name in COMMAND_MODULES]
    argvs = [["--help"], ["--version"], *[[name, "--help"] for name in commands],
             ["suv", "pet.nrrd", "-o", "x.nrrd", "--weight-kg", "heavy"], ["phantoms", "-o", "x", "--seed", "-1"],
             ["no-such-command"], ["train", "--no-such-option"]]
    probe = _probe(argvs)
    assert probe == {"first_command_that_imported_torch": None, "vtk": False}


def test_the_mip_axes_written_out_for_help_are_the_library_s():
    assert sorted(AXES) == sorted(PROJECTION_PATIENT_AXIS)


def test_the_cyclegan_choices_written_out_for_help_are_the_library_s():
    from MedGANSynthLib.cyclegan.dataset import DOMAIN_KINDS
    from MedGANSynthLib.cyclegan.networks import GENERATORS

    assert cmd_train_cyclegan.DOMAIN_KINDS == DOMAIN_KINDS and cmd_train_cyclegan.GENERATORS == GENERATORS
