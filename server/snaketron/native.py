"""An optional build of the per-tick modules as C extensions, with mypyc, beside the package.

The game server's CPU is mostly the Python interpreter (benchmarks/RESULTS.md, "Where
the game server's CPU goes"), and a fifth of it runs the engine's tick and the tick
slots and fan-out around it. mypyc (part of mypy) compiles these fully typed modules to
C as they are: the steady duel tick takes about 40% less time, the rooms' tick and
command paths about 26% less, and the whole server about a tenth less CPU per player.

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
from pathlib import Path

from snaketron.config import ConfigError

# The modules run on every tick of every game, relative to the package. Protocol classes
# that other modules subclass cannot be compiled (mypyc makes them traits), which keeps
# rooms/room.py out.
HOT_MODULES = (
    "engine/game.py",
    "engine/commands.py",
    "engine/body.py",
    "engine/timing.py",
    "tick_slots.py",
    "fanout.py",
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
    ConfigError when `out` is something else, mypyc is missing or compiling fails."""
    if importlib.util.find_spec("mypyc") is None:
        raise ConfigError("snaketron compile needs mypyc, which comes with mypy: pip install mypy")
    if out.exists() and any(out.iterdir()) and not (out / MARKER).exists():
        raise ConfigError(f"{out} exists and is not a build of `snaketron compile`: choose an empty or new directory")
    source = Path(__file__).resolve().parent
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    shutil.copytree(source, out / "snaketron", ignore=shutil.ignore_patterns("__pycache__", "*.so", "*.pyd"))
    command = [sys.executable, "-m", "mypyc", *(f"snaketron/{path}" for path in HOT_MODULES)]
    done = subprocess.run(command, cwd=out, capture_output=True, text=True)
    shutil.rmtree(out / "build", ignore_errors=True)  # mypyc's intermediate C and objects
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        raise ConfigError(f"mypyc failed (a C compiler and Python's headers are needed):\n{tail}")
    (out / MARKER).write_text(f"built from {source} by {' '.join(command)}\n")
    return [module_name(path) for path in HOT_MODULES]


def compile_command(args: argparse.Namespace) -> int:
    out = Path(args.out).resolve()
    names = build(out)
    print(f"compiled {len(names)} modules into {out}:")
    for name in names:
        print(f"  {name}")
    print(f"run them with:\n  PYTHONPATH={out} snaketron serve")
    return 0
