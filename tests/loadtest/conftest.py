"""The game server fixtures of tests/server, for the harness to play against."""

from server.conftest import server, start_server  # noqa: F401
