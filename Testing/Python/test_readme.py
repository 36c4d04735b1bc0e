"""The README is a user's manual that stays true: short, every command documented, every quoted command accepted by
the real command-line parser, the quick start the one CI runs, and every link pointing at something that exists."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from MedGANSynthLib.cli.main import build_parser

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text()
MAX_LINES = 300


def subcommands() -> list[str]:
    (action,) = [a for a in build_parser()._actions if a.dest == "command"]  # the real subparsers
    return sorted(action.choices)


def code_blocks(text: str) -> list[str]:
    return re.findall(r"```bash\n(.*?)```", text, flags=re.S)


def command_lines(block: str) -> list[str]:
    """Shell commands of a block, continuation lines joined and comments dropped."""
    joined = block.replace("\\\n", " ")
    lines = (" ".join(shlex.split(line, comments=True)) for line in joined.splitlines())
    return [line for line in lines if line]


def quoted_cli_calls() -> list[list[str]]:
    """Argument lists of every `medgansynth ...` or `torchrun ... -m MedGANSynthLib ...` in the README's code."""
    calls = []
    for line in (line for block in code_blocks(README) for line in command_lines(block)):
        words = shlex.split(line)
        if words[0] == "medgansynth":
            calls.append(words[1:])
        elif words[0] == "torchrun":
            calls.append(words[words.index("MedGANSynthLib") + 1:])
    return calls


def test_readme_is_at_most_300_lines():
    assert len(README.splitlines()) <= MAX_LINES


@pytest.mark.parametrize("command", subcommands())
def test_every_subcommand_is_documented(command):
    assert f"medgansynth {command} " in README or f"`{command}`" in README, f"'{command}' is not in the README"


@pytest.mark.parametrize("arguments", quoted_cli_calls(), ids=lambda words: " ".join(words)[:60])
def test_every_quoted_command_is_accepted_by_the_real_parser(arguments):
    try:
        build_parser().parse_args(arguments)
    except SystemExit as exit_:  # argparse refuses unknown options, missing ones and bad choices with exit 2
        pytest.fail(f"'medgansynth {' '.join(arguments)}' is refused by the parser (exit {exit_.code})")


def test_quick_start_is_the_install_and_the_ci_test_command():
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    (block,) = code_blocks(section)
    assert command_lines(block) == ["bash .ci/setup && .venv/bin/medgansynth demo", "bash .ci/run"]
    ci_run = (REPO / ".ci" / "run").read_text()
    assert "bash .ci/setup" in ci_run and "-m pytest" in ci_run  # the test command installs, then runs the suite
    assert "medgansynth" in (REPO / "pyproject.toml").read_text().split("[project.scripts]", 1)[1]
    assert "demo" in subcommands()


def test_every_link_and_picture_exists():
    anchors = {re.sub(r"[^a-z0-9 -]", "", heading.lower()).replace(" ", "-")
               for heading in re.findall(r"^#+ (.+)$", README, flags=re.M)}
    for target in re.findall(r"\]\(([^)]+)\)", README):
        path, _, anchor = target.partition("#")
        if path.startswith("http"):
            continue
        if path:
            assert (REPO / path).exists(), f"{path} does not exist"
        elif anchor:
            assert anchor in anchors, f"#{anchor} is not a heading of the README"


def test_no_internal_codes_or_files_outside_the_repository():
    # The library's own architecture page is in the repository; the design notes beside it (../shared) are not.
    text = README.replace("MedGANSynthLib/ARCHITECTURE.md", "")
    for forbidden in ("../", "seed 00", "ARCHITECTURE.md", "PHANTOM_REFERENCE"):
        assert forbidden not in text, forbidden
