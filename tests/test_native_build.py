"""`snaketron compile`: the per-tick modules built as C extensions (mypyc) into a copy of
the package, which then runs the engine's differential tests, the tick slots' and the
fan-out's contract tests compiled, and which the server names when it starts."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from snaketron.cli import main
from snaketron.native import HOT_MODULES, MARKER, module_name

TESTS = Path(__file__).parent
_compiler = (sysconfig.get_config_var("CC") or "cc").split()[0]
needs_compiler = pytest.mark.skipif(shutil.which(_compiler) is None, reason=f"no C compiler ({_compiler})")

# Run in the build's interpreter path: every hot module must come from the build, then
# the tests that pin the compiled modules' behaviour run against it.
_CHECK = """
import sys
import pytest
from snaketron.native import compiled_modules, HOT_MODULES
assert len(compiled_modules()) == len(HOT_MODULES), compiled_modules()
sys.exit(pytest.main(["-q", "-p", "no:cacheprovider", *sys.argv[1:]]))
"""


@pytest.mark.slow
@needs_compiler
def test_a_build_runs_compiled_and_plays_as_the_pure_modules_do(tmp_path: Path, capsys) -> None:
    out = tmp_path / "native"
    assert main(["compile", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"PYTHONPATH={out} snaketron serve" in printed
    assert (out / MARKER).exists() and not (out / "build").exists()
    built = {p.name.split(".")[0] for p in (out / "snaketron").rglob("*.so")}
    assert built == {module_name(path).rsplit(".", 1)[1] for path in HOT_MODULES}

    env = {**os.environ, "PYTHONPATH": str(out)}
    tests = [
        TESTS / "engine" / "test_engine_fast_paths.py",
        TESTS / "engine" / "test_engine_rules.py",
        TESTS / "server" / "test_tick_slots.py",
        TESTS / "server" / "test_websockets_contract.py",
        TESTS / "server" / "test_room_tick.py",
        TESTS / "matchmaking" / "test_mm_room_results.py",
        TESTS / "test_histograms.py",
    ]
    done = subprocess.run(
        [sys.executable, "-c", _CHECK, *map(str, tests)],
        env=env,
        cwd=TESTS.parent,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert " passed" in done.stdout

    # Running from the build, compile refuses: it would copy the build, not the source.
    again = subprocess.run(
        [sys.executable, "-m", "snaketron.cli", "compile", "--out", str(tmp_path / "other")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert again.returncode == 2 and "runs from a build" in again.stderr
    assert not (tmp_path / "other").exists()


@pytest.mark.slow
@needs_compiler
def test_a_failed_build_leaves_the_earlier_one_as_it_was(tmp_path: Path, capsys, monkeypatch) -> None:
    out = tmp_path / "native"
    assert main(["compile", "--out", str(out)]) == 0
    before = sorted(p.relative_to(out) for p in out.rglob("*"))
    monkeypatch.setenv("CC", "false")  # the C compiler fails
    assert main(["compile", "--out", str(out)]) == 2
    assert "mypyc failed" in capsys.readouterr().err
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before
    assert [p.name for p in tmp_path.iterdir()] == ["native"]  # no half-made build left


def test_compile_never_overwrites_a_directory_it_did_not_build(tmp_path: Path, capsys) -> None:
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me")
    assert main(["compile", "--out", str(precious)]) == 2
    assert "not a build of `snaketron compile`" in capsys.readouterr().err
    assert (precious / "notes.txt").read_text() == "keep me"


def test_compile_refuses_a_file_or_a_link_as_its_directory(tmp_path: Path, capsys) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("keep me")
    link = tmp_path / "a-link"
    link.symlink_to(tmp_path)
    for out in (a_file, link):
        assert main(["compile", "--out", str(out)]) == 2
        assert "is not a directory" in capsys.readouterr().err
    assert a_file.read_text() == "keep me" and link.is_symlink()


def test_compile_refuses_a_directory_inside_the_package(capsys) -> None:
    import snaketron

    inside = Path(snaketron.__file__).parent / "native-build"
    assert main(["compile", "--out", str(inside)]) == 2
    assert "inside the package" in capsys.readouterr().err
    assert not inside.exists()


def test_the_installed_package_runs_pure_python() -> None:
    from snaketron.native import compiled_modules

    assert compiled_modules() == []
