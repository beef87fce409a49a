"""`snaketron serve` as a user starts it: no settings but free ports (0), so that it
runs beside other servers; the text it printed up to "Press Ctrl-C"."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator


def default_env() -> dict[str, str]:
    """This environment without any SnakeTron, AWS or table setting, ports free."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SNAKETRON_", "DYNAMODB_"))}
    env.update(SNAKETRON_WS_PORT="0", SNAKETRON_API_PORT="0")
    return env


@contextlib.contextmanager
def default_serve() -> Iterator[tuple[subprocess.Popen[str], str]]:
    """The running process (stdout and stderr in one pipe) and what it printed while starting.
    Killed on exit if the caller did not stop it."""
    process = subprocess.Popen(
        [sys.executable, "-m", "snaketron.cli", "serve"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=default_env(),
        text=True,
    )
    try:
        seen = []
        assert process.stdout is not None
        for line in process.stdout:
            seen.append(line)
            if "Press Ctrl-C" in line or len(seen) > 200:
                break
        yield process, "".join(seen)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
