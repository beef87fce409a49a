"""Ratings of a matchmade game: who finished where, and the new ratings (pure).

`finishing_order` turns what happened in a game into rated groups with ranks;
`rating_updates` turns those into each player's new rating. A matched room
computes both when its game completes and hands them, with the game's result, to
the one write that records them together (`Database.record_result`).

Solo and custom rooms carry no `RatedSeats`, so they never change ratings; an
abandoned game (server shutdown, crash) is not rated either.

Seasons: a rating carries the season of the game that wrote it. A player's first
rated game of a later season starts from `soft_reset` of the rating their ticket
carries, and its update writes the new season with the new rating, so the reset
happens once per season and needs no read: it is computed from the values the
ticket read together, and a rating already of this season is never reset again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import msgspec

from snaketron import rating
from snaketron.db.models import MatchTicket, RatingUpdate
from snaketron.leaderboard.seasons import soft_reset


@dataclass(frozen=True, slots=True)
class PlayerOutcome:
    user_id: int
    team_id: int | None  # None in a FreeForAll
    won: bool
    died_at: int | None  # the tick the snake died in; None when it lived to the end
    left: bool  # left the running game (or never came): counts as last


@dataclass(slots=True)
class RatedSeats:
    """The rating state a matched room's players brought (their tickets), and who left
    the running game with their snake alive: what its result is rated from."""

    tickets: dict[int, MatchTicket]
    left_alive: dict[int, bool] = field(default_factory=dict)  # user id -> snake alive when they left

    @classmethod
    def of(cls, tickets: Sequence[MatchTicket]) -> RatedSeats:
        return cls({t.user_id: t for t in tickets})

    def carry(self, user_id: int, copy: rating.RatingCopy) -> None:
        """Rate this player from `copy` (a newer rating, or one read again) instead of
        what their ticket carried."""
        ticket = self.tickets.get(user_id)
        if ticket is not None:
            self.tickets[user_id] = msgspec.structs.replace(
                ticket,
                mmr=copy.mmr,
                rating_mu=copy.mu,
                rating_sigma=copy.sigma,
                games_played=copy.games_played,
                rating_season=copy.season,
            )

    def mmr_before(self, user_id: int, season: str) -> int | None:
        """The mmr a player starts a game of `season` from (soft-reset in a new season)."""
        ticket = self.tickets.get(user_id)
        if ticket is None:
            return None
        return rating.mmr_of(season_skill(ticket, season)) if resets(ticket, season) else ticket.mmr


def resets(ticket: MatchTicket, season: str) -> bool:
    """Whether the ticket's rating was earned in a season before `season` (season ids
    are `YYYY-MM` and sort as text). A rating with no season counts as the current
    season's: a migrated rating is not halved by the first game after migration."""
    return ticket.rating_season is not None and ticket.rating_season < season


def season_skill(ticket: MatchTicket, season: str) -> rating.Skill:
    """The rating a player brings to a game of `season`: the ticket's, soft-reset when
    it belongs to an earlier season."""
    skill = rating.skill_of(ticket.mmr, ticket.rating_mu, ticket.rating_sigma)
    return soft_reset(skill) if resets(ticket, season) else skill


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


def rating_updates(
    order: Sequence[tuple[list[int], int]], tickets: dict[int, MatchTicket], season: str
) -> list[RatingUpdate]:
    """New ratings of every player of a game finished in `season`, from their tickets'
    rating state (soft-reset for a player's first game of a new season)."""
    groups = [[season_skill(tickets[u], season) for u in users] for users, _ in order]
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
                    # Never back to an older season (a game ended across the boundary on
                    # a server whose clock lags): that would reset the rating again.
                    rating_season=max(season, ticket.rating_season or season),
                    # Guard: written only over the rating it was computed from.
                    games_played_before=ticket.games_played,
                    rating_mu_before=ticket.rating_mu,
                    rating_sigma_before=ticket.rating_sigma,
                )
            )
    return updates
