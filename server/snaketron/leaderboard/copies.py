"""`BoardCopies`: the board entries and profile stats this server last wrote for each
player, so that the player's next rated game here writes without reading them first.

Why a copy can be trusted: a rated game's boards and stats change in the transaction
that writes the player's new rating, and that write moves the user's `gamesPlayed` by
exactly one (guarded on the value before). So a copy kept when gamesPlayed became `g`
is what the store holds for as long as the user still has `g`, and a game rated from
`g` (its `games_played_before`) may plan from it without a read. A game rated from any
other value was preceded by a game this server did not write (another server's, or
one whose write failed): it reads. The writes stay guarded by the versions the plan
used, so a copy that is wrong anyway (a rated game recorded on the boards without its
rating, after its rating write failed) fails its guard and the recorder drops it and
reads. Pure bookkeeping: no I/O.
"""

from __future__ import annotations

import collections
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

Key = tuple[str, str]

# Players whose copies are kept (least recently used out first): a duel player's copy
# holds three items of about half a KB, so about 25 MB when full. A forgotten copy
# costs one read.
BOARD_COPIES = 20_000
# Items kept per player: the stats and entries of a few boards and seasons. A copy
# that grows past this (a long-lived server across seasons) starts again from the
# last game's items.
ITEMS_PER_PLAYER = 16


@dataclass
class _Copy:
    games_played: int
    items: dict[Key, dict[str, Any]] = field(default_factory=dict)


class BoardCopies:
    def __init__(self, capacity: int = BOARD_COPIES) -> None:
        self._capacity = capacity
        self._copies: collections.OrderedDict[int, _Copy] = collections.OrderedDict()

    def __len__(self) -> int:
        return len(self._copies)

    def take(
        self, user_id: int, games_played_before: int | None, keys: Iterable[Key]
    ) -> dict[Key, dict[str, Any]] | None:
        """The stored items under `keys` for a game rated from `games_played_before`, or
        None when this server's copy cannot say (none, another gamesPlayed, a key it
        never wrote): then read them."""
        copy = self._copies.get(user_id)
        if copy is None or games_played_before is None or copy.games_played != games_played_before:
            return None
        found = {}
        for key in keys:
            item = copy.items.get(key)
            if item is None:
                return None
            found[key] = item
        self._copies.move_to_end(user_id)
        return found

    def keep(
        self, user_id: int, games_played_before: int | None, games_played: int, written: dict[Key, dict[str, Any]]
    ) -> None:
        """The items a rated game just wrote for the player, whose gamesPlayed moved from
        `games_played_before` to `games_played` in the same transaction. The player's
        other items in the copy were left as they were by that transaction, so they stay
        when the copy was current before it."""
        copy = self._copies.get(user_id)
        if copy is None or games_played_before is None or copy.games_played != games_played_before:
            copy = _Copy(games_played)
        copy.games_played = games_played
        copy.items.update(written)
        if len(copy.items) > ITEMS_PER_PLAYER:
            copy.items = dict(written)
        self._copies[user_id] = copy
        self._copies.move_to_end(user_id)
        while len(self._copies) > self._capacity:
            self._copies.popitem(last=False)

    def drop(self, user_ids: Iterable[int]) -> None:
        """Forget the players' copies: a write of theirs failed, or its outcome is unknown."""
        for user_id in user_ids:
            self._copies.pop(user_id, None)
