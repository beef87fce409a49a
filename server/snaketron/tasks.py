"""Fire-and-forget work that is still accounted for.

asyncio keeps only weak references to tasks, and an exception in a task nobody
awaits vanishes. `BackgroundTasks` keeps each task referenced until it ends,
logs its failure with what it was doing, and lets shutdown wait for the rest.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any

from snaketron.logs import get_logger

log = get_logger(__name__)


class BackgroundTasks:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, coro: Coroutine[Any, Any, Any], what: str) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(lambda t: self._done(t, what))
        return task

    def _done(self, task: asyncio.Task[Any], what: str) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background task failed", task=what, error=repr(task.exception()))

    def __len__(self) -> int:
        return len(self._tasks)

    async def wait(self, timeout_s: float) -> None:
        """Wait for running tasks (up to `timeout_s`), then cancel what is left."""
        if not self._tasks:
            return
        _, pending = await asyncio.wait(set(self._tasks), timeout=timeout_s)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=1.0)


# Tasks of modules that have no owner object to hold them (closing sockets).
detached = BackgroundTasks()


async def cancel_and_wait(task: asyncio.Task[Any] | None) -> None:
    """Cancel a long-running task of ours and wait until it has ended (None: nothing to do)."""
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
