"""What one finished game changes on the boards, profiles and histories. Pure: no I/O.

`keys_to_read(result)` names the items whose current state the change depends on
(board entries and profile stats); `plan(result, current, season)` turns a
`GameResult` and those items into writes: whole-item puts guarded by the version
that was read (or by absence), net bucket-counter deltas, and history rows guarded
by absence (which makes recording the same game twice a no-op).

Rules (docs/DATA_MODEL.md, "Leaderboards and profiles"):
- Rated boards (duel, ffa) change only for a rated game that was not abandoned, for
  each player whose new rating was written (mmr_after known). Place 1 is a win
  unless every player placed 1 (a draw); any other place is a loss.
- The solo board keeps each player's best final length; ties: earlier first.
- An entry's mmr follows the newest game: a game that ended before the one the entry
  already shows changes its counts, never its mmr.
- Every board a game touches exists twice: the global one and its region's.
- Every player's history gets the game, abandoned or not; profiles count games of
  the three board types that were not abandoned.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any, Literal

from snaketron.engine.types import GameType, GameTypeObject, is_solo
from snaketron.leaderboard import keys
from snaketron.leaderboard.keys import GLOBAL, BoardType
from snaketron.rooms.result import GameResult, PlayerResult

Key = tuple[str, str]
Guard = Literal["absent"] | int  # "absent", or the version the item must still carry


@dataclass(frozen=True, slots=True)
class Put:
    item: dict[str, Any]
    guard: Guard


@dataclass(frozen=True, slots=True)
class BucketDelta:
    pk: str
    sk: str
    delta: int


@dataclass(frozen=True, slots=True)
class Plan:
    puts: tuple[Put, ...]
    buckets: tuple[BucketDelta, ...]

    @property
    def action_count(self) -> int:
        return len(self.puts) + len(self.buckets)


def game_label(result: GameResult) -> str:
    """The game's type as the API names it: solo, duel, ffa, team or custom."""
    return game_label_of(result.game_type)


def game_label_of(game_type: GameType) -> str:
    # Solo games are announced as Custom of mode Solo, as the original server did.
    if is_solo(game_type):
        return "solo"
    if isinstance(game_type, GameTypeObject):
        if game_type.TeamMatch is not None:
            return "duel" if game_type.TeamMatch.per_team == 1 else "team"
        if game_type.FreeForAll is not None:
            return "ffa"
    return "custom"


def board_of(result: GameResult) -> BoardType | None:
    """The board type a game counts on, or None (team and custom games, abandoned games)."""
    if result.abandoned:
        return None
    label = game_label(result)
    if label == "solo" and result.kind == "solo":
        return "solo"
    if label in ("duel", "ffa") and result.rated:
        return label  # type: ignore[return-value]
    return None


def scopes_of(result: GameResult) -> tuple[str, ...]:
    return (GLOBAL, result.region) if result.region and result.region != GLOBAL else (GLOBAL,)


def _on_board(board: BoardType, player: PlayerResult) -> bool:
    return board == "solo" or player.mmr_after is not None


def keys_to_read(result: GameResult, season: str) -> list[Key]:
    return [key for player_keys in keys_to_read_by_player(result, season).values() for key in player_keys]


def keys_to_read_by_player(result: GameResult, season: str) -> dict[int, list[Key]]:
    """`keys_to_read`, by the user id of the player whose items they are."""
    board = board_of(result)
    if board is None:
        return {}
    found: dict[int, list[Key]] = {}
    for player in result.players:
        stats = keys.stats_key(player.user_id, board)
        mine = found.setdefault(player.user_id, [])
        mine.append((stats["pk"], stats["sk"]))
        if _on_board(board, player):
            for scope in scopes_of(result):
                entry = keys.entry_key(player.user_id, season, board, scope)
                mine.append((entry["pk"], entry["sk"]))
    return found


def outcome(result: GameResult, player: PlayerResult) -> Literal["win", "loss", "draw"]:
    if player.place != 1:
        return "loss"
    return "draw" if all(p.place == 1 for p in result.players) else "win"


def plan(result: GameResult, current: dict[Key, dict[str, Any]], season: str) -> Plan:
    """The writes that record `result`; `current` holds the items `keys_to_read` named
    that exist (absent ones are simply missing)."""
    puts: list[Put] = []
    buckets: Counter[Key] = Counter()
    board = board_of(result)
    for player in result.players:
        puts.append(Put(_history_row(result, player), "absent"))
        if board is None:
            continue
        stats_key = keys.stats_key(player.user_id, board)
        old_stats = current.get((stats_key["pk"], stats_key["sk"]))
        puts.append(Put(_stats(result, player, board, old_stats, stats_key), _guard(old_stats)))
        if not _on_board(board, player):
            continue
        for scope in scopes_of(result):
            key = keys.entry_key(player.user_id, season, board, scope)
            old = current.get((key["pk"], key["sk"]))
            new = (
                _solo_entry(result, player, old, key, season, scope)
                if board == "solo"
                else _rated_entry(result, player, old, key, season, board, scope)
            )
            if new is None:
                continue
            puts.append(Put(new, _guard(old)))
            pk = keys.bucket_pk(season, board, scope)
            value_name = "score" if board == "solo" else "mmr"
            if old is not None:
                buckets[(pk, keys.bucket_sk(keys.bucket_of(old[value_name])))] -= 1
            buckets[(pk, keys.bucket_sk(keys.bucket_of(new[value_name])))] += 1
    deltas = tuple(BucketDelta(pk, sk, d) for (pk, sk), d in sorted(buckets.items()) if d != 0)
    return Plan(tuple(puts), deltas)


