"""Protocol fuzzing over real WebSocket connections, in every connection state.

Five seats are fuzzed: unauthenticated, authenticated, host of a lobby, player of a
running game and spectator of it. Each frame's answer is checked against
`support.hostile_frames.expected_replies` (the server's reading order and the state
table of PROTOCOL.md). Meanwhile two honest players sit in the fuzzed game, and an
honest observer plays 100 ms solo games back to back (`SoloLoop`): the host's tick
figures show whether the fuzzing made any game late, and the server's error log
whether any handler crashed. The fuzzer (`support.ws_fuzzer`) runs as a process of
its own, so that generating frames costs the server neither GIL nor GC time; the
abuse campaign, which generates little, runs in a worker thread.

- `test_every_state_answers_hostile_frames_and_games_stay_on_time`: hypothesis frames,
  then a seeded random campaign, one frame at a time, on a server whose message and
  error budgets are lifted (so a connection survives thousands of bad frames).
- `test_abuse_in_every_state_ends_in_a_close_and_harms_nobody_else`: the default
  budgets; error storms and floods end in 1008, frames past the hard limit in 1009,
  text frames that are not UTF-8 in 1007.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from websockets.exceptions import ConnectionClosed

from snaketron import protocol
from snaketron.client import AccountClient, GameClient
from snaketron.engine import CustomGameSettings, GameEventMessage
from snaketron.engine.timing import committed_tick
from snaketron.game_server import GameServer
from snaketron.games import wall_clock_ms
from snaketron.ws_server import HARD_FRAME_LIMIT_FACTOR
from support.gameplay import create_lobby, join_lobby
from support.hostile_frames import SEATS, RandomChooser, Seat, expected_replies, hostile_frame, reply_label
from support.server_watch import TickWatch
from support.solo_loop import SoloLoop
from support.sync_ws import SyncPlayer
from support.ws_fuzzer import open_seat

# The fuzzed game must outlive the fuzzing, however loaded the machine: three snakes on
# rows of their own in a wide arena need about 190 ticks (38 s) to reach a wall.
LONG_GAME = CustomGameSettings(arena_width=200, arena_height=200, tick_duration_ms=200, max_players=3, is_private=False)
HYPOTHESIS_EXAMPLES = 600  # per seat
SEEDED_FRAMES = 600  # per seat
SEED = 20261127
BASELINE_S = 2.0  # an idle stretch measured before the fuzzing, for comparison
# Error codes of `WsServer._refuse`: the refusals that count against a connection's budget.
REFUSALS = frozenset(
    (
        "binary_frame",
        "frame_too_large",
        "rate_limited",
        "invalid_json",
        "invalid_message",
        "unknown_message",
        "wrong_state",
    )
)


# --- the fuzzed game and its seats ----------------------------------------------------------------


@dataclass
class FuzzedGame:
    """A running three-player game: two honest players reading everything, and a third
    seat (its user rejoins it from the fuzzer)."""

    server: GameServer
    game_id: int
    honest: list[GameClient]
    drains: list[asyncio.Task[int]] = field(default_factory=list)

    def still_running(self) -> bool:
        hosted = self.server.rooms.get(self.game_id)
        return hosted is not None and not hosted.finished

    def ticks_behind(self) -> int:
        """How far the engine is behind the tick real time allows (at most 1 when on time)."""
        game = self.server.rooms.get(self.game_id).game
        return committed_tick(wall_clock_ms(), game.start_ms, game.tick_ms) - game.tick

    async def stop(self) -> list[int]:
        """Stop reading; the number of events each honest player received."""
        for task in self.drains:
            task.cancel()
        counts = [await task for task in self.drains]
        for client in self.honest:
            await client.close()
        return counts


async def _drain(client: GameClient) -> int:
    """Read an honest player's stream (as a real client does), counting events."""
    events = 0
    with contextlib.suppress(asyncio.CancelledError):
        while True:
            if isinstance(await client.recv(timeout=120), GameEventMessage):
                events += 1
    return events


async def _signed_in(accounts: AccountClient, count: int) -> list[str]:
    stamp = time.monotonic_ns() % 10**8
    return [(await accounts.register(f"fz{stamp}x{i}", "secret1")).token for i in range(count)]


async def _connected(server: GameServer, token: str) -> GameClient:
    client = await GameClient.connect(server.ws_url)
    await client.authenticate(token)
    return client


