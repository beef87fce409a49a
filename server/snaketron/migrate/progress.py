"""Progress of a migration, one bar per table (rich), behind a small protocol.

The runner only calls `ProgressSink` methods; the command line shows rich bars,
tests pass their own sink (for example one that interrupts the run mid-table).
"""

from __future__ import annotations

from typing import Protocol

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


class ProgressSink(Protocol):
    def start_phase(self, phase: str, *, total: int, completed: int) -> None: ...

    def advance(self, phase: str, rows: int) -> None: ...

    def finish_phase(self, phase: str) -> None: ...


class SilentProgress:
    def start_phase(self, phase: str, *, total: int, completed: int) -> None:
        pass

    def advance(self, phase: str, rows: int) -> None:
        pass

    def finish_phase(self, phase: str) -> None:
        pass


class RichProgress:
    """Live bars with rows done, rate and time left; use as a context manager."""

    def __init__(self, console: Console) -> None:
        self._progress = Progress(
            TextColumn("{task.description:<11}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("[progress.percentage]{task.percentage:>5.1f}%"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self._tasks: dict[str, TaskID] = {}

    def __enter__(self) -> RichProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def start_phase(self, phase: str, *, total: int, completed: int) -> None:
        self._tasks[phase] = self._progress.add_task(phase, total=max(total, completed), completed=completed)

    def advance(self, phase: str, rows: int) -> None:
        self._progress.advance(self._tasks[phase], rows)

    def finish_phase(self, phase: str) -> None:
        task = self._tasks[phase]
        # The count was taken before streaming: end the bar where the stream ended.
        self._progress.update(task, total=self._progress.tasks[task].completed)
