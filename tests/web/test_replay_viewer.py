"""The replay viewer's timeline (JavaScript, under node) shows the engine's board at
every tick of a replayed game, and its markers are the game's deaths and food eaten."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import aiohttp
import msgspec
import pytest

from snaketron.engine import Game, Position, Recording, replay_events, type_free_for_all, type_team_match
from snaketron.engine.body import expand
from support.replay_games import Plan, play

NODE = shutil.which("node")
HARNESS = Path(__file__).parent / "js" / "replay_timeline.mjs"

pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed: the viewer cannot run")


def engine_boards(recording: Recording) -> dict[int, list]:
    """The engine's board before each tick (cells and alive per snake)."""
    boards: dict[int, list] = {}

    def keep(game: Game) -> None:
        boards[game.tick] = [[expand(s.body), s.is_alive] for s in game.state.arena.snakes]

    replay_events(recording, each_tick=keep)
    return boards


def viewer(body: bytes) -> dict:
    result = subprocess.run([NODE, str(HARNESS)], input=body, capture_output=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr.decode()[-3000:]
    return json.loads(result.stdout)


@pytest.mark.parametrize(
    "plan",
    [
        Plan(type_team_match(1), 2, 0, 31, (1, 3), (0, 2, -1), 0, None),
        Plan(type_free_for_all(4), 4, 1, 32, (2,), (0, 5), 4, None),
        Plan(type_free_for_all(3), 3, 0, 33, (1,), (0,), 0, 25),
    ],
    ids=["duel", "ffa-spectators", "abandoned"],
)
def test_the_viewer_shows_the_engines_board_at_every_tick(plan: Plan) -> None:
    game, _, _ = play(plan)
    if not game.is_complete:
        game.abandon()
    recording = game.recording()
    assert recording is not None
    events = replay_events(recording)
    body = msgspec.json.encode(
        {
            "game_id": recording.game_id,
            "rules_version": recording.rules_version,
            "tick_duration_ms": game.tick_ms,
            "final_tick": recording.final_tick,
            "events": events,
        }
    )
    shown = viewer(body)
    assert shown["finalTick"] == game.tick
    assert len(shown["frames"]) == game.tick + 1

    # Every tick, not only those with a snapshot: the viewer computes the ticks between.
    boards = engine_boards(recording)
    assert sorted(boards) == list(range(game.tick + 1))
    for tick, snakes in boards.items():
        frame = shown["frames"][tick]
        assert frame["tick"] == tick
        assert [[expand_js(s[0]), s[1]] for s in frame["snakes"]] == snakes, f"tick {tick}"

    deaths = [(e.tick, e.event.SnakeDied.snake_id) for e in events if e.event.SnakeDied is not None]
    eaten = [(e.tick, e.event.FoodEaten.snake_id) for e in events if e.event.FoodEaten is not None]
    assert [(m["tick"], m["snakeId"]) for m in shown["markers"] if m["kind"] == "death"] == deaths
    assert [(m["tick"], m["snakeId"]) for m in shown["markers"] if m["kind"] == "food"] == eaten
    assert shown["names"] == [name for _, name in recording.seats]
    assert shown["afterPlay"] == min(8, game.tick)
    assert shown["seekClamped"] == game.tick


def expand_js(points: list[dict]) -> list[tuple[int, int]]:
    """A compressed body as the viewer describes it (head, turn points, tail), as every cell."""
    return expand([Position(p["x"], p["y"]) for p in points])


async def test_a_shared_replay_link_opens_the_page_on_that_replay(server) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{server.api_url}/replay/42", allow_redirects=False) as resp:
            assert resp.status == 302
            assert resp.headers["Location"] == "/?replay=42"
        async with http.get(f"{server.api_url}/replay/42") as resp:
            assert resp.status == 200
            assert 'id="screen-replay"' in await resp.text()
        async with http.get(f"{server.api_url}/replay/not-a-game", allow_redirects=False) as resp:
            assert resp.status == 404