async def _fuzzed_game(server: GameServer, host_token: str, guest_token: str, seat_token: str) -> FuzzedGame:
    """Start the fuzzed game with the fuzzer's player seated; that seat's connection is
    closed again (the snake stays) for the fuzzer to rejoin."""
    host, guest = await _connected(server, host_token), await _connected(server, guest_token)
    seated = await _connected(server, seat_token)
    created = await create_lobby(host, LONG_GAME)
    for member in (guest, seated):
        await join_lobby(member, created.game_code)
    await host.send(protocol.StartCustomGame())
    for member in (host, guest, seated):
        await member.expect(protocol.CustomGameStarting)
    await seated.close()
    game = FuzzedGame(server, created.game_id, [host, guest])
    game.drains = [asyncio.create_task(_drain(c)) for c in game.honest]
    return game


def _observer_figures(played) -> dict[str, int]:
    return {"observer_games": len(played), "observer_events": sum(g.events for g in played)}


TESTS_DIR = Path(__file__).resolve().parents[1]  # where `support` is importable from


async def _run_fuzzer(job: dict) -> dict[str, dict]:
    tests_dir = TESTS_DIR
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(tests_dir), os.environ.get("PYTHONPATH")]))}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "support.ws_fuzzer",
        json.dumps(job),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=tests_dir,
        env=env,
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode(errors="replace")[-6000:]
    return json.loads(out)


@dataclass
class Scene:
    """A server with the fuzzed game running, an observer playing solo games beside it,
    and a signed-in user for each seat (the player seat's user seated in the game)."""

    server: GameServer
    game: FuzzedGame
    observer: SoloLoop
    seat_tokens: dict[Seat, str]
    spare_token: str


async def _scene(start_server, accounts_of, **overrides) -> Scene:
    server = await start_server(**overrides)
    tokens = await _signed_in(accounts_of(server), 9)
    seat_tokens = dict(zip(SEATS, tokens[2:7], strict=True))
    game = await _fuzzed_game(server, tokens[0], tokens[1], seat_tokens["player"])
    observer = SoloLoop(await _connected(server, tokens[7])).start()
    return Scene(server, game, observer, seat_tokens, tokens[8])


async def test_every_state_answers_hostile_frames_and_games_stay_on_time(
    start_server, accounts_of, report, server_errors
):
    lifted = {"msg_rate_per_sec": 1e9, "msg_burst": 10**9, "max_errors_before_close": 10**9}
    scene = await _scene(start_server, accounts_of, **lifted)
    server, game, observer = scene.server, scene.game, scene.observer
    ticks = TickWatch(server.rooms)
    # The same figures without fuzzing first: what this machine's load alone costs.
    ticks.start()
    await asyncio.sleep(BASELINE_S)
    baseline = ticks.figures()
    job = {
        "ws_url": server.ws_url,
        "game_id": game.game_id,
        "tokens": scene.seat_tokens,
        "max_frame": server.settings.max_frame_bytes,
        "examples": HYPOTHESIS_EXAMPLES,
        "seeded": SEEDED_FRAMES,
        "seed": SEED,
    }
    try:
        ticks.start()
        tallies = await _run_fuzzer(job)
        assert game.still_running(), "the fuzzed game ended early: the seats' states would have changed"
        behind = game.ticks_behind()
    finally:
        honest_events = await game.stop()
        played = await observer.stop()  # its game under way during the fuzzing ends first
    figures = ticks.figures()

    # Still serving: a newcomer signs in and is answered.
    newcomer = await _connected(server, scene.spare_token)
    await newcomer.send(protocol.Ping())
    assert isinstance(await newcomer.recv(), protocol.Pong)
    await newcomer.close()

    kinds: Counter = Counter()
    for t in tallies.values():
        kinds.update(t["kinds"])
    errors = server_errors.all()
    report(
        frames_answered=sum(t["sent"] for t in tallies.values()),
        answers={seat: t["answers"] for seat, t in tallies.items()},
        skipped_valid_requests=sum(t["skipped"] for t in tallies.values()),
        kinds=dict(kinds),
        honest_events=honest_events,
        fuzzed_game_ticks_behind=behind,
        server_errors=len(errors),
        **_observer_figures(played),
        **figures,
        idle_baseline=baseline,
    )
    assert errors == [], errors  # no handler crashed, no task failed
    assert all(t["sent"] >= 200 for t in tallies.values()), {seat: t["sent"] for seat, t in tallies.items()}
    assert behind <= 1 and figures["ticks"] > 0  # the fuzzed game kept up with real time
    assert min(honest_events) > 0 and played and observer.refusals == []


