"""Ratings after a matchmade game: who finished where, and the new ratings.

`finishing_order` turns what happened in a game into rated groups with ranks (a
pure function); `MatchRatings` follows the matchmade games this server hosts,
notes who left while the game ran, and, when a game completes, computes the new
ratings, puts them on the game (`mmr_after`, which the game recorder writes into
the player rows) and writes them to the users in one transaction.

Solo and custom games are never tracked here, so they never change ratings; an
abandoned game (server shutdown, crash) is not rated either.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

from snaketron import rating
from snaketron.db.errors import DatabaseError
from snaketron.db.interface import Database
from snaketron.db.models import MatchTicket, RatingUpdate
from snaketron.games import HostedGame
from snaketron.logs import get_logger
from snaketron.tasks import BackgroundTasks

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class PlayerOutcome:
    user_id: int
    team_id: int | None  # None in a FreeForAll
    won: bool
    died_at: int | None  # the tick the snake died in; None when it lived to the end
    left: bool  # left the running game (or never came): counts as last


def finishing_order(outcomes: Sequence[PlayerOutcome], *, teams: bool) -> list[tuple[list[int], int]]:
    """Rated groups (user ids) with their ranks, best first; equal ranks are draws.

    FreeForAll: each player alone; the winner, then survivors, then the later a
    snake died the better (same tick: a draw). Team games: the winning team, then
    the others (no winner: a draw). Either way a player who left ranks below every
    player who stayed, in a group of their own, ordered among leavers the same way.
    """
    winning_team = next((o.team_id for o in outcomes if o.won), None)

    def own_key(o: PlayerOutcome) -> tuple[int, int, int]:
        if o.won:
            return (0, 0, 0)
        if o.died_at is None:
            return (1, 0, 0)
        return (2, 1, -o.died_at)

    groups: dict[tuple[object, ...], list[int]] = {}
    keys: dict[tuple[object, ...], tuple[int, ...]] = {}
    for o in outcomes:
        if teams and not o.left:
            group: tuple[object, ...] = ("team", o.team_id)
            key: tuple[int, ...] = (0, 0 if winning_team is None or o.team_id == winning_team else 1)
        else:
            group = ("player", o.user_id)
            key = (int(o.left), *own_key(o))
        groups.setdefault(group, []).append(o.user_id)
        keys[group] = key
    ordered = sorted(groups, key=lambda g: keys[g])
    ranks: list[tuple[list[int], int]] = []
    rank, previous = 0, None
    for group in ordered:
        if keys[group] != previous:
            rank, previous = rank + 1, keys[group]
        ranks.append((groups[group], rank))
    return ranks


def rating_updates(order: Sequence[tuple[list[int], int]], tickets: dict[int, MatchTicket]) -> list[RatingUpdate]:
    """New ratings of every player of a finished game, from their tickets' rating state."""
    groups = [
        [rating.skill_of(tickets[u].mmr, tickets[u].rating_mu, tickets[u].rating_sigma) for u in users]
        for users, _ in order
    ]
    rated = rating.rate(groups, [rank for _, rank in order])
    updates = []
    for (users, _), skills in zip(order, rated, strict=True):
        for user_id, skill in zip(users, skills, strict=True):
            ticket = tickets[user_id]
            updates.append(
                RatingUpdate(
                    user_id=user_id,
                    username=ticket.username,
                    mmr=rating.mmr_of(skill),
                    rating_mu=skill.mu,
                    rating_sigma=skill.sigma,
                    games_played=ticket.games_played + 1,
                )
            )
    return updates


def game_outcomes(hosted: HostedGame, left_alive: dict[int, bool]) -> list[PlayerOutcome]:
    """What happened to each player of a finished game. `left_alive` holds, for each
    player whose connection left while the game ran, whether their snake was alive."""
    game = hosted.game
    present = {member.user_id for member, role in hosted.members.items() if role == "player"}
    deaths = game.death_ticks()
    snakes = game.state.arena.snakes
    outcomes = []
    for user_id, snake_id in game.players.items():
        # Gone at the end: left while alive, or never joined (no entry) -> last.
        # Someone who left after their snake died keeps their place.
        left = user_id not in present and left_alive.get(user_id, True)
        outcomes.append(
            PlayerOutcome(
                user_id=user_id,
                team_id=snakes[snake_id].team_id,
                won=snake_id == game.winning_snake_id,
                died_at=deaths.get(user_id),
                left=left,
            )
        )
    return outcomes


@dataclass
class RatedGame:
    tickets: dict[int, MatchTicket]
    left_alive: dict[int, bool] = field(default_factory=dict)  # user id -> snake alive when they left


class MatchRatings:
    """The matchmade games hosted here, rated when they complete."""

    def __init__(self, db: Database, tasks: BackgroundTasks) -> None:
        self._db = db
        self._tasks = tasks
        self.games: dict[int, RatedGame] = {}
        # user id -> the rated game that seats them: "is this player matched?" is asked on
        # every game a player creates or joins, and must not walk every game hosted here.
        self._seat_of: dict[int, int] = {}
        self._writes: dict[int, asyncio.Task[None]] = {}  # game id -> its ratings transaction

    def track(self, hosted: HostedGame, tickets: Sequence[MatchTicket]) -> None:
        """Rate this game when it completes. Call before the game is added to the host."""
        self.games[hosted.game_id] = RatedGame({t.user_id: t for t in tickets})
        for ticket in tickets:
            self._seat_of[ticket.user_id] = hosted.game_id
        hosted.mmr_before = {t.user_id: t.mmr for t in tickets}
        hosted.on_finish.append(self._finished)

    def player_left(self, hosted: HostedGame, user_id: int) -> None:
        """A player's connection left the game (LeaveGame or disconnect)."""
        rated = self.games.get(hosted.game_id)
        if rated is None or hosted.finished or not hosted.is_player(user_id):
            return
        rated.left_alive[user_id] = hosted.game.death_ticks().get(user_id) is None

    def game_of(self, user_id: int) -> int | None:
        """The id of the latest rated game here that seats this user, if it is still tracked."""
        game_id = self._seat_of.get(user_id)
        return game_id if game_id in self.games else None

    def _finished(self, hosted: HostedGame) -> None:
        rated = self.games.pop(hosted.game_id, None)
        if rated is not None:
            for user_id in rated.tickets:
                if self._seat_of.get(user_id) == hosted.game_id:
                    del self._seat_of[user_id]
        if rated is None or not hosted.game.is_complete:
            return  # abandoned: no result to rate
        order = finishing_order(game_outcomes(hosted, rated.left_alive), teams=hosted.game.setup.per_team > 0)
        if len(order) < 2:
            return
        updates = rating_updates(order, rated.tickets)
        # Set before the host records the finished game, so the player rows carry it.
        hosted.mmr_after = {u.user_id: u.mmr for u in updates}
        game_id = hosted.game_id
        task = self._tasks.spawn(self._write(game_id, updates), f"ratings of game {game_id}")
        self._writes[game_id] = task
        task.add_done_callback(lambda _: self._writes.pop(game_id, None))

    async def wait_saved(self, game_id: int, timeout_s: float) -> None:
        """Wait until the ratings of a finished game are written (or their write failed)."""
        task = self._writes.get(game_id)
        if task is not None:
            await asyncio.wait_for(asyncio.shield(task), timeout_s)

    async def _write(self, game_id: int, updates: list[RatingUpdate]) -> None:
        try:
            await self._db.update_ratings(updates)
        except DatabaseError as exc:
            log.error("ratings not saved", game_id=game_id, error=str(exc))
