"""The harness against a real test server: short runs of every scenario complete
games with zero errors and produce a well-formed report."""

from __future__ import annotations

import gc
import itertools

import msgspec
import pytest

from snaketron.game_server import GameServer
from snaketron.gc_policy import NO_AUTOMATIC_FULL_COLLECTIONS
from snaketron.loadtest.metrics import LATENCIES, Latency
from snaketron.loadtest.options import LoadTestOptions, Role
from snaketron.loadtest.report import Report, read_json, write_json
from snaketron.loadtest.runner import LoadTest, run_load_test

_runs = itertools.count(1)


FINISH_GRACE_S = 20.0


def options_for(server: GameServer, scenario: str, bots: int, **extra: object) -> LoadTestOptions:
    """Bots play for `play_s`, then have FINISH_GRACE_S to end their games (a run ends
    once every bot is done, so the grace costs nothing when the games end sooner)."""
    return LoadTestOptions(
        ws_url=server.ws_url,
        api_url=server.api_url,
        scenario=scenario,
        bots=bots,
        ramp_per_s=50,
        duration_s=extra.pop("play_s", 3.0) + FINISH_GRACE_S,
        game_seconds=extra.pop("game_seconds", 2.5),
        finish_grace_s=FINISH_GRACE_S,
        user_prefix=f"lt{next(_runs)}b",
        progress=False,
        max_error_rate=0.0,
        **extra,
    )


def assert_clean(report: Report) -> None:
    assert report.errors == {}, report.errors
    assert report.passed
    assert report.bots_started == report.bots_planned
    assert report.latency_ms["connect"].count >= report.bots_started
    assert report.latency_ms["auth"].count >= report.bots_started
    delivery = report.latency_ms["event_delivery"]
    assert delivery.count > 0
    # Same machine, light load: events arrive within a few ticks of their due time.
    assert delivery.p50_ms < 300, delivery
    assert report.messages_received > report.messages_sent > 0


async def test_solo_bots_complete_games_and_steer(server):
    # Bots look for food every other tick, so they turn well before their 2.5 s are up.
    report = await run_load_test(options_for(server, "solo", 3, think_ticks=2))
    assert_clean(report)
    assert report.games_completed["solo"] >= 3
    # The pilot turned snakes and every turn came back as CommandScheduled.
    assert report.latency_ms["command_to_scheduled"].count > 0


async def test_lobby_groups_host_join_start_and_finish(server):
    # One duel group (2 bots) and one 6-player free-for-all group.
    report = await run_load_test(options_for(server, "mix", 8, mix={Role.LOBBY_DUEL: 2, Role.LOBBY_FFA: 6}))
    assert_clean(report)
    assert report.games_completed.get("lobby-duel", 0) >= 1
    assert report.games_completed.get("lobby-ffa", 0) >= 1
    assert report.plays_completed["lobby-ffa"] >= 6


async def test_spectators_watch_games_of_the_run(server):
    report = await run_load_test(options_for(server, "spectate", 3))
    assert_clean(report)
    assert report.plays_completed.get("spectate", 0) >= 1


async def test_matchmaking_bots_are_matched(start_server):
    # Short waits: a match starts soon after it forms, and a free-for-all of 4 queued
    # bots (8 bots: 4 duel, 4 free-for-all) forms without waiting for 6.
    server = await start_server(matchmade_start_delay_ms=300, match_partial_after_ms=1000)
    report = await run_load_test(options_for(server, "matchmaking", 8, play_s=4.0))
    assert_clean(report)
    assert report.latency_ms["queue_to_match"].count >= 8
    assert report.games_completed.get("match-duel", 0) >= 1
    assert report.games_completed.get("match-ffa", 0) >= 1


async def test_report_round_trips_through_json(server, tmp_path):
    report = await run_load_test(options_for(server, "solo", 1, play_s=1.5))
    path = tmp_path / "report.json"
    write_json(report, str(path))
    again = read_json(str(path))
    assert again == report
    raw = msgspec.json.decode(path.read_bytes())
    assert set(raw["latency_ms"]) == set(LATENCIES)
    assert {"p50_ms", "p99_ms", "max_ms", "count"} <= set(raw["latency_ms"]["event_delivery"])
    assert raw["error_rate"] == 0 and raw["passed"] is True
    # The encoded histograms carry the same distribution, so runs can be merged.
    merged = Latency.merged([report.latency_hdr["event_delivery"]] * 2).summary()
    assert merged.count == 2 * report.latency_ms["event_delivery"].count
    assert merged.p99_ms == report.latency_ms["event_delivery"].p99_ms


def test_only_this_machine_is_a_target():
    for url in ("ws://10.0.0.5:8080/ws", "ws://example.com/ws", "http://127.0.0.1:3001"):
        with pytest.raises(ValueError):
            LoadTestOptions(ws_url=url, api_url="http://127.0.0.1:3001").check()
    LoadTestOptions(ws_url="ws://localhost:1/ws", api_url="http://127.0.0.1:2").check()


async def test_the_load_generator_runs_the_collector_policy_while_bots_play(start_server):
    # The server here leaves the collector alone, so what is seen is the load generator's.
    server = await start_server(gc_freeze_seconds=0)
    before = gc.get_threshold()
    seen: list[tuple[int, int]] = []
    load_test = LoadTest(options_for(server, "solo", 2, warmup_s=0.5))
    load_test.on_steady = lambda: seen.append((gc.get_threshold()[2], gc.get_freeze_count()))
    assert_clean(await load_test.run())
    # In the steady state: survivors frozen, and no automatic full pass to walk them all.
    [(full_threshold, frozen)] = seen
    assert full_threshold == NO_AUTOMATIC_FULL_COLLECTIONS
    assert frozen > 0
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