# --- abuse: what ends a connection ----------------------------------------------------------------

ABUSES = ("error_storm", "flood", "too_big", "bad_utf8")
EXPECTED_CLOSE = {"error_storm": 1008, "flood": 1008, "too_big": 1009, "bad_utf8": 1007}


def _abuse(player: SyncPlayer, seat: Seat, abuse: str, max_frame: int) -> tuple[int | None, Counter]:
    """Misbehave in one way until the server closes; the close code and what it said."""
    try:
        if abuse == "error_storm":  # refused frames, back to back, past the error budget
            chooser = RandomChooser(random.Random(f"{SEED}-storm-{seat}"))
            sent = 0
            while sent < 60:
                frame = hostile_frame(chooser, max_frame)
                expected = expected_replies(frame, seat, max_frame)
                if expected and all(label.startswith("Error:") for label in expected):
                    player.send_raw(frame.data)
                    sent += 1
        elif abuse == "flood":  # valid messages, far past the rate budget
            for _ in range(400):
                player.send(protocol.Ping())
        elif abuse == "too_big":  # past the hard frame limit: not even buffered
            player.send_raw('"' + "x" * (HARD_FRAME_LIMIT_FACTOR * max_frame + 1) + '"')
        else:  # a text frame that is not UTF-8
            player.send_raw(b'{"Chat": "\xff\xfe"}', text=True)
    except ConnectionClosed:
        pass  # closed while we were still sending: that is the point
    code, _, seen = player.wait_closed(timeout=10)
    return code, Counter(reply_label(m) for m in seen if not isinstance(m, GameEventMessage))


def _abuse_campaign(server: GameServer, game_id: int, tokens: dict[Seat, str]) -> dict[str, dict]:
    max_frame = server.settings.max_frame_bytes
    outcomes: dict[str, dict] = {}
    for seat in SEATS:
        for abuse in ABUSES:
            player = open_seat(server.ws_url, seat, tokens[seat], game_id)  # a fresh connection each time
            code, seen = _abuse(player, seat, abuse, max_frame)
            player.close()
            outcomes[f"{seat}/{abuse}"] = {"close": code, "seen": dict(seen)}
    return outcomes


async def test_abuse_in_every_state_ends_in_a_close_and_harms_nobody_else(
    start_server, accounts_of, report, server_errors
):
    scene = await _scene(start_server, accounts_of)  # default budgets: 40 msg/s (burst 80), 20 errors, 16 KB
    server, game, observer = scene.server, scene.game, scene.observer
    ticks = TickWatch(server.rooms)
    ticks.start()
    try:
        outcomes = await asyncio.to_thread(_abuse_campaign, server, game.game_id, scene.seat_tokens)
        assert game.still_running()
        behind = game.ticks_behind()
    finally:
        honest_events = await game.stop()
        played = await observer.stop()  # its game under way during the abuse ends first
    figures = ticks.figures()

    errors = server_errors.all()
    report(
        connections_abused=len(outcomes),
        close_codes=dict(Counter(str(o["close"]) for o in outcomes.values())),
        outcomes=outcomes,
        honest_events=honest_events,
        fuzzed_game_ticks_behind=behind,
        server_errors=len(errors),
        **_observer_figures(played),
        **figures,
    )
    assert errors == [], errors
    budget = server.settings.max_errors_before_close
    for name, outcome in outcomes.items():
        abuse, seen = name.split("/")[1], outcome["seen"]
        assert outcome["close"] == EXPECTED_CLOSE[abuse], (name, outcome)
        refused = sum(n for label, n in seen.items() if label.startswith("Error:") and label[6:] in REFUSALS)
        if abuse == "error_storm":
            assert refused == budget, (name, outcome)  # every refusal answered, up to the budget
        if abuse == "flood":
            assert set(seen) == {"Pong", "Error:rate_limited"} and refused == budget, (name, outcome)
            # The whole burst is answered (less the one or two messages that set the seat up).
            assert seen["Pong"] >= server.settings.msg_burst - 2, (name, outcome)
    assert behind <= 1 and min(honest_events) > 0 and played and figures["ticks"] > 0
