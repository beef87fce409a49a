"""Forming matches from the tickets of one queue: pure functions of the tickets and
the time, so every rule is tested without a clock or a database.

The oldest waiting ticket is the anchor of the next match. Its rating window
(which widens with its waiting time) bounds who may join it, and among those the
closest in rating are taken first. The anchor has waited longest, so its window
is the widest of the group: a long wait makes a player willing to meet a
distant rating, and that is what lets the others meet them.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

from snaketron.db.models import MatchTicket
from snaketron.matchmaking.queues import QueueRule


@dataclass(frozen=True, slots=True)
class WindowSchedule:
    """± mmr a ticket accepts, by how long it has waited: `steps` are (from waited ms,
    window), sorted by time, the first from 0."""

    steps: tuple[tuple[int, int], ...]

    @classmethod
    def parse(cls, text: str) -> WindowSchedule:
        """'0:100,5000:250,...' (the SNAKETRON_MATCH_WINDOWS format)."""
        try:
            steps = tuple(
                sorted(
                    (int(after.strip()), int(window.strip()))
                    for after, window in (p.split(":") for p in text.split(","))
                )
            )
        except ValueError:
            raise ValueError(f"match windows must look like '0:100,5000:250', not {text!r}") from None
        if not steps or steps[0][0] != 0 or any(w < 0 for _, w in steps):
            raise ValueError(f"match windows must start at 0 ms and be non-negative: {text!r}")
        return cls(steps)

    def window(self, waited_ms: int) -> int:
        current = self.steps[0][1]
        for after, window in self.steps:
            if waited_ms < after:
                break
            current = window
        return current

    def next_widening_ms(self, waited_ms: int) -> int | None:
        """How long until the window next widens, or None when it is as wide as it gets."""
        for after, _ in self.steps:
            if after > waited_ms:
                return after - waited_ms
        return None


@dataclass(frozen=True, slots=True)
class FormedMatch:
    """Players for one game, in seat order (team games: teams alternate, 0, 1, 0, 1...,
    as the engine assigns teams by join order)."""

    rule: QueueRule
    tickets: tuple[MatchTicket, ...]

    @property
    def user_ids(self) -> list[int]:
        return [t.user_id for t in self.tickets]


def form_matches(
    tickets: Sequence[MatchTicket],
    rule: QueueRule,
    windows: WindowSchedule,
    now_ms: int,
    *,
    partial_after_ms: int,
) -> list[FormedMatch]:
    """Disjoint matches from unmatched tickets of one queue (one ticket per player).

    A match forms around the oldest ticket when enough others fall in its window: a
    full game; or, in a FreeForAll whose anchor has waited `partial_after_ms`, any
    game of at least two.
    """
    by_age = sorted(tickets, key=lambda t: (t.enqueued_at_ms, t.user_id))
    by_mmr = sorted(tickets, key=lambda t: t.mmr)
    mmrs = [t.mmr for t in by_mmr]
    taken: set[int] = set()
    matches: list[FormedMatch] = []
    for anchor in by_age:
        if anchor.user_id in taken:
            continue
        waited = now_ms - anchor.enqueued_at_ms
        window = windows.window(waited)
        low, high = bisect.bisect_left(mmrs, anchor.mmr - window), bisect.bisect_right(mmrs, anchor.mmr + window)
        near = sorted(
            (t for t in by_mmr[low:high] if t.user_id not in taken and t.user_id != anchor.user_id),
            key=lambda t: (abs(t.mmr - anchor.mmr), t.enqueued_at_ms, t.user_id),
        )
        wanted = rule.players - 1
        if len(near) >= wanted:
            chosen = [anchor, *near[:wanted]]
        elif not rule.is_team and near and waited >= partial_after_ms:
            chosen = [anchor, *near]
        else:
            continue  # this anchor cannot play yet; it stays available to younger anchors
        taken.update(t.user_id for t in chosen)
        if rule.is_team:
            chosen = seat_teams(*split_teams(chosen, rule.per_team))
        matches.append(FormedMatch(rule, tuple(chosen)))
    return matches


def split_teams(tickets: Sequence[MatchTicket], per_team: int) -> tuple[list[MatchTicket], list[MatchTicket]]:
    """Two teams of `per_team` whose rating totals are as close as can be (exhaustive:
    at most 10 splits for 3 a side). The first ticket is always on team 0."""
    if len(tickets) != 2 * per_team:
        raise ValueError(f"{len(tickets)} tickets cannot make two teams of {per_team}")
    total = sum(t.mmr for t in tickets)
    first, rest = tickets[0], list(tickets[1:])
    best: tuple[int, list[MatchTicket]] | None = None
    for mates in itertools.combinations(rest, per_team - 1):
        team0 = [first, *mates]
        gap = abs(total - 2 * sum(t.mmr for t in team0))
        if best is None or gap < best[0]:
            best = (gap, team0)
    assert best is not None
    team0 = best[1]
    ids0 = {t.user_id for t in team0}
    return team0, [t for t in tickets if t.user_id not in ids0]


def seat_teams(team0: Sequence[MatchTicket], team1: Sequence[MatchTicket]) -> list[MatchTicket]:
    """Seat order giving team 0 the even seats and team 1 the odd ones."""
    return [t for pair in zip(team0, team1, strict=True) for t in pair]


def estimate_wait_s(
    rule: QueueRule,
    *,
    waiting: int,
    waited_ms: int,
    windows: WindowSchedule,
    partial_after_ms: int,
    typical_wait_s: float | None,
) -> int:
    """A rough remaining wait for QueueUpdate: soon when a full game is waiting;
    else what players of this queue recently waited; else the time until the
    FreeForAll minimum or the next widening of the window."""
    if waiting >= rule.players:
        return 1
    if typical_wait_s is not None:
        return max(1, round(typical_wait_s - waited_ms / 1000))
    if not rule.is_team and waiting >= 2:
        return max(1, math.ceil((partial_after_ms - waited_ms) / 1000))
    widening = windows.next_widening_ms(waited_ms)
    return max(1, math.ceil((widening if widening is not None else partial_after_ms) / 1000))
