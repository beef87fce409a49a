"""A room as the data layer stores it: the game item and its player rows (pure).

The room builds these values at each step of its life and hands them to its
`GamePersistence`; the recorder never reads a room.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec

from snaketron.db.models import GamePlayerRecord, GameRecord, GameStatusName

if TYPE_CHECKING:
    from snaketron.rooms.room import Room


def game_status_name(hosted: Room) -> GameStatusName:
    if hosted.abandoned or (hosted.finished and not hosted.game.is_complete):
        return "abandoned"
    if hosted.game.is_complete:
        return "complete"
    return "started" if hosted.game.is_started else "waiting"


def game_record(hosted: Room, server_id: int, now_ms: int) -> GameRecord:
    game = hosted.game
    winner_user = hosted.winner_user_id()
    finished = hosted.finished
    return GameRecord(
        game_id=game.game_id,
        server_id=server_id,
        game_type=msgspec.to_builtins(game.game_type),
        game_mode=hosted.kind,
        status=game_status_name(hosted),
        is_private=hosted.is_private,
        allow_spectators=hosted.allow_spectators,
        game_code=hosted.game_code,
        host_user_id=game.host_user_id,
        created_at_ms=hosted.created_at_ms,
        updated_at_ms=now_ms,
        started_at_ms=game.start_ms if game.is_started else None,
        ended_at_ms=hosted.ended_at_ms if finished else None,
        winning_snake_id=game.winning_snake_id,
        winner_user_id=winner_user,
        final_tick=game.tick if finished else None,
    )


def player_records(
    hosted: Room, *, with_results: bool, mmr_after: dict[int, int] | None = None
) -> list[GamePlayerRecord]:
    game = hosted.game
    snakes = game.state.arena.snakes if with_results else None
    placement = hosted.places() if with_results else {}
    mmr_after = mmr_after or {}
    records = []
    for user_id, snake_id in game.players.items():
        records.append(
            GamePlayerRecord(
                game_id=game.game_id,
                user_id=user_id,
                username=game.usernames.get(user_id, ""),
                team_id=snakes[snake_id].team_id if snakes else None,
                snake_id=snake_id,
                joined_at_ms=hosted.joined_at_ms.get(user_id, hosted.created_at_ms),
                placement=placement.get(user_id),
                mmr_before=hosted.mmr_before(user_id),
                mmr_after=mmr_after.get(user_id),
            )
        )
    return records
