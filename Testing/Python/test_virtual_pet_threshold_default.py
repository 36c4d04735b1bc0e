"""The virtual PET's lesion threshold (SUV 2.5, Ben-Cohen et al.) is defined once, in virtual_pet.lesions, and every
default of it (the inference, the evaluation, the CLI flags, the Slicer Logic and panel) reads that definition: a
second literal would let one of them drift when the other changes."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

from conftest import REPO_ROOT

from MedGANSynthLib.virtual_pet.lesions import PAPER_THRESHOLD_SUV

LIBRARY = REPO_ROOT / "MedGANSynthLib"
VIRTUAL_PET_CODE = [*sorted((LIBRARY / "virtual_pet").glob("*.py")), LIBRARY / "cli" / "cmd_virtual_pet.py",
                    LIBRARY / "cli" / "cmd_evaluate_virtual_pet.py", *sorted((LIBRARY / "mrml").glob("logic*.py")),
                    *sorted((REPO_ROOT / "MedGANSynth").rglob("*.py"))]
DEFINITION = LIBRARY / "virtual_pet" / "lesions.py"


def _tree(path: Path) -> ast.AST:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def test_the_threshold_is_assigned_once_in_the_library():
    assigned = [f"{path.relative_to(REPO_ROOT)}:{node.lineno}" for path in sorted(LIBRARY.rglob("*.py"))
                for node in ast.walk(_tree(path)) if isinstance(node, (ast.Assign, ast.AnnAssign))
                for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
                if isinstance(target, ast.Name) and target.id == "PAPER_THRESHOLD_SUV"]
    assert len(assigned) == 1 and assigned[0].startswith("MedGANSynthLib/virtual_pet/lesions.py:"), assigned


def test_no_virtual_pet_code_writes_the_threshold_as_a_number():
    literals = [f"{path.relative_to(REPO_ROOT)}:{node.lineno}" for path in VIRTUAL_PET_CODE if path != DEFINITION
                for node in ast.walk(_tree(path))
                if isinstance(node, ast.Constant) and type(node.value) is float and node.value == PAPER_THRESHOLD_SUV]
    assert literals == []


def test_the_defaults_are_the_constant():
    from MedGANSynthLib.cli.main import build_parser
    from MedGANSynthLib.mrml.logic import MedGANSynthLogic
    from MedGANSynthLib.virtual_pet.evaluation import evaluate_virtual_pet
    from MedGANSynthLib.virtual_pet.inference import VirtualPETConfig

    parser = build_parser()
    for command in ("virtual-pet", "evaluate-virtual-pet"):
        subparser = parser._subparsers._group_actions[0].choices[command]
        assert subparser.get_default("threshold") == PAPER_THRESHOLD_SUV
        assert f"(paper {PAPER_THRESHOLD_SUV:g})" in subparser.format_help().replace("\n", " ")
    assert VirtualPETConfig().threshold_suv == PAPER_THRESHOLD_SUV
    assert inspect.signature(evaluate_virtual_pet).parameters["threshold_suv"].default == PAPER_THRESHOLD_SUV
    for method in (MedGANSynthLogic.predictVirtualPET, MedGANSynthLogic.loadVirtualPET):
        assert inspect.signature(method).parameters["threshold"].default == PAPER_THRESHOLD_SUV
