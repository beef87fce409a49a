"""An honest player who plays solo games back to back over a real connection.

Reliability tests run one (or several) next to whatever they inflict on the server:
the games it plays must go on ticking, end, and be recorded, whatever happens to
other connections or to the database. It keeps the id and the lifetime of every
game, so a test can tell which games lived through an outage.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field

from websockets.exceptions import ConnectionClosed

from snaketron import protocol
from snaketron.client import GameClient
from support.gameplay import events_until_complete

# After a refused CreateSoloGame (e.g. no game ids while the database is down), the
# player tries again this much later, as a person pressing "play" again would.
RETRY_AFTER_S = 0.2


@dataclass
class PlayedGame:
    game_id: int
    created: float  # time.monotonic() of SoloGameCreated
    completed: float | None = None  # ... of the event that completed it (None: cut short)
    events: int = 0


@dataclass
class SoloLoop:
    client: GameClient
    max_games: int | None = None  # stop by itself after this many games
    played: list[PlayedGame] = field(default_factory=list)  # the one under way last
    refusals: list[str] = field(default_factory=list)
    current_game: int | None = None  # the game being played right now
    playing: asyncio.Event = field(default_factory=asyncio.Event)  # set once a game was created
    server_closed: bool = False  # the server closed the connection (it was stopped)
    _task: asyncio.Task[None] | None = None
    _stop: asyncio.Event = field(default_factory=asyncio.Event)

    def start(self) -> SoloLoop:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    async def stop(self) -> list[PlayedGame]:
        """Finish the game under way, then stop; returns every game played."""
        self._stop.set()
        return await self.finished()

    async def finished(self) -> list[PlayedGame]:
        """Wait until the loop ends by itself (`max_games` played, or the server gone)."""
        assert self._task is not None
        await self._task
        return self.played

    async def _run(self) -> None:
        try:
            while not self._stop.is_set() and (self.max_games is None or len(self.played) < self.max_games):
                await self._play_one()
        except ConnectionClosed:
            self.server_closed = True

    async def _answer(self) -> protocol.ServerMessage:
        """The next reply, past the end of the last game and any shutdown notice."""
        while True:
            reply = await self.client.recv(timeout=30)
            if not isinstance(reply, (protocol.GameEventMessage, protocol.ServerShutdown, protocol.Shutdown)):
                return reply

    async def _play_one(self) -> None:
        await self.client.send(protocol.CreateSoloGame())
        reply = await self._answer()
        if isinstance(reply, protocol.AccessDenied):
            self.refusals.append(reply.reason)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), RETRY_AFTER_S)
            return
        assert isinstance(reply, protocol.SoloGameCreated), reply
        game = PlayedGame(reply.game_id, time.monotonic())
        self.played.append(game)
        self.current_game = reply.game_id
        self.playing.set()
        await self.client.send(protocol.JoinGame(game_id=reply.game_id))
        game.events = len(await events_until_complete(self.client, timeout=60))
        game.completed = time.monotonic()
        self.current_game = None
