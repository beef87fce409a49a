"""Skill ratings: the Weng-Lin Bayesian model (openskill's Plackett-Luce) and the
integer `mmr` players see.

A player's skill is a belief: a mean `mu` and an uncertainty `sigma`. One rating
update takes the finishing order of a game (groups of players, a team or a lone
FreeForAll snake each, with ranks where equal ranks are draws) and moves every
belief. The displayed `mmr` is a linear image of `mu` alone, so it moves exactly
the way the model's mean moves: a winner never loses mmr, a loser never gains.

Scale: new accounts start at mmr 1000 (PROTOCOL.md) = the model's default mu of
25. One point of mu is 40 mmr, so the model's initial uncertainty (25/3) spans
about ±330 mmr, and the matchmaker's first window (±100) is a fraction of one
sigma. Accounts that have an mmr but no rating state yet (new, or migrated from
the legacy Elo numbers) start from the mu their mmr maps to, at full uncertainty.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

from openskill.models import PlackettLuce

if TYPE_CHECKING:
    from snaketron.db.models import RatingUpdate, UserRecord

BASE_MMR = 1000
MMR_PER_MU = 40.0

_MODEL = PlackettLuce()
DEFAULT_MU: float = _MODEL.mu
DEFAULT_SIGMA: float = _MODEL.sigma


class Skill(NamedTuple):
    mu: float
    sigma: float


def skill_from_mmr(mmr: int) -> Skill:
    """The starting belief of a player known only by their mmr."""
    return Skill(DEFAULT_MU + (mmr - BASE_MMR) / MMR_PER_MU, DEFAULT_SIGMA)


def skill_of(mmr: int, mu: float | None, sigma: float | None) -> Skill:
    """A player's belief: the stored one, or the one their mmr maps to."""
    if mu is None or sigma is None:
        return skill_from_mmr(mmr)
    return Skill(float(mu), float(sigma))


def mmr_of(skill: Skill) -> int:
    """The displayed rating: an integer, never negative."""
    return max(0, round(BASE_MMR + (skill.mu - DEFAULT_MU) * MMR_PER_MU))


def rate(groups: Sequence[Sequence[Skill]], ranks: Sequence[int]) -> list[list[Skill]]:
    """New beliefs after one game. `groups[i]` finished at `ranks[i]` (1 is first; equal
    ranks are a draw). Needs at least two groups; each keeps its shape."""
    if len(groups) != len(ranks):
        raise ValueError("one rank per group")
    if len(groups) < 2:
        raise ValueError("a rated game needs at least two groups")
    teams = [[_MODEL.rating(mu=s.mu, sigma=s.sigma) for s in group] for group in groups]
    rated = _MODEL.rate(teams, ranks=list(ranks))
    return [[Skill(r.mu, r.sigma) for r in team] for team in rated]


class RatingCopy(NamedTuple):
    """A user's rating state as read with their user item: what a match ticket carries.

    The session keeps the copy its sign-in read, so queueing reads nothing; the rating
    write is guarded on `games_played` (it grows by one with every rated game), `mu` and `sigma`,
    so a copy that went stale can never overwrite a newer rating (rooms/room.py re-reads
    and re-rates on that rare path)."""

    mmr: int
    mu: float | None
    sigma: float | None
    games_played: int
    season: str | None

    def newer(self, other: RatingCopy | None) -> RatingCopy:
        """The later of two copies of one user's rating (more rated games is later)."""
        return self if other is None or self.games_played >= other.games_played else other


def copy_of(user: UserRecord) -> RatingCopy:
    """The rating state of a user item just read."""
    return RatingCopy(user.mmr, user.rating_mu, user.rating_sigma, user.games_played, user.rating_season)


def copy_of_update(update: RatingUpdate) -> RatingCopy:
    """The rating state a rating write leaves on the user item."""
    return RatingCopy(update.mmr, update.rating_mu, update.rating_sigma, update.games_played, update.rating_season)
