"""`snaketron serve` as users start it: a child process on the embedded default,
configured only by the environment (none of the caller's AWS_/SNAKETRON_ settings)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator


@contextlib.contextmanager
def serve_process(**settings: str) -> Iterator[subprocess.Popen[str]]:
    """The server on free ports plus `settings` (env var names), output merged into stdout;
    killed at the end if it still runs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SNAKETRON_", "DYNAMODB_"))}
    env.update(SNAKETRON_WS_PORT="0", SNAKETRON_API_PORT="0", **settings)
    process = subprocess.Popen(
        [sys.executable, "-m", "snaketron.cli", "serve"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        text=True,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def stop_cleanly(process: subprocess.Popen[str]) -> str:
    """SIGTERM, then the rest of its output; it must exit 0 having said so."""
    process.send_signal(signal.SIGTERM)
    rest, _ = process.communicate(timeout=60)
    assert process.returncode == 0, rest
    assert "server stopped" in rest
    return rest
