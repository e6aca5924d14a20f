"""docs/plugin-tutorial.md followed literally: each ``console`` command run, its output compared.

A ``$ `` line is a command (a heredoc's lines up to its terminator belong to it); the lines
up to the next command are its expected output, stdout and stderr together, where ``...``
matches anything. Commands run one by one in a fresh directory with the virtual
environment's ``bin`` first on ``PATH``, as a reader would type them.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

TUTORIAL = Path(__file__).resolve().parents[2] / "docs" / "plugin-tutorial.md"
_BLOCK = re.compile(r"^```console\n(.*?)^```", re.MULTILINE | re.DOTALL)
_HEREDOC = re.compile(r"<<'(\w+)'")


@dataclass(frozen=True)
class Step:
    command: str
    expected: str


def steps(markdown: str) -> list[Step]:
    """The tutorial's commands and their expected output, in order."""
    found: list[Step] = []
    for block in _BLOCK.findall(markdown):
        lines = block.splitlines()
        i = 0
        while i < len(lines):
            assert lines[i].startswith("$ "), f"not a command: {lines[i]!r}"
            command = [lines[i][2:]]
            heredoc = _HEREDOC.search(lines[i])
            i += 1
            if heredoc:
                end = lines.index(heredoc.group(1), i)
                command += lines[i : end + 1]
                i = end + 1
            output = []
            while i < len(lines) and not lines[i].startswith("$ "):
                output.append(lines[i])
                i += 1
            found.append(Step("\n".join(command), "\n".join(output)))
    return found


def _clean(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines())


def matches(expected: str, actual: str) -> bool:
    """Whether ``actual`` is ``expected``, ``...`` matching any text (trailing blanks ignored)."""
    pattern = ".*?".join(map(re.escape, _clean(expected).split("...")))
    return re.fullmatch(pattern, _clean(actual), re.DOTALL) is not None


def test_the_tutorial_has_the_steps_it_promises() -> None:
    commands = [step.command.split("\n")[0] for step in steps(TUTORIAL.read_text())]
    assert commands[0] == "onionlab plugins new velvet"
    assert any(c.startswith("onionlab extract --plugins-dir velvet --url") for c in commands)
    assert commands.count("pytest -q velvet/tests") == 2


def test_matching_allows_ellipsis_and_nothing_else() -> None:
    assert matches("2 passed in ...", "2 passed in 0.05s\n")
    assert not matches("2 passed in ...", "1 failed, 1 passed in 0.05s")
    assert not matches("a\nb", "a\nb\nc")


@pytest.mark.slow
def test_following_the_tutorial_gives_the_output_it_shows(tmp_path: Path) -> None:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("ONIONLAB_", "PYTEST_", "COLUMNS", "LINES"))
    }
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["COLUMNS"] = "80"  # rich draws tables as wide as the terminal
    for step in steps(TUTORIAL.read_text()):
        done = subprocess.run(
            ["bash", "-c", step.command],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=120,
        )
        assert matches(step.expected, done.stdout), (
            f"$ {step.command}\n--- the tutorial shows:\n{step.expected}\n"
            f"--- it printed (exit code {done.returncode}):\n{done.stdout}"
        )
