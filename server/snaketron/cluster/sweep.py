"""Declaring a dead server's games over.

A server that stops heartbeating cannot finish its games or record them. Another
server of the region marks every unfinished game it hosted `abandoned`, frees the
codes of its lobbies, and sets the dead server `offline` so the cluster stops
looking at it. Every step is idempotent, so two servers sweeping the same corpse at
once (or one sweeping twice after a failure) leave the same result.
"""

from __future__ import annotations

from snaketron.db.errors import NotFound
from snaketron.db.interface import Database
from snaketron.db.models import GameRecord, GameStatusName

UNFINISHED: tuple[GameStatusName, ...] = ("waiting", "started")


async def abandon_games_of(db: Database, server_id: int, *, now_ms: int) -> list[GameRecord]:
    """Mark the unfinished games of `server_id` abandoned; returns them."""
    games = await db.list_games_of_server(server_id, UNFINISHED)
    for game in games:
        try:
            await db.update_game_status(game.game_id, "abandoned", now_ms=now_ms, ended_at_ms=now_ms)
        except NotFound:
            continue
        if game.game_code and game.status == "waiting":
            await db.delete_lobby(game.game_code)  # a lobby nobody can start any more
    try:
        await db.set_server_status(server_id, "offline")
    except NotFound:
        pass  # its item expired meanwhile: nothing left to mark
    return games
