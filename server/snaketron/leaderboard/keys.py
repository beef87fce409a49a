"""Keys of the leaderboard items (docs/DATA_MODEL.md, "Leaderboards and profiles").

A board is one (season, board type, scope): scope "global" or a region. Its entries
sort in GSI1 under `LB#<season>#<type>#<scope>` by a rank key whose text order is
the board's order: higher value first, then (rated) fewer games, then earlier reach,
then the lower user id. Rating buckets split the value range into runs of
BUCKET_WIDTH points; a bucket item counts the board's entries inside it, so an exact
rank is "entries in the buckets above + position inside one bucket". Pure: no I/O.
"""

from __future__ import annotations

from typing import Literal

BoardType = Literal["duel", "ffa", "solo"]
BOARD_TYPES: tuple[BoardType, ...] = ("duel", "ffa", "solo")
RATED_BOARDS: tuple[BoardType, ...] = ("duel", "ffa")
GLOBAL = "global"

# Values (mmr or score) are stored inverted so that the higher value sorts first as
# text: inverted = VALUE_CEILING - value, seven digits. Values outside the range are
# clamped for ordering only; the entry keeps its true value.
VALUE_CEILING = 9_000_000
VALUE_FLOOR = -999_999
BUCKET_WIDTH = 10  # mmr points (or length units) per bucket
HISTORY_PREFIX = "HIST#"
STATS_PREFIX = "STATS#"


def _inverted(value: int) -> int:
    return VALUE_CEILING - min(max(value, VALUE_FLOOR), VALUE_CEILING)


def board_name(season: str, board: BoardType, scope: str) -> str:
    return f"LB#{season}#{board}#{scope}"


def entry_key(user_id: int, season: str, board: BoardType, scope: str) -> dict[str, str]:
    return {"pk": f"USER#{user_id}", "sk": f"LB#{season}#{board}#{scope}"}


def bucket_pk(season: str, board: BoardType, scope: str) -> str:
    return f"LBB#{season}#{board}#{scope}"


def bucket_of(value: int) -> int:
    """The bucket number of a value; smaller numbers hold higher values."""
    return _inverted(value) // BUCKET_WIDTH


def bucket_sk(bucket: int) -> str:
    return f"{bucket:07d}"


def bucket_start(bucket: int) -> str:
    """The smallest rank key inside `bucket`."""
    return f"{bucket * BUCKET_WIDTH:07d}"


def rated_rank_key(mmr: int, games: int, reached_ms: int, user_id: int) -> str:
    return f"{_inverted(mmr):07d}#{min(games, 9_999_999):07d}#{reached_ms:015d}#{user_id:010d}"


def solo_rank_key(score: int, reached_ms: int, user_id: int) -> str:
    return f"{_inverted(score):07d}#{reached_ms:015d}#{user_id:010d}"


def stats_key(user_id: int, board: BoardType) -> dict[str, str]:
    return {"pk": f"USER#{user_id}", "sk": f"{STATS_PREFIX}{board}"}


def history_key(user_id: int, end_ms: int, game_id: int) -> dict[str, str]:
    return {"pk": f"USER#{user_id}", "sk": f"{HISTORY_PREFIX}{end_ms:015d}#{game_id:010d}"}
