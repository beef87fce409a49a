"""`snaketron serve` in a child process, as a user or operator starts it.

`default_serve`: no settings but free ports (0), so that it runs beside other
servers. `serve_process`: configured by a given environment, asynchronously."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator


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


@contextlib.asynccontextmanager
async def serve_process(env: dict[str, str], log_path: str) -> AsyncIterator[tuple[asyncio.subprocess.Process, str]]:
    """`snaketron serve` with exactly `env`, its log (stderr) in `log_path`: the process
    and its start-up banner (stdout up to "Press Ctrl-C"). Killed on exit if still running."""
    log = await asyncio.to_thread(open, log_path, "w")
    with log:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "snaketron.cli", "serve", env=env, stdout=asyncio.subprocess.PIPE, stderr=log
        )
    try:
        banner = ""
        async with asyncio.timeout(60):
            while "Press Ctrl-C" not in banner:
                line = await process.stdout.readline()
                assert line, f"serve ended before it was up:\n{banner}"
                banner += line.decode()
        yield process, banner
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
