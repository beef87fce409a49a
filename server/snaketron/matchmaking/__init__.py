"""Matchmaking: queues, the region's matcher, match placement and ratings.

- `queues`: the offered game types and their queue keys.
- `forming`: pure match forming (rating windows widening with waiting time,
  team splits) and wait estimates.
- `matcher`: the lease-holding matcher of a region and its claiming rounds.
- `placement`: where a claimed match is hosted (this server, for now).
- `results`: which running matched room seats whom (one seat at a time).
- `service`: this server's players: tickets, notifications, QueueUpdate.
"""

from snaketron.matchmaking.forming import FormedMatch, WindowSchedule, form_matches
from snaketron.matchmaking.matcher import Matcher
from snaketron.matchmaking.placement import LocalPlacement, MatchPlacement
from snaketron.matchmaking.queues import RULES, QueueRule, rule_for
from snaketron.matchmaking.results import MatchSeatIndex
from snaketron.matchmaking.service import MatchmakingService

__all__ = [
    "RULES",
    "FormedMatch",
    "LocalPlacement",
    "MatchPlacement",
    "MatchSeatIndex",
    "Matcher",
    "MatchmakingService",
    "QueueRule",
    "WindowSchedule",
    "form_matches",
    "rule_for",
]
