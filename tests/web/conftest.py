"""The game server fixtures of tests/server (`start_server`, `server`, `players`: a real
GameServer on 127.0.0.1 with free ports and the embedded endpoint), for the browser
tests to play against."""

from server.conftest import players, server, start_server  # noqa: F401
