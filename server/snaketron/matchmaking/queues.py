"""The queues matchmaking offers: which game types, their keys, and their sizes.

A queue key is the canonical name of a game type in the data model (`ffa4`,
`team1`): the partition of its tickets (`QUEUE#<region>#<key>`) and part of
every ticket's GSI1 sort key.
"""

from __future__ import annotations

from dataclasses import dataclass

from snaketron.engine import GameType, GameTypeObject, type_free_for_all, type_team_match

# Every size a client may ask for: existing clients offer sizes of their own (the
# browser client's free-for-all button asks for 8), and a refused size leaves such a
# client waiting forever.
FREE_FOR_ALL_SIZES = range(2, 17)
TEAM_SIZES = range(1, 5)
OFFERED = (
    f"FreeForAll for {FREE_FOR_ALL_SIZES[0]} to {FREE_FOR_ALL_SIZES[-1]} players, "
    f"or TeamMatch for {TEAM_SIZES[0]} to {TEAM_SIZES[-1]} per team"
)


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
