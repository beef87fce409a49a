"""Legacy rows -> the domain records the data layer writes (pure, no I/O).

The migration and its verification both go through these functions, so what is
written and what is checked afterwards are derived the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from snaketron.db.models import (
    GameKind,
    GamePlayerRecord,
    GameRecord,
    GameStatusName,
    LobbyRecord,
    SpectatorRecord,
    UserRecord,
)
from snaketron.migrate.legacy import LegacyGame, LegacyLobby, LegacyPlayer, LegacySpectator, LegacyUser

# Issue 9: a game that was running when the old servers stopped cannot resume here.
GAME_STATUS: Mapping[str, GameStatusName] = {
    "waiting": "waiting",
    "active": "abandoned",
    "finished": "complete",
    "abandoned": "abandoned",
}
GAME_MODES: frozenset[GameKind] = frozenset({"matchmaking", "custom", "solo"})
# The legacy lobby `state` column was free text with default 'waiting'.
_STARTED_LOBBY_STATES = frozenset({"started", "starting", "active", "in_game", "in_progress", "playing"})


class UnmappableRow(ValueError):
    """A legacy row breaks the legacy schema's own constraints (it is reported, not guessed)."""


def _int_or_none(value: Any) -> int | None:
    # game_state is unchecked jsonb: only whole numbers are taken.
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def user_record(row: LegacyUser, username: str) -> UserRecord:
    """`username` is the row's name, or its new name when the case-collision policy renamed it."""
    return UserRecord(
        user_id=row.user_id,
        username=username,
        password_hash=row.password_hash,
        mmr=row.mmr,
        created_at_ms=row.created_at_ms,
    )


def _allow_spectators(game_type: Any) -> bool:
    # Only custom games carry the setting; every other game type allowed spectators.
    custom = game_type.get("Custom") if isinstance(game_type, dict) else None
    settings = custom.get("settings") if isinstance(custom, dict) else None
    value = settings.get("allow_spectators") if isinstance(settings, dict) else None
    return value if isinstance(value, bool) else True


def game_record(row: LegacyGame) -> GameRecord:
    status = GAME_STATUS.get(row.status)
    if status is None:
        raise UnmappableRow(f"game {row.game_id}: unknown status {row.status!r}")
    if row.game_mode not in GAME_MODES:
        raise UnmappableRow(f"game {row.game_id}: unknown game_mode {row.game_mode!r}")
    ended = row.ended_at_ms
    return GameRecord(
        game_id=row.game_id,
        server_id=row.server_id or 0,  # the legacy server may be gone (server_id NULL)
        game_type=row.game_type,
        game_mode=row.game_mode,  # checked above
        status=status,
        is_private=row.is_private,
        allow_spectators=_allow_spectators(row.game_type),
        game_code=row.game_code,
        host_user_id=row.host_user_id,
        created_at_ms=row.created_at_ms,
        updated_at_ms=row.last_activity_ms,
        started_at_ms=_int_or_none(row.start_ms) if row.status != "waiting" else None,
        # A game cut off by the old servers stopping has no ended_at; its last activity
        # is when it ended, as far as anyone can tell.
        ended_at_ms=ended if ended is not None else (row.last_activity_ms if status == "abandoned" else None),
        final_tick=_int_or_none(row.tick) if status in ("complete", "abandoned") else None,
    )


def player_record(row: LegacyPlayer, username: str) -> GamePlayerRecord:
    return GamePlayerRecord(
        game_id=row.game_id,
        user_id=row.user_id,
        username=username,
        team_id=row.team_id,
        joined_at_ms=row.joined_at_ms,
    )


def spectator_record(row: LegacySpectator) -> SpectatorRecord:
    return SpectatorRecord(game_id=row.game_id, user_id=row.user_id, joined_at_ms=row.joined_at_ms)


def lobby_state(state: str) -> Literal["waiting", "started", "closed"]:
    lowered = state.lower()
    if lowered == "waiting":
        return "waiting"
    return "started" if lowered in _STARTED_LOBBY_STATES else "closed"


def lobby_is_private(row: LegacyLobby) -> bool:
    if row.is_private is not None:
        return row.is_private
    return bool(isinstance(row.settings, dict) and row.settings.get("is_private") is True)


def lobby_record(row: LegacyLobby) -> LobbyRecord:
    if not isinstance(row.settings, dict):
        raise UnmappableRow(f"lobby {row.game_code}: settings is not a JSON object")
    return LobbyRecord(
        game_code=row.game_code,
        game_id=row.game_id or 0,  # a lobby whose game was never created
        host_user_id=row.host_user_id,
        settings=row.settings,
        state=lobby_state(row.state),
        server_id=row.server_id or 0,
        created_at_ms=row.created_at_ms,
        expires_at_ms=row.expires_at_ms,
    )
