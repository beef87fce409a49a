"""The collector policy found by the capacity benchmark (a full collection stopped
the server for 170 ms at 900 players): survivors are frozen while games run,
everything is reclaimed when none does or when it is overdue."""

from __future__ import annotations

import dataclasses
import gc

import pytest

from snaketron.config import Settings
from snaketron.gc_policy import CollectorPolicy


@pytest.fixture
def unfrozen():
    yield
    gc.unfreeze()


def policy(running: list[bool], **settings: float) -> CollectorPolicy:
    values = {"gc_freeze_seconds": 30.0, "gc_reclaim_minutes": 60.0, **settings}
    return CollectorPolicy(dataclasses.replace(Settings(), **values), games_running=lambda: running[0])


class Cycle:
    def __init__(self) -> None:
        self.me = self


def test_survivors_are_frozen_while_games_run(unfrozen):
    running = [True]
    survivor = Cycle()
    assert policy(running).step() == "frozen"
    assert gc.get_freeze_count() > 0
    assert gc.is_tracked(survivor)


def test_frozen_cycles_are_reclaimed_once_no_game_runs(unfrozen):
    running = [True]
    collector = policy(running)
    doomed = Cycle()
    collector.step()  # frozen while alive...
    del doomed  # ...then dead in a cycle the collector does not look at
    assert sum(isinstance(o, Cycle) for o in gc.get_objects()) == 0  # frozen objects are not listed
    running[0] = False
    assert collector.step() == "reclaimed"
    gc.unfreeze()
    assert not any(isinstance(o, Cycle) for o in gc.get_objects())


def test_an_overdue_reclaim_happens_even_while_games_run(unfrozen):
    collector = policy([True], gc_reclaim_minutes=0.0001)
    collector._last_reclaim -= 1  # more than 6 ms ago
    assert collector.step() == "reclaimed"


async def test_a_disabled_policy_leaves_the_collector_alone(unfrozen):
    gc.unfreeze()
    collector = policy([True], gc_freeze_seconds=0)
    collector.start()
    assert gc.get_freeze_count() == 0
    await collector.stop()


async def test_a_server_freezes_after_start_up_and_unfreezes_at_stop(start_server):
    gc.unfreeze()
    server = await start_server()
    assert gc.get_freeze_count() > 0
    await server.stop()
    assert gc.get_freeze_count() == 0


async def test_the_running_policy_owns_the_full_collections(unfrozen):
    """CPython's automatic full passes are off while the policy runs, and back after."""
    before = gc.get_threshold()
    collector = policy([True])
    collector.start()
    try:
        young, middle, old = gc.get_threshold()
        assert (young, middle) == before[:2] and old > 10**9
    finally:
        await collector.stop()
    assert gc.get_threshold() == before
