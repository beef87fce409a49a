"""Legacy rows -> domain records."""

from __future__ import annotations

import pytest

from snaketron.migrate.legacy import LegacyGame, LegacyLobby
from snaketron.migrate.mapping import UnmappableRow, game_record, lobby_is_private, lobby_record, lobby_state


def _game(**overrides) -> LegacyGame:
    values = dict(
        game_id=7,
        server_id=None,
        game_type={"Custom": {"settings": {"allow_spectators": False}}},
        status="active",
        game_mode="custom",
        is_private=True,
        game_code="ABCD2345",
        created_at_ms=1_000,
        last_activity_ms=5_000,
        ended_at_ms=None,
        start_ms=2_000.0,
        tick=40,
        host_user_id=3,
    )
    values.update(overrides)
    return LegacyGame(**values)


@pytest.mark.parametrize(
    ("legacy", "new"),
    [("waiting", "waiting"), ("active", "abandoned"), ("finished", "complete"), ("abandoned", "abandoned")],
)
def test_game_status_map(legacy: str, new: str) -> None:
    assert game_record(_game(status=legacy)).status == new


def test_a_game_cut_off_by_the_old_servers_is_abandoned_when_last_active() -> None:
    game = game_record(_game())
    assert (game.status, game.ended_at_ms, game.final_tick, game.started_at_ms) == ("abandoned", 5_000, 40, 2_000)
    assert (game.server_id, game.allow_spectators, game.host_user_id, game.updated_at_ms) == (0, False, 3, 5_000)


def test_malformed_game_state_fields_are_dropped_not_guessed() -> None:
    game = game_record(_game(status="finished", ended_at_ms=9_000, start_ms="soon", tick=True))
    assert (game.started_at_ms, game.final_tick, game.ended_at_ms) == (None, None, 9_000)


def test_rows_outside_the_legacy_constraints_are_refused() -> None:
    with pytest.raises(UnmappableRow):
        game_record(_game(status="paused"))
    with pytest.raises(UnmappableRow):
        game_record(_game(game_mode="ranked"))


def test_lobbies() -> None:
    row = LegacyLobby(
        lobby_id=1,
        game_code="QWERTY23",
        host_user_id=4,
        settings={"is_private": True},
        state="in_game",
        game_id=None,
        server_id=None,
        is_private=None,
        created_at_ms=1,
        expires_at_ms=3_600_500,
    )
    lobby = lobby_record(row)
    assert (lobby.game_id, lobby.state, lobby.expires_at_ms) == (0, "started", 3_600_500)
    assert lobby_is_private(row) is True
    assert [lobby_state(s) for s in ("waiting", "WAITING", "finished")] == ["waiting", "waiting", "closed"]
