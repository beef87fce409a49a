"""What stopped an event loop: the process's own work, or the machine not running it.

A capacity step fails when a game's tick runs more than 100 ms late, and near the
limit that happens in one or two stalls of the whole server process. A stall is
either a long stretch of the process's own work (a callback, a collection) or time
it spent runnable but not running (preempted by its load on shared cores). The
two look alike from inside the loop; the CPU time the thread used across the stall
tells them apart, and a watchdog thread grabs the main thread's stack while the
stall lasts, so a stall of our own comes with its culprit.

    watch = StallWatch(GcPauses().install()).start()   # in the loop's thread
    ...
    watch.summary()                                # the longest stalls, as JSON-ready dicts
"""

from __future__ import annotations

import asyncio
import resource
import sys
import threading
import time
import traceback
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from snaketron.loadtest.metrics import GcPauses

BEAT_S = 0.005  # the loop's heartbeat
WATCHDOG_S = 0.010  # how often the watchdog looks
KEPT = 10  # stalls kept, the longest


def _major_faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_majflt  # one syscall, ~1 µs


class StallWatch:
    def __init__(self, pauses: GcPauses, threshold_ms: float = 60.0) -> None:
        self._pauses = pauses  # installed by the caller: its running total of collection time
        self.threshold_s = threshold_ms / 1000
        self.stalls: list[dict] = []
        self._last_beat = time.monotonic()
        self._last_cpu = time.thread_time()
        self._last_faults = _major_faults()
        self._stack: list[str] | None = None  # the main thread's stack, caught mid-stall
        self._last_collecting_s = pauses.collecting_s
        self._main_id = threading.get_ident()
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> StallWatch:
        self._loop = asyncio.get_running_loop()
        self._loop.call_later(BEAT_S, self._beat)
        threading.Thread(target=self._watch, name="stall-watch", daemon=True).start()
        return self

    def reset(self) -> None:
        self.stalls.clear()

    def _beat(self) -> None:
        now = time.monotonic()
        cpu = time.thread_time()
        faults = _major_faults()
        collecting_s = self._pauses.collecting_s
        gap = now - self._last_beat
        if gap - BEAT_S > self.threshold_s:
            self.stalls.append(
                {
                    "gap_ms": round(gap * 1000, 1),
                    # Near the gap: our own work. Near zero: we were not running.
                    "own_cpu_ms": round((cpu - self._last_cpu) * 1000, 1),
                    "major_faults": faults - self._last_faults,
                    "gc_ms": round((collecting_s - self._last_collecting_s) * 1000, 1),
                    "stack": self._stack,
                }
            )
            self.stalls.sort(key=lambda stall: -stall["gap_ms"])
            del self.stalls[KEPT:]
        self._stack = None
        self._last_beat, self._last_cpu, self._last_faults = now, cpu, faults
        self._last_collecting_s = collecting_s
        assert self._loop is not None
        self._loop.call_later(BEAT_S, self._beat)

    def _watch(self) -> None:
        while True:
            time.sleep(WATCHDOG_S)
            if self._stack is None and time.monotonic() - self._last_beat > self.threshold_s:
                frame = sys._current_frames().get(self._main_id)
                if frame is not None:
                    self._stack = [line.strip() for line in traceback.format_stack(frame, limit=6)]

    def summary(self) -> list[dict]:
        return list(self.stalls)
