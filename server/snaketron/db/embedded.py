"""`EmbeddedEndpoint`: an in-memory DynamoDB-compatible endpoint in a child process.

For development and tests with no endpoint configured. This process opens the
listening socket (a free loopback port) and keeps it for the endpoint's whole life;
the child (`snaketron.db.embedded_server`: moto behind waitress) serves on it. A
child that dies is replaced by `restart()` on the same socket, so clients keep their
URL and their requests wait in its backlog meanwhile; `EmbeddedSupervisor` does that
by itself for a running server. The child also exits by itself when this process
dies (it watches its stdin pipe). Data lives in memory only.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Awaitable, Callable

from snaketron.db.embedded_server import READY
from snaketron.db.errors import DatabaseUnavailable
from snaketron.db.models import DatabaseState
from snaketron.logs import get_logger
from snaketron.tasks import cancel_and_wait

log = get_logger("snaketron.db.embedded")

# Connections the kernel queues while no child serves (restarting): the server's
# whole pool and then some.
_BACKLOG = 1024


class EmbeddedEndpoint:
    """Start with `start()` (blocking) or `async with EmbeddedEndpoint() as ep`; `url` is the endpoint.

    `niceness` lowers the child's CPU priority (benchmarks: it stands in for a remote service)."""

    def __init__(self, *, start_timeout_s: float = 30.0, niceness: int = 0) -> None:
        self.start_timeout_s = start_timeout_s
        self.niceness = niceness
        self.url = ""
        self._listener: socket.socket | None = None
        self._process: subprocess.Popen[bytes] | None = None
        # start, restart and stop come from different threads (a supervisor restarts
        # while the server may be stopping): one at a time, and nothing after a stop.
        self._lifecycle = threading.Lock()
        self._stopped = False

    @property
    def pid(self) -> int | None:
        """The child's process id while it runs."""
        return self._process.pid if self._process is not None and self._process.poll() is None else None

    @property
    def running(self) -> bool:
        return self.pid is not None

    @property
    def stopped(self) -> bool:
        """Stopped on purpose (not merely dead)."""
        return self._stopped

    def start(self) -> str:
        with self._lifecycle:
            self._stopped = False
            return self._start()

    def _start(self) -> str:
        if self.running:
            return self.url
        if self._listener is None:
            self._listener = socket.create_server(("127.0.0.1", 0), backlog=_BACKLOG)
            self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._spawn()
        log.info("embedded dynamodb started", url=self.url, pid=self.pid)
        return self.url

    def restart(self) -> None:
        """A fresh child (empty tables) on the same socket, after the last one died."""
        with self._lifecycle:
            if self._stopped:
                raise DatabaseUnavailable("embedded endpoint stopped")
            self._reap()
            self._start()

    def _spawn(self) -> None:
        assert self._listener is not None
        env = dict(os.environ)
        # The child must not inherit an endpoint override pointing at itself or elsewhere.
        env.pop("AWS_ENDPOINT_URL", None)
        env.pop("AWS_ENDPOINT_URL_DYNAMODB", None)
        fd = self._listener.fileno()
        self._process = subprocess.Popen(
            [sys.executable, "-m", "snaketron.db.embedded_server", "--fd", str(fd)],
            stdin=subprocess.PIPE,  # closed by the OS when we die: the child then exits
            stdout=subprocess.PIPE,
            stderr=None,
            env=env,
            pass_fds=(fd,),
        )
        if self.niceness:
            os.setpriority(os.PRIO_PROCESS, self._process.pid, self.niceness)
        self._wait_ready()

    def _wait_ready(self) -> None:
        process = self._process
        assert process is not None and process.stdout is not None
        line: list[bytes] = []
        reader = threading.Thread(target=lambda: line.append(process.stdout.readline()), daemon=True)  # type: ignore[union-attr]
        reader.start()
        reader.join(self.start_timeout_s)
        said = line[0].decode().strip() if line else ""
        if said != READY:
            self._reap()
            raise DatabaseUnavailable(f"embedded endpoint did not start (said {said!r})")

    def wait_exited(self) -> int:
        """Block until the current child exits; its exit status (negative: killed by that signal)."""
        process = self._process
        return 0 if process is None else process.wait()

    def stop(self) -> None:
        with self._lifecycle:
            self._stopped = True
            self._reap()
            listener, self._listener = self._listener, None
            if listener is not None:
                listener.close()
                log.info("embedded dynamodb stopped")

    def _reap(self) -> None:
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
        for pipe in (process.stdin, process.stdout):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()

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


class EmbeddedSupervisor:
    """Restarts a running server's embedded endpoint when its process dies.

    A death is logged at error level; the new child starts on the same port, then
    `recreate` (the tables, the id counters) runs, and the loss of the in-memory data
    is logged at error level too. `on_state` hears "restarting", then "ok" (or
    "unavailable" when a restart failed; it is tried again after `retry_s`)."""

    def __init__(
        self,
        endpoint: EmbeddedEndpoint,
        recreate: Callable[[], Awaitable[None]],
        on_state: Callable[[DatabaseState], None],
        *,
        retry_s: float = 1.0,
    ) -> None:
        self.endpoint = endpoint
        self.restarts = 0
        self._recreate = recreate
        self._on_state = on_state
        self._retry_s = retry_s
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._watch(), name="embedded-endpoint-supervisor")

    async def stop(self) -> None:
        """Stop watching (before the endpoint is stopped on purpose)."""
        task, self._task = self._task, None
        await cancel_and_wait(task)

    async def _watch(self) -> None:
        while True:
            pid = self.endpoint.pid
            status = await _in_own_thread(self.endpoint.wait_exited)
            if self.endpoint.stopped:
                return
            self._on_state("restarting")
            log.error(
                "embedded dynamodb died; restarting it",
                pid=pid,
                exit_status=status,
                url=self.endpoint.url,
            )
            await self._restart()

    async def _restart(self) -> None:
        while True:
            try:
                await _in_own_thread(self.endpoint.restart)
                await self._recreate()
            except Exception as exc:  # any failure: say so, and try again
                self._on_state("unavailable")
                log.error("embedded dynamodb restart failed; trying again", error=str(exc), retry_s=self._retry_s)
                await asyncio.sleep(self._retry_s)
                continue
            self.restarts += 1
            self._on_state("ok")
            log.error(
                "embedded dynamodb restarted with empty tables: all data it held in memory was lost",
                url=self.endpoint.url,
                pid=self.endpoint.pid,
                restarts=self.restarts,
            )
            return


async def _in_own_thread(blocking: Callable[[], object]) -> object:
    """Run `blocking` on a thread of its own: waiting for a child can last the server's
    whole life, and must not hold one of the default executor's few threads."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[object] = loop.create_future()

    def run() -> None:
        result: object = None
        error: BaseException | None = None
        try:
            result = blocking()
        except BaseException as exc:  # handed to the awaiting task
            error = exc
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: nobody waits
            loop.call_soon_threadsafe(_settle, done, result, error)

    threading.Thread(target=run, name="embedded-endpoint-wait", daemon=True).start()
    return await done


def _settle(future: asyncio.Future[object], result: object, error: BaseException | None) -> None:
    if future.cancelled():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


__all__ = ["EmbeddedEndpoint", "EmbeddedSupervisor"]
