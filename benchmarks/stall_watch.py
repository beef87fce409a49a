"""What stopped an event loop: the process's own work, or the machine not running it.

A capacity step fails when a game's tick runs more than 100 ms late, and near the
limit that happens in one or two stalls of the whole server process. A stall is
either a long stretch of the process's own work (a callback, a collection) or time
it spent runnable but not running (preempted by its load on shared cores). The
two look alike from inside the loop; the CPU time the thread used across the stall
tells them apart, and a watchdog thread grabs the main thread's stack while the
stall lasts, so a stall of our own comes with its culprit.

    watch = StallWatch(threshold_ms=60).start()    # in the loop's thread
    ...
    watch.summary()                                # the longest stalls, as JSON-ready dicts
"""

from __future__ import annotations

import asyncio
import gc
import resource
import sys
import threading
import time
import traceback

BEAT_S = 0.005  # the loop's heartbeat
WATCHDOG_S = 0.010  # how often the watchdog looks
KEPT = 10  # stalls kept, the longest


def _major_faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_majflt  # one syscall, ~1 µs


class StallWatch:
    def __init__(self, threshold_ms: float = 60.0) -> None:
        self.threshold_s = threshold_ms / 1000
        self.stalls: list[dict] = []
        self._last_beat = time.monotonic()
        self._last_cpu = time.thread_time()
        self._last_faults = _major_faults()
        self._stack: list[str] | None = None  # the main thread's stack, caught mid-stall
        self._gc_s = 0.0  # time in collections since the last beat
        self._gc_began = 0.0
        self._main_id = threading.get_ident()
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> StallWatch:
        self._loop = asyncio.get_running_loop()
        self._loop.call_later(BEAT_S, self._beat)
        threading.Thread(target=self._watch, name="stall-watch", daemon=True).start()
        gc.callbacks.append(self._on_gc)
        return self

    def _on_gc(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._gc_began = time.perf_counter()
        else:
            self._gc_s += time.perf_counter() - self._gc_began

    def reset(self) -> None:
        self.stalls.clear()

    def _beat(self) -> None:
        now = time.monotonic()
        cpu = time.thread_time()
        faults = _major_faults()
        gap = now - self._last_beat
        if gap - BEAT_S > self.threshold_s:
            self.stalls.append(
                {
                    "gap_ms": round(gap * 1000, 1),
                    # Near the gap: our own work. Near zero: we were not running.
                    "own_cpu_ms": round((cpu - self._last_cpu) * 1000, 1),
                    "major_faults": faults - self._last_faults,
                    "gc_ms": round(self._gc_s * 1000, 1),
                    "stack": self._stack,
                }
            )
            self.stalls.sort(key=lambda stall: -stall["gap_ms"])
            del self.stalls[KEPT:]
        self._stack = None
        self._gc_s = 0.0
        self._last_beat, self._last_cpu, self._last_faults = now, cpu, faults
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
