"""Watching a server under test: the errors it logs and how late its games tick.

`ErrorWatch` collects every error-level record while it is active, from structlog
(the server's own loggers, whether or not `configure_logging` ran in this process)
and from the standard library (websockets' "connection handler failed", asyncio's
"Task exception was never retrieved"). A handler that crashes shows up here even
though the server stays up, which is exactly what a fuzz test must not let pass.

`TickWatch` reads a `Rooms`'s tick statistics over a stretch of a test.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any

import structlog

from snaketron.games import HostStats, Rooms


class _Collector(logging.Handler):
    def __init__(self, sink: list[str]) -> None:
        super().__init__(level=logging.ERROR)
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            text += f" ({record.exc_info[1]!r})"
        self.sink.append(f"{record.name}: {text}")


@dataclass
class ErrorWatch:
    errors: list[str] = field(default_factory=list)
    _stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)
    _captured: list[dict[str, Any]] = field(default_factory=list)

    def __enter__(self) -> ErrorWatch:
        handler = _Collector(self.errors)
        root = logging.getLogger()
        root.addHandler(handler)
        self._stack.callback(root.removeHandler, handler)
        self._captured = self._stack.enter_context(structlog.testing.capture_logs())
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def all(self) -> list[str]:
        structured = [
            f"{e.get('event')} { ({k: v for k, v in e.items() if k not in ('event', 'log_level')}) }"
            for e in self._captured
            if e.get("log_level") in ("error", "critical", "exception")
        ]
        return self.errors + structured


@dataclass
class TickWatch:
    """Tick figures of one host from `start()` on (the host's counters are reset)."""

    rooms: Rooms

    def start(self) -> None:
        self.rooms.stats = HostStats()

    def figures(self) -> dict[str, int]:
        s = self.rooms.stats
        return {"ticks": s.ticks, "late_ticks": s.late_ticks, "max_tick_lateness_ms": s.max_lateness_ms}
