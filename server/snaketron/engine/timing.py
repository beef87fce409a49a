"""Game time as pure functions of the clock reading, the start time and the tick length.

Tick T covers [start_ms + T*tick_ms, start_ms + (T+1)*tick_ms). The server's
committed state runs COMMIT_DELAY_TICKS behind real time: tick T is computed once
now >= start_ms + (T + COMMIT_DELAY_TICKS + 1) * tick_ms. That window absorbs
input latency while clients predict ahead of it.
"""

from __future__ import annotations

COMMIT_DELAY_TICKS = 5


def target_tick(now_ms: int, start_ms: int, tick_ms: int) -> int:
    """The tick real time is in (negative before the start)."""
    return (now_ms - start_ms) // tick_ms


def committed_tick(now_ms: int, start_ms: int, tick_ms: int) -> int:
    """The last tick the server may compute at `now_ms` (negative while none may be)."""
    return target_tick(now_ms, start_ms, tick_ms) - COMMIT_DELAY_TICKS - 1


def tick_deadline_ms(tick: int, start_ms: int, tick_ms: int) -> int:
    """When `tick` becomes computable: the scheduler sleeps until then."""
    return start_ms + (tick + COMMIT_DELAY_TICKS + 1) * tick_ms
