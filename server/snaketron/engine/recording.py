"""A game's inputs, kept so the game can be computed again exactly (a replay).

The engine is deterministic: the constructor's arguments, the seats, the start
time and every accepted command (with the tick the game was at when it took it)
reproduce every event, sequence numbers included. `Game` appends one small
tuple-like record per accepted input (never per tick) and hands out an immutable
`Recording` at the end; `replay_events` computes the game again from it.

A Snapshot taken outside the tick (a member attaching) is not an input: it takes no
sequence number and changes nothing, and the replay has its own periodic snapshots.

`RULES_VERSION` names the rules that played a recording. Change it whenever the
tick's outcome changes (docs/RULES.md): a replay of other rules is refused, and
the final state's digest catches a change nobody numbered.
"""

from __future__ import annotations

import hashlib

import msgspec

from snaketron.engine.errors import EngineError
from snaketron.engine.types import CommandId, Direction, GameState, GameType

RULES_VERSION = 1


class ReplayMismatch(EngineError):
    """The recording cannot be computed again into the game that was played."""


# Inputs: array-like tagged structs, so a stored recording is a compact list of lists.


class Joined(msgspec.Struct, frozen=True, array_like=True, tag="j"):
    user_id: int
    username: str


class Left(msgspec.Struct, frozen=True, array_like=True, tag="l"):
    user_id: int


class Began(msgspec.Struct, frozen=True, array_like=True, tag="s"):
    start_ms: int


class Commanded(msgspec.Struct, frozen=True, array_like=True, tag="c"):
    """A Turn the game accepted while about to compute `tick`, as the client sent it."""

    tick: int
    user_id: int
    client_tick: int
    client_user_id: int
    client_sequence: int
    snake_id: int | None
    direction: Direction


class Abandoned(msgspec.Struct, frozen=True, array_like=True, tag="a"):
    tick: int


Input = Joined | Left | Began | Commanded | Abandoned


class Recording(msgspec.Struct, frozen=True, kw_only=True):
    """Everything a replay needs; what `Game.recording()` returns at the end."""

    rules_version: int
    game_id: int
    game_type: GameType
    seed: int
    tick_ms: int | None  # as given to the constructor (None: the game type's)
    server_id: int
    game_code: str | None
    host_user_id: int | None
    inputs: tuple[Input, ...]
    final_tick: int
    final_sequence: int
    final_digest: str

    @property
    def start_ms(self) -> int | None:
        return next((i.start_ms for i in self.inputs if isinstance(i, Began)), None)

    @property
    def seats(self) -> list[tuple[int, str]]:
        """(user_id, username) of the players who played, in seat order."""
        seats: dict[int, str] = {}
        for i in self.inputs:
            if isinstance(i, Joined):
                seats.setdefault(i.user_id, i.username)
            elif isinstance(i, Left):
                seats.pop(i.user_id, None)
        return list(seats.items())


_digest_encoder = msgspec.msgpack.Encoder()


def state_digest(state: GameState) -> str:
    """A short fingerprint of a whole state: equal states, equal digests."""
    return hashlib.blake2b(_digest_encoder.encode(state), digest_size=16).hexdigest()


def command_input(tick: int, user_id: int, client: CommandId, snake_id: int | None, direction: Direction) -> Commanded:
    return Commanded(tick, user_id, client.tick, client.user_id, client.sequence_number, snake_id, direction)
