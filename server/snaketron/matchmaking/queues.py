"""The queues matchmaking offers: which game types, their keys, and their sizes.

A queue key is the canonical name of a game type in the data model (`ffa4`,
`team1`): the partition of its tickets (`QUEUE#<region>#<key>`) and part of
every ticket's GSI1 sort key.
"""

from __future__ import annotations

from dataclasses import dataclass

from snaketron.engine import GameType, GameTypeObject, type_free_for_all, type_team_match

FREE_FOR_ALL_SIZES = (2, 3, 4, 6, 10)
TEAM_SIZES = (1, 2, 3)
OFFERED = "FreeForAll for 2, 3, 4, 6 or 10 players, or TeamMatch for 1, 2 or 3 per team"


@dataclass(frozen=True, slots=True)
class QueueRule:
    """One queue: the game it makes and how many players a full game has."""

    key: str
    game_type: GameType
    players: int  # a full game
    per_team: int = 0  # 0: every player for themselves

    @property
    def is_team(self) -> bool:
        return self.per_team > 0


RULES: dict[str, QueueRule] = {
    **{f"ffa{n}": QueueRule(f"ffa{n}", type_free_for_all(n), n) for n in FREE_FOR_ALL_SIZES},
    **{f"team{k}": QueueRule(f"team{k}", type_team_match(k), 2 * k, per_team=k) for k in TEAM_SIZES},
}


def rule_for(game_type: GameType) -> QueueRule | None:
    """The queue of a requested game type, or None when matchmaking does not offer it."""
    if not isinstance(game_type, GameTypeObject):
        return None  # "Solo"
    if game_type.FreeForAll is not None:
        return RULES.get(f"ffa{game_type.FreeForAll.max_players}")
    if game_type.TeamMatch is not None:
        return RULES.get(f"team{game_type.TeamMatch.per_team}")
    return None  # Custom games are made in lobbies
