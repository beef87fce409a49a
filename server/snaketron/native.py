"""An optional build of the per-tick modules as C extensions, with mypyc, beside the package.

The game server's CPU is mostly the Python interpreter (benchmarks/RESULTS.md, "Where
the game server's CPU goes"), and a fifth of it runs the engine's tick and the tick
slots and fan-out around it. mypyc (part of mypy) compiles these fully typed modules to
C as they are: the steady duel tick takes about 40% less time, the rooms' tick and
command paths about 26% less (some 8 µs per player-second, about 6% of the server's
CPU in a lobby duel run; capacity runs are too noisy to show it reliably).

`snaketron compile --out DIR` copies this package to DIR and compiles `HOT_MODULES` in
the copy; `PYTHONPATH=DIR snaketron serve` then runs it (the load generator's bots use
the compiled engine too). The copy is a snapshot: the pure modules beside the compiled
ones come from the same source, so editing the source never mixes with a stale build,
and the installed package stays pure Python (the default: nothing but pip and Python
are needed). It needs mypy (the test extra has it) and a C compiler.
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from snaketron.config import ConfigError

# The modules run on every tick of every game, relative to the package. A Protocol that
# interpreted classes subclass cannot live in one (mypyc makes it a trait): the room's
# are in rooms/ports.py, which stays interpreted.
HOT_MODULES = (
    "engine/game.py",
    "engine/commands.py",
    "engine/body.py",
    "engine/timing.py",
    "tick_slots.py",
    "fanout.py",
    "rooms/room.py",
    "histograms.py",
)
# Written into a finished build, so that `--out` never overwrites a directory that is
# not one.
MARKER = "SNAKETRON_NATIVE_BUILD"


def module_name(path: str) -> str:
    return "snaketron." + path.removesuffix(".py").replace("/", ".")


def compiled_modules() -> list[str]:
    """The hot modules this process would import compiled (logged at start)."""
    found = []
    for path in HOT_MODULES:
        spec = importlib.util.find_spec(module_name(path))
        origin = spec.origin if spec is not None else None
        if origin is not None and not origin.endswith(".py"):
            found.append(module_name(path))
    return found


def build(out: Path) -> list[str]:
    """Copy the package to `out` and compile the hot modules there; returns their names.
    The build is made beside `out` and replaces it only once it succeeded, so a failed
    build leaves an earlier one as it was. ConfigError when `out` is something else, this
    process runs from a build, mypyc is missing or compiling fails."""
    if importlib.util.find_spec("mypyc") is None:
        raise ConfigError("snaketron compile needs mypyc, which comes with mypy: pip install mypy")
    source = Path(__file__).resolve().parent
    if (source.parent / MARKER).exists():
        raise ConfigError(
            f"this snaketron runs from a build ({source.parent}): compile from the installed package "
            "(without that PYTHONPATH), so that the build is made from the source"
        )
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise ConfigError(f"{out} is not a directory: choose an empty or new directory")
    if out.exists() and any(out.iterdir()) and not (out / MARKER).exists():
        raise ConfigError(f"{out} exists and is not a build of `snaketron compile`: choose an empty or new directory")
    if out.resolve().is_relative_to(source):
        raise ConfigError(f"{out} is inside the package it would copy: choose a directory outside {source}")
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.building-", dir=out.parent))
    try:
        shutil.copytree(source, staging / "snaketron", ignore=shutil.ignore_patterns("__pycache__", "*.so", "*.pyd"))
        command = [sys.executable, "-m", "mypyc", *(f"snaketron/{path}" for path in HOT_MODULES)]
        done = subprocess.run(command, cwd=staging, capture_output=True, text=True)
        if done.returncode != 0:
            tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
            raise ConfigError(f"mypyc failed (a C compiler and Python's headers are needed):\n{tail}")
        shutil.rmtree(staging / "build")  # mypyc's intermediate C and objects
        (staging / MARKER).write_text(f"built from {source} by {' '.join(command)}\n")
        if out.exists():
            shutil.rmtree(out)  # an earlier build (checked above), replaced whole
        staging.rename(out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # gone already when the build succeeded
    return [module_name(path) for path in HOT_MODULES]


def compile_command(args: argparse.Namespace) -> int:
    out = Path(args.out).expanduser().absolute()
    names = build(out)
    print(f"compiled {len(names)} modules into {out}:")
    for name in names:
        print(f"  {name}")
    print(f"run them with:\n  PYTHONPATH={out} snaketron serve")
    return 0
