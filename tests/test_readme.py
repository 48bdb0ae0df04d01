"""The README tells the truth: its quickstart, its diagram, the CI command."""

from __future__ import annotations

import re
from pathlib import Path

from states import load_lifecycle
from states.diagram import mermaid

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text("utf-8")


def _code_blocks(text: str) -> list[tuple[str, str]]:
    return re.findall(r"```(\w*)\n(.*?)```", text, flags=re.S)


def test_quickstart_first_block_has_two_make_commands() -> None:
    quickstart = README.split("## Quickstart", 1)[1]
    _lang, block = _code_blocks(quickstart)[0]
    commands = [line for line in block.splitlines() if line.strip()]
    assert commands == ["make demo", "make test"]
    makefile = (ROOT / "Makefile").read_text("utf-8")
    for command in commands:
        assert re.search(rf"^{command.split()[1]}:", makefile, flags=re.M)


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text("utf-8")
    commands = [line for line in ci.splitlines() if line and not line.startswith(("#", "set ", "cd "))]
    # Besides the README's command, CI may only install Chromium for the browser tests.
    assert commands[-1] == "make test"
    assert all(line.startswith("command -v chromium ") for line in commands[:-1])


def test_readme_diagram_is_the_default_lifecycle() -> None:
    blocks = [body for lang, body in _code_blocks(README) if lang == "mermaid"]
    assert blocks == [mermaid(load_lifecycle(), show_guards=False)]
