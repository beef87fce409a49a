"""Reading the server the way existing clients do: raw JSON text frames, dispatched on
the one key of an object (or a bare string), with no codec of this project in between.

The expected frames in tests/conformance come from the audit of the original server
(PROTOCOL.md, "Differences from the original server").
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from typing import Any

from snaketron.client import GameClient
from support.wire_fields import GAME_EVENT_FIELDS, GAME_STATE_FIELDS

# What CreateSoloGame makes, as the original server announced it (PROTOCOL.md, GameType).
SOLO_GAME_TYPE = {
    "Custom": {
        "settings": {
            "arena_width": 40,
            "arena_height": 40,
            "tick_duration_ms": 100,
            "food_spawn_rate": 3.0,
            "max_players": 1,
            "game_mode": "Solo",
            "is_private": True,
            "allow_spectators": False,
            "snake_start_length": 4,
        }
    }
}


def tag_of(frame: Any) -> str:
    """The message's name: a bare string, or the one key of an object."""
    if isinstance(frame, str):
        return frame
    assert isinstance(frame, dict) and len(frame) == 1, frame
    return next(iter(frame))


class Peer:
    """A client connection read frame by frame as raw JSON."""

    def __init__(self, client: GameClient) -> None:
        self.client = client
        self.user_id = client.user_id
        self.frames: list[Any] = []  # every frame received, in order

    async def send(self, frame: Any) -> None:
        await self.client.send_raw(json.dumps(frame))

    async def next(self, timeout: float = 5.0) -> Any:
        raw = await asyncio.wait_for(self.client.connection.recv(), timeout)
        assert isinstance(raw, str), "every server frame is a text frame"
        frame = json.loads(raw)
        self.frames.append(frame)
        return frame

    async def until(self, name: str, timeout: float = 5.0) -> tuple[Any, list[Any]]:
        """The next frame named `name`, and the frames before it."""
        deadline = time.monotonic() + timeout
        before: list[Any] = []
        while True:
            frame = await self.next(max(0.01, deadline - time.monotonic()))
            if tag_of(frame) == name:
                return frame, before
            before.append(frame)

    async def event(self, timeout: float = 5.0) -> dict[str, Any]:
        """The next frame, which must be a GameEvent; returns its GameEventMessage."""
        frame = await self.next(timeout)
        assert tag_of(frame) == "GameEvent", frame
        return frame["GameEvent"]

    async def events_until_complete(self, timeout: float = 20.0) -> list[dict[str, Any]]:
        """Every GameEventMessage up to the StatusUpdated that completes the game (only
        GameEvents may come meanwhile)."""
        deadline = time.monotonic() + timeout
        events = []
        while True:
            message = await self.event(max(0.01, deadline - time.monotonic()))
            events.append(message)
            if event_tag(message) == "StatusUpdated" and _is_complete(message["event"]["StatusUpdated"]["status"]):
                return events

    async def quiet(self) -> list[Any]:
        """Everything the server sent before the answer to a Ping (which follows it)."""
        await self.send("Ping")
        _, before = await self.until("Pong")
        return before


def event_tag(message: dict[str, Any]) -> str:
    return tag_of(message["event"])


def _is_complete(status: Any) -> bool:
    return isinstance(status, dict) and "Complete" in status


def state_of(message: dict[str, Any]) -> dict[str, Any]:
    """The game_state of a Snapshot GameEventMessage, checked the way clients read it."""
    assert event_tag(message) == "Snapshot", message
    assert set(message) == GAME_EVENT_FIELDS
    state = message["event"]["Snapshot"]["game_state"]
    assert set(state) == GAME_STATE_FIELDS
    # As the original server: a Snapshot is system-made, at the state's tick, numbered
    # with the state's last sequence.
    assert message["user_id"] is None
    assert message["tick"] == state["tick"]
    assert message["sequence"] == state["event_sequence"]
    return state


def assert_numbered_without_gaps(events: list[dict[str, Any]]) -> None:
    """Each event takes the next sequence number; a Snapshot repeats the last one."""
    for before, event in itertools.pairwise(events):
        step = 0 if event_tag(event) == "Snapshot" else 1
        assert event["sequence"] == before["sequence"] + step, (before, event)


def now_ms() -> int:
    return int(time.time() * 1000)
