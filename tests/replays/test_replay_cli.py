"""`snaketron replay <id> [--json]` against the embedded endpoint."""

from __future__ import annotations

import io
import subprocess
import sys

import msgspec

from snaketron.cli import build_parser
from snaketron.db.models import GameRecord
from snaketron.engine import type_free_for_all
from snaketron.replays.cli import configure_parser, show_replay
from snaketron.replays.store import ReplayStore, ReplaySummary
from support.replay_games import Plan, play
from support.serve_process import default_env


async def test_summary_events_and_unknown_ids(settings, db, capsys) -> None:
    game, live, _ = play(Plan(type_free_for_all(3), 3, 0, 21, (2,), (0, 2), 0, 30))
    recording = game.recording()
    assert recording is not None
    ReplayStore(db, ttl_seconds=3600).save(recording, ReplaySummary(is_private=True, ended_at_ms=0))
    # The game item the server writes: without it the game is unknown.
    db.save_game_nowait(GameRecord(game_id=game.game_id, server_id=1, game_type="Solo", game_mode="custom"))
    await db.flush()

    out = io.StringIO()
    assert await show_replay(settings, game.game_id, as_json=False, out=out) == 0
    assert f"game {game.game_id}" in out.getvalue()
    assert "rules version 1" in out.getvalue()

    out = io.StringIO()
    assert await show_replay(settings, game.game_id, as_json=True, out=out) == 0
    body = msgspec.json.decode(out.getvalue())
    assert len(body["events"]) == len(live) + 1
    assert body["events"][-1]["event"] == msgspec.to_builtins(live[-1].event)

    assert await show_replay(settings, 31337, as_json=False, out=io.StringIO()) == 1
    assert "no game 31337" in capsys.readouterr().err


def test_the_command_is_wired() -> None:
    parser = build_parser()
    sub = parser._subparsers._group_actions[0].choices["replay"]
    configure_parser(sub)
    args = parser.parse_args(["replay", "12", "--json"])
    assert (args.game_id, args.json) == (12, True)


def test_with_no_endpoint_it_names_the_setting_that_points_it_at_a_database():
    """serve's embedded endpoint is its own: the replay command cannot read it, and says
    which setting points it at a database it can (the same words as `snaketron tables`)."""
    for command in (["replay", "1"], ["tables", "describe"]):
        done = subprocess.run(
            [sys.executable, "-m", "snaketron.cli", *command], env=default_env(), capture_output=True, text=True
        )
        assert done.returncode == 2, done.stderr
        last = done.stderr.strip().splitlines()[-1]
        assert "AWS_ENDPOINT_URL_DYNAMODB" in last and "Traceback" not in done.stderr, done.stderr
