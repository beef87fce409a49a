"""The install resolves at once: pip considers one boto3 release, never backtracks.

Unpinned, moto's `boto3` requirement made pip start at the newest boto3, whose
botocore range misses aiobotocore's narrow one, and walk back through every
release in between (134 s, 23 versions). pyproject.toml pins aiobotocore, botocore
and boto3 together. This test asks pip's resolver (through the package registry,
as configured for pip on this machine) for exactly the pinned AWS packages and moto,
and checks that it looked at one boto3 release and one botocore release. Only that
corner of the dependency set can backtrack, and resolving all of it means
downloading every wheel (about a minute): this stays a few seconds.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).parents[1]
AWS_PACKAGES = {"aiobotocore", "botocore", "boto3", "moto"}
# pip's own words when it cannot reach the registry: the test cannot judge then.
UNREACHABLE = re.compile(
    r"NewConnectionError|Max retries exceeded|Temporary failure in name resolution|"
    r"Network is unreachable|Connection refused|No matching distribution found|Could not fetch URL",
)


def aws_requirements() -> list[str]:
    """The project's requirements on aiobotocore, botocore, boto3 and moto, as written
    (moto without its extras: the extras add no AWS package)."""
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    chosen = []
    for line in dependencies:
        requirement = Requirement(line)
        if requirement.name in AWS_PACKAGES:
            requirement.extras = set()
            chosen.append(str(requirement))
    return chosen


def test_the_aws_dependencies_resolve_without_backtracking(tmp_path):
    requirements = aws_requirements()
    assert {Requirement(r).name for r in requirements} == AWS_PACKAGES
    report = tmp_path / "report.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--dry-run",
            "--ignore-installed",
            "--only-binary=:all:",
            "--disable-pip-version-check",
            "--verbose",
            "--report",
            str(report),
            *requirements,
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = done.stdout + done.stderr
    if done.returncode != 0 and UNREACHABLE.search(output):
        pytest.skip(f"the package registry is not reachable: {UNREACHABLE.search(output)[0]}")
    assert done.returncode == 0, output[-3000:]
    assert "taking longer than usual" not in output
    installed = {
        item["metadata"]["name"].lower(): item["metadata"]["version"]
        for item in json.loads(report.read_text())["install"]
    }
    for package in ("boto3", "botocore"):
        # Every release pip looked at shows up as a wheel (or its metadata) it fetched or reused.
        considered = set(re.findall(rf"\b{package}-(\d[\w.]*?)-py3", output))
        assert considered == {installed[package]}, f"pip considered {package} {sorted(considered)}"


def test_readme_has_two_set_up_commands_and_ci_runs_the_test_one():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Set up", 1)[1].split("\n## ", 1)[0]
    commands = [line.strip() for line in section.splitlines() if line.startswith("    ")]
    serve, test = commands  # exactly two
    for command in commands:
        assert command.startswith("python3 -m venv .venv && . .venv/bin/activate && "), command  # PEP 668
    assert serve.endswith("python3 -m pip install -e . && snaketron serve")
    assert test.endswith("python3 -m pytest")
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()
    assert ci[-1] == test