def _guard(old: dict[str, Any] | None) -> Guard:
    return "absent" if old is None else int(old["version"])


def _rated_entry(
    result: GameResult,
    player: PlayerResult,
    old: dict[str, Any] | None,
    key: dict[str, str],
    season: str,
    board: BoardType,
    scope: str,
) -> dict[str, Any]:
    assert player.mmr_after is not None
    won = outcome(result, player)
    wins = (old["wins"] if old else 0) + (won == "win")
    losses = (old["losses"] if old else 0) + (won == "loss")
    games = (old["games"] if old else 0) + 1
    if old is None or result.end_ms >= old["lastEndMs"]:
        mmr = player.mmr_after
        reached = result.end_ms if old is None or old["mmr"] != mmr else old["reachedAt"]
        last_end = result.end_ms
    else:
        mmr, reached, last_end = old["mmr"], old["reachedAt"], old["lastEndMs"]
    return {
        **key,
        "gsi1pk": keys.board_name(season, board, scope),
        "gsi1sk": keys.rated_rank_key(mmr, games, reached, player.user_id),
        "userId": player.user_id,
        "username": player.username,
        "mmr": mmr,
        "wins": wins,
        "losses": losses,
        "games": games,
        "reachedAt": reached,
        "lastEndMs": last_end,
        "version": (old["version"] + 1) if old else 1,
    }


def _solo_entry(
    result: GameResult,
    player: PlayerResult,
    old: dict[str, Any] | None,
    key: dict[str, str],
    season: str,
    scope: str,
) -> dict[str, Any] | None:
    if old is not None and player.score <= old["score"]:
        return None  # not a new best: the board keeps the earlier, equal or better run
    return {
        **key,
        "gsi1pk": keys.board_name(season, "solo", scope),
        "gsi1sk": keys.solo_rank_key(player.score, result.end_ms, player.user_id),
        "userId": player.user_id,
        "username": player.username,
        "score": player.score,
        "timestamp": result.end_ms,
        "gameId": result.game_id,
        "version": (old["version"] + 1) if old else 1,
    }


def _stats(
    result: GameResult,
    player: PlayerResult,
    board: BoardType,
    old: dict[str, Any] | None,
    key: dict[str, str],
) -> dict[str, Any]:
    won = outcome(result, player)
    stats: dict[str, Any] = {
        **key,
        "gameType": board,
        "games": (old["games"] if old else 0) + 1,
        "wins": (old["wins"] if old else 0) + (won == "win" and board != "solo"),
        "losses": (old["losses"] if old else 0) + (won == "loss" and board != "solo"),
        "mmr": old.get("mmr") if old else None,
        "lastEndMs": old.get("lastEndMs", 0) if old else 0,
        "bestScore": old.get("bestScore") if old else None,
        "bestGameId": old.get("bestGameId") if old else None,
        "version": (old["version"] + 1) if old else 1,
    }
    if player.mmr_after is not None and result.end_ms >= stats["lastEndMs"]:
        stats["mmr"] = player.mmr_after
        stats["lastEndMs"] = result.end_ms
    if board == "solo" and (stats["bestScore"] is None or player.score > stats["bestScore"]):
        stats["bestScore"] = player.score
        stats["bestGameId"] = result.game_id
    return stats


def _history_row(result: GameResult, player: PlayerResult) -> dict[str, Any]:
    return {
        **keys.history_key(player.user_id, result.end_ms, result.game_id),
        "gameId": result.game_id,
        "gameType": game_label(result),
        "kind": result.kind,
        "private": result.is_private,  # hidden from others' view of the history
        "rated": result.rated,
        "abandoned": result.abandoned,
        "startedAt": result.start_ms,
        "endedAt": result.end_ms,
        "durationMs": result.duration_ms,
        "place": player.place,
        "score": player.score,
        "left": player.left,
        "mmrBefore": player.mmr_before,
        "mmrAfter": player.mmr_after,
        "mmrChange": player.mmr_change,
        "players": [
            {
                "userId": p.user_id,
                "username": p.username,
                "place": p.place,
                "score": p.score,
                "mmrChange": p.mmr_change,
            }
            for p in sorted(result.players, key=lambda p: (p.place, p.user_id))
        ],
    }
