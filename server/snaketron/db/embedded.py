"""`EmbeddedEndpoint`: an in-memory DynamoDB-compatible endpoint in a child process.

For development and tests with no endpoint configured. It runs moto's server
(`snaketron.db.embedded_server`) as a child on a free loopback port, waits until
it answers, and stops it on exit. The child also exits by itself when this
process dies (it watches its stdin pipe). Data lives in memory only.

It serves a few hundred requests per second: callers should make few, batched
requests (the batch writer does).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

from snaketron.db.errors import DatabaseUnavailable
from snaketron.logs import get_logger

log = get_logger("snaketron.db.embedded")


class EmbeddedEndpoint:
    """Start with `start()` (blocking) or `async with EmbeddedEndpoint() as ep`; `url` is the endpoint."""

    def __init__(self, *, start_timeout_s: float = 30.0) -> None:
        self.start_timeout_s = start_timeout_s
        self.url = ""
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> str:
        if self.running:
            return self.url
        env = dict(os.environ)
        # The child must not inherit an endpoint override pointing at itself or elsewhere.
        env.pop("AWS_ENDPOINT_URL", None)
        env.pop("AWS_ENDPOINT_URL_DYNAMODB", None)
        self._process = subprocess.Popen(
            [sys.executable, "-m", "snaketron.db.embedded_server"],
            stdin=subprocess.PIPE,  # closed by the OS when we die: the child then exits
            stdout=subprocess.PIPE,
            stderr=None,
            env=env,
        )
        port = self._read_port()
        self.url = f"http://127.0.0.1:{port}"
        self._wait_answering()
        log.info("embedded dynamodb started", url=self.url, pid=self._process.pid)
        return self.url

    def _read_port(self) -> int:
        assert self._process is not None and self._process.stdout is not None
        line: list[bytes] = []
        reader = threading.Thread(target=lambda: line.append(self._process.stdout.readline()), daemon=True)  # type: ignore[union-attr]
        reader.start()
        reader.join(self.start_timeout_s)
        text = line[0].decode().strip() if line else ""
        if not text.startswith("PORT "):
            self.stop()
            raise DatabaseUnavailable(f"embedded endpoint did not start (said {text!r})")
        return int(text.split()[1])

    def _wait_answering(self) -> None:
        deadline = time.monotonic() + self.start_timeout_s
        while True:
            try:
                # Any HTTP answer means the server is up; moto answers 4xx/5xx to a bare GET.
                urllib.request.urlopen(self.url + "/moto-api/", timeout=1.0).close()
                return
            except urllib.error.HTTPError:
                return
            except OSError as exc:
                if not self.running or time.monotonic() > deadline:
                    self.stop()
                    raise DatabaseUnavailable(f"embedded endpoint does not answer: {exc}") from exc
                time.sleep(0.05)

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            if process.stdin is not None:
                process.stdin.close()  # the child's cue to exit
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        if process.stdout is not None:
            process.stdout.close()
        log.info("embedded dynamodb stopped")

    async def __aenter__(self) -> EmbeddedEndpoint:
        await asyncio.to_thread(self.start)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.to_thread(self.stop)

    def __enter__(self) -> EmbeddedEndpoint:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
