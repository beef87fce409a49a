"""The field names of PROTOCOL.md's game event and game state objects, as clients read
them: written out here (not taken from the codec) so a test can catch the codec
dropping or renaming one."""

from __future__ import annotations

GAME_EVENT_FIELDS = frozenset({"game_id", "tick", "sequence", "user_id", "event"})
GAME_STATE_FIELDS = frozenset(
    {
        "tick",
        "status",
        "game_type",
        "start_ms",
        "event_sequence",
        "arena",
        "properties",
        "command_queue",
        "players",
        "rng",
        "game_code",
        "host_user_id",
        "usernames",
    }
)
