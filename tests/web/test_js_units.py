"""Runs the browser client's JavaScript unit tests (tests/web/js/*.test.mjs) with node's
own test runner: codec, RNG, rules, prediction, input, clock, connection and app flows."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

NODE = shutil.which("node")
JS_TESTS = sorted((Path(__file__).parent / "js").glob("*.test.mjs"))


@pytest.mark.skipif(NODE is None, reason="node is not installed: the client's JavaScript cannot run")
@pytest.mark.parametrize("test_file", JS_TESTS, ids=[p.name for p in JS_TESTS])
def test_javascript_unit_tests_pass(test_file: Path):
    result = subprocess.run(
        [NODE, "--test", "--test-reporter=tap", str(test_file)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    failures = [line for line in result.stdout.splitlines() if line.startswith("not ok")]
    assert result.returncode == 0 and not failures, result.stdout[-6000:] + result.stderr[-2000:]
    assert "# pass 0" not in result.stdout, "no JavaScript test ran"
