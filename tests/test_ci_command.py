"""CI runs exactly the README's test command, and that command runs every check."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def readme_test_command() -> str:
    """The one indented command of the README that installs the test extra."""
    commands = [
        line.strip()
        for line in (ROOT / "README.md").read_text().splitlines()
        if line.startswith("    ") and "'.[test]'" in line
    ]
    assert len(commands) == 1, f"the README must give exactly one test command, found {commands}"
    return commands[0]


def test_ci_runs_the_readme_test_command():
    script = (ROOT / ".ci" / "run").read_text().splitlines()
    assert readme_test_command() in [line.strip() for line in script]


def test_the_test_command_lints_checks_types_and_tests():
    steps = [step.strip() for step in readme_test_command().split("&&")]
    # A venv first (PEP 668 systems refuse a bare pip install), then the install.
    assert steps[:2] == ["python3 -m venv .venv", ". .venv/bin/activate"], steps
    assert re.fullmatch(r"python3 -m pip install -q -e '\.\[test\]'", steps[2])
    for check in ("ruff check", "ruff format --check", "mypy", "pytest"):
        assert any(step.startswith(f"python3 -m {check}") for step in steps[3:]), check
