"""`snaketron serve` in a child process, as a user or operator starts it: configured
only by the environment (none of the caller's AWS_/SNAKETRON_/DYNAMODB_ settings),
on free ports (0) so that it runs beside other servers.

- `serve_process(**settings)`: the process with those settings, output merged.
- `default_serve()`: no settings at all, and what it printed while starting.
- `stop_cleanly(process)`: SIGTERM; it must exit 0 having said so.
- `serve_process_async(env, log_path)`: with exactly `env`, for asyncio tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator

SERVE = (sys.executable, "-m", "snaketron.cli", "serve")
# serve prints this last in its start-up banner.
UP_LINE = "Press Ctrl-C"


def default_env(**settings: str) -> dict[str, str]:
    """This environment without any SnakeTron, AWS or table setting, ports free, plus `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SNAKETRON_", "DYNAMODB_"))}
    env.update({"SNAKETRON_WS_PORT": "0", "SNAKETRON_API_PORT": "0", **settings})
    return env


@contextlib.contextmanager
def serve_process(**settings: str) -> Iterator[subprocess.Popen[str]]:
    """The server with `settings` (env var names), stdout and stderr in one pipe;
    killed at the end if it still runs."""
    process = subprocess.Popen(
        SERVE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=default_env(**settings), text=True
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def read_banner(process: subprocess.Popen[str]) -> str:
    """What the process printed up to the end of its start-up banner."""
    seen: list[str] = []
    assert process.stdout is not None
    for line in process.stdout:
        seen.append(line)
        if UP_LINE in line or len(seen) > 200:
            break
    return "".join(seen)


@contextlib.contextmanager
def default_serve() -> Iterator[tuple[subprocess.Popen[str], str]]:
    """serve with no settings: the running process and what it printed while starting."""
    with serve_process() as process:
        yield process, read_banner(process)


def stop_cleanly(process: subprocess.Popen[str]) -> str:
    """SIGTERM, then the rest of its output; it must exit 0 having said so."""
    process.send_signal(signal.SIGTERM)
    rest, _ = process.communicate(timeout=60)
    assert process.returncode == 0, rest
    assert "server stopped" in rest
    return rest


@contextlib.asynccontextmanager
async def serve_process_async(
    env: dict[str, str], log_path: str
) -> AsyncIterator[tuple[asyncio.subprocess.Process, str]]:
    """serve with exactly `env`, its log (stderr) in `log_path`: the process and its
    start-up banner (stdout up to the banner's end). Killed on exit if still running."""
    log = await asyncio.to_thread(open, log_path, "w")
    with log:
        process = await asyncio.create_subprocess_exec(*SERVE, env=env, stdout=asyncio.subprocess.PIPE, stderr=log)
    try:
        banner = ""
        async with asyncio.timeout(60):
            while UP_LINE not in banner:
                assert process.stdout is not None
                line = await process.stdout.readline()
                assert line, f"serve ended before it was up:\n{banner}"
                banner += line.decode()
        yield process, banner
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
