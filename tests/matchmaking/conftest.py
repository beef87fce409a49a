"""Matchmaking tests run real servers (the suite's `start_server`/`players` fixtures)
against the embedded endpoint, and talk to them over real connections.

The default `server` here keeps the real rating windows and start delay, and
only matches and polls more often than production (4 rounds a second) so the
tests spend their time on what they measure.
"""

from __future__ import annotations

import pytest
from queueing import QUICK_MATCHING

from snaketron.game_server import GameServer


@pytest.fixture
async def server(start_server) -> GameServer:
    return await start_server(**QUICK_MATCHING)
