"""What a load test measures: latency histograms (HDR, microseconds) and counters.

Every bot of a run records into one `Metrics` (one process, one event loop, so
no locking). Latencies below zero can only come from clock error (the clock-sync
offset is an estimate); they are recorded as 0 and counted apart, so a skewed
clock shows up instead of silently shortening the tail.
"""

from __future__ import annotations

import collections
import gc
import time

import msgspec
from hdrh.histogram import HdrHistogram

# 1 µs .. 10 min, 3 significant digits: fine enough for p99.9 of ms latencies.
LOWEST_US = 1
HIGHEST_US = 600_000_000
SIGNIFICANT_DIGITS = 3


class LatencySummary(msgspec.Struct):
    count: int
    mean_ms: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    p999_ms: float
    max_ms: float


class Latency:
    """One latency distribution."""

    __slots__ = ("histogram", "negative")

    def __init__(self) -> None:
        self.histogram = HdrHistogram(LOWEST_US, HIGHEST_US, SIGNIFICANT_DIGITS)
        self.negative = 0

    def record_ms(self, value_ms: float) -> None:
        if value_ms < 0:
            self.negative += 1
            value_ms = 0.0
        self.histogram.record_value(min(HIGHEST_US, max(LOWEST_US, int(value_ms * 1000))))

    @property
    def count(self) -> int:
        return self.histogram.get_total_count()

    def percentile_ms(self, percentile: float) -> float:
        return self.histogram.get_value_at_percentile(percentile) / 1000 if self.count else 0.0

    def encoded(self) -> str:
        """The histogram in HDR's compressed text form, so that runs can be merged."""
        return self.histogram.encode().decode("ascii")

    @classmethod
    def merged(cls, encoded: list[str]) -> Latency:
        """One distribution from the encoded histograms of several runs (load generators)."""
        latency = cls()
        for text in encoded:
            latency.histogram.add(HdrHistogram.decode(text.encode("ascii")))
        return latency

    def summary(self) -> LatencySummary:
        h = self.histogram
        if not self.count:
            return LatencySummary(0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
        return LatencySummary(
            count=self.count,
            mean_ms=round(h.get_mean_value() / 1000, 3),
            p50_ms=self.percentile_ms(50),
            p90_ms=self.percentile_ms(90),
            p99_ms=self.percentile_ms(99),
            p999_ms=self.percentile_ms(99.9),
            max_ms=h.get_max_value() / 1000,
        )


class GcPauses:
    """How long the garbage collector stopped this process, per generation (gc callbacks).

    With thousands of connections a full collection can take long enough to show
    in p99 latency, in the server and in the load generator alike."""

    def __init__(self) -> None:
        self._began = 0.0
        self.count = [0, 0, 0]
        self.max_ms = [0.0, 0.0, 0.0]
        # Every collection since install, never reset: callers take differences.
        self.collecting_s = 0.0

    def install(self) -> GcPauses:
        gc.callbacks.append(self._on_gc)
        return self

    def uninstall(self) -> None:
        if self._on_gc in gc.callbacks:
            gc.callbacks.remove(self._on_gc)

    def reset(self) -> None:
        self.count = [0, 0, 0]
        self.max_ms = [0.0, 0.0, 0.0]

    def _on_gc(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._began = time.perf_counter()
            return
        elapsed_s = time.perf_counter() - self._began
        self.collecting_s += elapsed_s
        generation = info["generation"]
        self.count[generation] += 1
        self.max_ms[generation] = max(self.max_ms[generation], elapsed_s * 1000)

    def summary(self) -> dict[str, list]:
        return {"count": list(self.count), "max_ms": [round(m, 1) for m in self.max_ms]}


# The latencies of a run, by name (the report keeps this order).
LATENCIES = (
    "sign_in",  # HTTP register-or-login
    "connect",  # WebSocket opening handshake
    "auth",  # Token -> Authenticated
    "queue_to_match",  # QueueForMatch sent -> MatchFound received
    "command_to_scheduled",  # GameCommand sent -> its CommandScheduled received
    "event_delivery",  # the event's server time -> arrival (see bot.event_server_time_ms)
)

# What `--warmup` discards: the figures of playing, not of joining.
STEADY_STATE_LATENCIES = ("command_to_scheduled", "event_delivery")


class Metrics:
    def __init__(self) -> None:
        self.latency = {name: Latency() for name in LATENCIES}
        self.received = 0  # frames
        self.received_bytes = 0
        self.sent = 0
        self.attempts = 0  # sign-ins, connections and games begun: the error rate's denominator
        self.errors: collections.Counter[str] = collections.Counter()
        # Answers that said "retry later" (Retry-After), waited out and asked again: not errors.
        self.throttled: collections.Counter[str] = collections.Counter()
        # Per bot: a duel of two local bots is two plays.
        self.plays_started: collections.Counter[str] = collections.Counter()
        self.plays_completed: collections.Counter[str] = collections.Counter()
        # Distinct games played to the end by local bots.
        self.games_completed: collections.Counter[str] = collections.Counter()
        self._completed_game_ids: set[int] = set()
        self.late_commands = 0  # turns refused because the game had just ended: a race, not an error
        self.clock_offsets_ms: list[float] = []
        self.bots_running = 0
        self.bots_in_game = 0
        self.players_live = 0  # bots playing in a started game (not lobbies, not spectators)
        self.players_live_samples: list[int] = []  # players_live once a second, once all bots started
        self.gc_pauses = GcPauses()  # of this process, from the steady state's start
        self.started_monotonic = time.monotonic()
        # Where the steady state began (the warm-up's end; the start without one).
        self.steady_since = self.started_monotonic
        self.steady_received_base = 0
        self.steady_bytes_base = 0
        self.steady: tuple[float, int, int] | None = None  # seconds, frames, bytes: set at the duration's end
        # The steady state's in-game latencies and collections, as they stood at its end.
        self.steady_latency: dict[str, Latency] = {}
        self.steady_gc: dict[str, list] = {}

    def restart_steady_state(self) -> None:
        """Forget the in-game latencies so far (the ramp-up's) and start sampling afresh."""
        for name in STEADY_STATE_LATENCIES:
            self.latency[name] = Latency()
        self.players_live_samples.clear()
        self.gc_pauses.reset()
        self.steady_since = time.monotonic()
        self.steady_received_base = self.received
        self.steady_bytes_base = self.received_bytes

    def end_steady_state(self) -> None:
        """The duration is over: what follows is not the steady state. The last games
        wind down, thousands of connections close and the collector reclaims what it
        kept frozen (a full pass of 400+ ms with thousands of bots): in-game latencies
        and collections from then on go to figures that are not reported."""
        if self.steady is None:
            self.steady = (
                time.monotonic() - self.steady_since,
                self.received - self.steady_received_base,
                self.received_bytes - self.steady_bytes_base,
            )
            for name in STEADY_STATE_LATENCIES:
                self.steady_latency[name] = self.latency[name]
                self.latency[name] = Latency()
            self.steady_gc = self.gc_pauses.summary()

    def game_completed(self, kind: str, game_id: int) -> None:
        if game_id not in self._completed_game_ids:
            self._completed_game_ids.add(game_id)
            self.games_completed[kind] += 1

    def error(self, kind: str) -> None:
        self.errors[kind] += 1

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    @property
    def error_rate(self) -> float:
        return self.error_count / max(1, self.attempts)
