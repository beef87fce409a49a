"""Matchmaking's figures on GET /metrics: queue sizes, the wait, matches formed."""

from __future__ import annotations

from queueing import FFA2, match_found, queue, queued

from snaketron.matchmaking.queues import rule_for
from support.metrics_scrape import scrape, total


async def test_queue_size_wait_and_matches_formed(server, players):
    ann, bob = await players.new(), await players.new()
    await queued(ann, FFA2)
    waiting = await scrape(server)
    key = rule_for(FFA2).key
    assert total(waiting, "snaketron_matchmaking_queued_players", queue=key, scope="server") == 1
    assert total(waiting, "snaketron_match_wait_seconds_count") == 0

    await queue(bob, FFA2)
    await match_found(ann)
    await match_found(bob)
    matched = await scrape(server)
    assert total(matched, "snaketron_matchmaking_queued_players", scope="server") == 0
    assert total(matched, "snaketron_matches_formed_total") == 1  # this server holds the region's lease
    assert total(matched, "snaketron_match_wait_seconds_count") == 2
    assert total(matched, "snaketron_match_wait_seconds_sum") > 0
