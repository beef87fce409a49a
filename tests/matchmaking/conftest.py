"""Matchmaking tests run real servers (tests/server/conftest.py's fixtures, reused
here) against the embedded endpoint, and talk to them over real connections.

The default `server` here keeps the real rating windows and start delay, and
only matches and polls more often than production (4 rounds a second) so the
tests spend their time on what they measure.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
from queueing import QUICK_MATCHING

from snaketron.game_server import GameServer

# Reuse the server fixtures without moving them: load tests/server/conftest.py under
# a name of its own (every conftest module is called "conftest").
_spec = importlib.util.spec_from_file_location(
    "server_fixtures_for_matchmaking", Path(__file__).resolve().parent.parent / "server" / "conftest.py"
)
assert _spec is not None and _spec.loader is not None
_server_fixtures = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = _server_fixtures  # dataclasses look their module up
_spec.loader.exec_module(_server_fixtures)

start_server = _server_fixtures.start_server
players = _server_fixtures.players
Players = _server_fixtures.Players


@pytest.fixture
async def server(start_server) -> GameServer:
    return await start_server(**QUICK_MATCHING)
