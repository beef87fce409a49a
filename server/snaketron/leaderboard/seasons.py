"""Seasons: calendar periods of `season_months` months, named by their first month.

With the default of one month, December 2026 is season "2026-12"; with three months,
seasons start in January, April, July and October ("2026-10" covers October to
December). A game belongs to the season in which it ended (UTC). Pure: no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from snaketron.rating import DEFAULT_MU, DEFAULT_SIGMA, Skill

ALLOWED_SEASON_MONTHS = (1, 2, 3, 4, 6, 12)  # the lengths that divide a year
SEASON_ID = re.compile(r"^(\d{4})-(\d{2})$")
# How far a season list reaches back: boards stay readable, the list stays bounded.
MAX_LISTED_SEASONS = 120


@dataclass(frozen=True, slots=True)
class Season:
    id: str
    start_ms: int
    end_ms: int  # exclusive


def _check_length(months: int) -> None:
    if months not in ALLOWED_SEASON_MONTHS:
        raise ValueError(f"season length must be one of {ALLOWED_SEASON_MONTHS} months, not {months}")


def _month_start_ms(year: int, month: int) -> int:
    return int(datetime(year, month, 1, tzinfo=UTC).timestamp() * 1000)


def _season_from(year: int, first_month: int, months: int) -> Season:
    end_year, end_month = divmod(first_month - 1 + months, 12)
    return Season(
        id=f"{year:04d}-{first_month:02d}",
        start_ms=_month_start_ms(year, first_month),
        end_ms=_month_start_ms(year + end_year, end_month + 1),
    )


def season_at(ms: int, months: int) -> Season:
    """The season containing the instant `ms` (epoch milliseconds, UTC)."""
    _check_length(months)
    when = datetime.fromtimestamp(ms / 1000, UTC)
    first_month = (when.month - 1) // months * months + 1
    return _season_from(when.year, first_month, months)


def parse_season(season_id: str, months: int) -> Season | None:
    """The season named `season_id`, or None when no season has that name."""
    _check_length(months)
    match = SEASON_ID.match(season_id)
    if not match:
        return None
    year, month = int(match.group(1)), int(match.group(2))
    # 9998 at most: a season of 9999 would end in year 10000, past what datetime holds
    # (season=9999-12 was a 500).
    if not (1970 <= year <= 9998 and 1 <= month <= 12) or (month - 1) % months:
        return None
    return _season_from(year, month, months)


def seasons_until(now_ms: int, first_season: str, months: int) -> list[Season]:
    """Every season from `first_season` to the current one, newest first (at most
    MAX_LISTED_SEASONS)."""
    current = season_at(now_ms, months)
    first = parse_season(first_season, months) or season_at(_month_start_ms(*_year_month(first_season)), months)
    found: list[Season] = []
    season = current
    while season.start_ms >= first.start_ms and len(found) < MAX_LISTED_SEASONS:
        found.append(season)
        season = season_at(season.start_ms - 1, months)
    return found or [current]


def _year_month(text: str) -> tuple[int, int]:
    match = SEASON_ID.match(text)
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise ValueError(f"not a season name (YYYY-MM): {text!r}")
    return int(match.group(1)), int(match.group(2))


def soft_reset(skill: Skill) -> Skill:
    """A rating carried into a new season: the mean moves half way back to a new
    player's, and the uncertainty grows back by half of what games took off, so the
    first games of a season move the rating faster. Displayed mmr is linear in the
    mean, so a 1400 player starts the next season at 1200, a 600 player at 800."""
    return Skill(
        DEFAULT_MU + (skill.mu - DEFAULT_MU) / 2,
        min(DEFAULT_SIGMA, skill.sigma + (DEFAULT_SIGMA - skill.sigma) / 2),
    )
