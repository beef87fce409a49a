"""A run: start bots at the ramp rate, let them play, wind down, report.

Every bot runs `scenarios.run_bot` as a task. `duration_s` bounds the whole run:
bots start at the ramp rate, and `finish_grace_s` before the duration's end no
bot begins a new game; games under way may finish meanwhile (the bots stop
steering after `game_seconds`), and whatever still plays at the duration's end is
cancelled. `interrupt()` (Ctrl-C) skips the grace. Every wait here is bounded.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import aiohttp

from snaketron.config import Settings
from snaketron.gc_policy import CollectorPolicy
from snaketron.loadtest.addresses import SourceAddresses, spread_addresses
from snaketron.loadtest.bot import REPLY_TIMEOUT_S, Bot, ClockEstimate, error_kind
from snaketron.loadtest.frames import SharedDecoder
from snaketron.loadtest.metrics import Metrics
from snaketron.loadtest.options import LoadTestOptions
from snaketron.loadtest.pilot import Pilots
from snaketron.loadtest.report import Report, build_report
from snaketron.loadtest.scenarios import LiveGames, LobbyGroup, plan_bots, run_bot

PROGRESS_EVERY_S = 1.0
# --sign-in-first: sign-ins in flight at once.
SIGN_IN_CONCURRENCY = 8


@dataclass
class RunContext:
    """What every bot of a run shares."""

    options: LoadTestOptions
    sources: SourceAddresses  # each bot's source address and account API client
    metrics: Metrics = field(default_factory=Metrics)
    pilots: Pilots = field(default_factory=lambda: Pilots(20))
    live_games: LiveGames = field(default_factory=LiveGames)
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    clock: ClockEstimate = field(default_factory=ClockEstimate)
    decoder: SharedDecoder = field(default_factory=SharedDecoder)


class LoadTest:
    def __init__(self, options: LoadTestOptions) -> None:
        options.check()
        self.options = options
        self.metrics = Metrics()
        self.interrupted = False
        self._stop = asyncio.Event()
        self.bots_started = 0
        self.source_addresses = 0  # loopback addresses the bots were spread over (0: none)
        self.ramped = False  # every bot has been started
        # Called when the warm-up is over and the steady state is measured from then on.
        self.on_steady: Callable[[], None] | None = None

    def interrupt(self) -> None:
        """Stop now: no grace for games under way."""
        self.interrupted = True
        self._stop.set()

    async def run(self, on_progress: Callable[[Metrics, float], None] | None = None) -> Report:
        options = self.options
        plans = plan_bots(options)
        groups = {id(p.group): p.group for p in plans if p.group is not None}
        began = time.monotonic()
        self.metrics.started_monotonic = began
        self.metrics.gc_pauses.install()
        timeout = aiohttp.ClientTimeout(total=REPLY_TIMEOUT_S * 3)
        addresses = spread_addresses(options.ws_url, options.bots, options.bots_per_address)
        self.source_addresses = len(addresses)
        sources = SourceAddresses(options.api_url, addresses, options.bots_per_address, timeout)
        try:
            ctx = RunContext(options, sources, self.metrics, Pilots(options.think_ticks))
            tasks: list[asyncio.Task[None]] = []
            # Bots play all the time: the policy's reclaim only comes when it is overdue.
            collector = CollectorPolicy(Settings.from_env(), games_running=lambda: True)
            bots = [Bot(index, ctx) for index in range(len(plans))]
            if options.sign_in_first:
                await self._sign_in_all(bots)
                began = time.monotonic()
            self.metrics.started_monotonic = self.metrics.steady_since = began
            progress = asyncio.get_running_loop().create_task(self._sample(on_progress))
            end = began + options.duration_s
            play_end = end - options.finish_grace_s  # no new game begins from here on
            try:
                for index, plan in enumerate(plans):
                    due = began + index / options.ramp_per_s
                    if await self._stopped_within(due - time.monotonic()) or time.monotonic() >= play_end:
                        break
                    tasks.append(asyncio.get_running_loop().create_task(run_bot(bots[index], plan, ctx)))
                    self.bots_started += 1
                self.ramped = True
                # Every bot and connection is made: from here on the server's collector
                # policy keeps them, and whatever else survives, out of full passes. After
                # a single freeze CPython's automatic full passes come back, each walking
                # everything since the freeze (gc_policy.py; measured in the server).
                gc.collect()
                collector.start()
                if options.warmup_s > 0 and not await self._stopped_within(options.warmup_s):
                    self.metrics.restart_steady_state()
                    if self.on_steady is not None:
                        self.on_steady()
                await self._stopped_within(play_end - time.monotonic())
            finally:
                self.metrics.end_steady_state()  # before the collector's reclaim, not after
                await collector.stop()
                progress.cancel()
                await self._wind_down(ctx, tasks, groups.values(), until=end)
        finally:
            await sources.close()
        self.metrics.gc_pauses.uninstall()
        return build_report(
            options,
            self.metrics,
            clock=ctx.clock,
            bots_started=self.bots_started,
            source_addresses=self.source_addresses,
            elapsed_s=time.monotonic() - began,
            interrupted=self.interrupted,
        )

    async def _sign_in_all(self, bots: list[Bot]) -> None:
        """Sign every bot in before the ramp; a bot whose sign-in failed tries again when it starts."""
        gate = asyncio.Semaphore(SIGN_IN_CONCURRENCY)

        async def sign_in(bot: Bot) -> None:
            async with gate:
                if self._stop.is_set():
                    return
                try:
                    await bot.sign_in()
                except Exception as exc:
                    self.metrics.error(error_kind(exc))

        await asyncio.gather(*(sign_in(bot) for bot in bots))

    async def _stopped_within(self, seconds: float) -> bool:
        if seconds > 0 and not self._stop.is_set():
            try:
                await asyncio.wait_for(self._stop.wait(), seconds)
            except TimeoutError:
                pass
        return self._stop.is_set()

    async def _wind_down(self, ctx: RunContext, tasks: list[asyncio.Task[None]], groups, *, until: float) -> None:
        """No new game; games under way may finish until `until`, then the rest is cut off."""
        ctx.stopping.set()
        ctx.live_games.stop()
        for group in groups:
            await group.stop()
        if tasks:
            grace = 0.0 if self.interrupted else until - time.monotonic()
            _, pending = await asyncio.wait(tasks, timeout=grace) if grace > 0 else (set(), set(tasks))
            pending = {t for t in pending if not t.done()}
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=10)
        ctx.pilots.cancel_all()

    async def _sample(self, on_progress: Callable[[Metrics, float], None] | None) -> None:
        while True:
            await asyncio.sleep(PROGRESS_EVERY_S)
            if self.ramped:
                self.metrics.players_live_samples.append(self.metrics.players_live)
            if on_progress is not None:
                on_progress(self.metrics, time.monotonic() - self.metrics.started_monotonic)


async def run_load_test(
    options: LoadTestOptions, on_progress: Callable[[Metrics, float], None] | None = None
) -> Report:
    return await LoadTest(options).run(on_progress)


__all__ = ["LoadTest", "LobbyGroup", "RunContext", "run_load_test"]
