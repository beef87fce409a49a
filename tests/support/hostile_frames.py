"""Hostile WebSocket frames and what the server must answer to each.

One generator serves both fuzzers: it draws through a `Chooser`, which is either a
seeded `random.Random` (`RandomChooser`, for reproducible campaigns) or a hypothesis
`st.data()` object (`HypothesisChooser`, which shrinks a failing frame).

`expected_replies(frame, seat, max_frame_bytes)` is the oracle: the labels of the
replies the server may give to that frame in that seat (at most one non-event
message; "none" when silence is right), or None when the frame is a valid request
that would move the connection to another state (the fuzzers then do not send it).
The decision follows the server's reading order (binary, size, JSON, message, the
state table of PROTOCOL.md) and uses the codec only to name the exact error code.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from snaketron import protocol
from snaketron.engine import GameCommandMessage

Seat = Literal["unauthenticated", "authenticated", "lobby_host", "player", "spectator"]
SEATS: tuple[Seat, ...] = ("unauthenticated", "authenticated", "lobby_host", "player", "spectator")

# PROTOCOL.md, "Connection states": what each state accepts.
_ANY = {"Ping", "ClockSyncRequest"}
ACCEPTS: dict[str, set[str]] = {
    "unauthenticated": {"Token", *_ANY},
    "authenticated": {
        "QueueForMatch",
        "LeaveQueue",
        "JoinGame",
        "CreateCustomGame",
        "JoinCustomGame",
        "SpectateGame",
        "CreateSoloGame",
        *_ANY,
    },
    "in_game": {"GameCommand", "LeaveGame", "StartCustomGame", "UpdateCustomGameSettings", "Chat", *_ANY},
}

TAGS = (
    "Token",
    "Ping",
    "ClockSyncRequest",
    "QueueForMatch",
    "LeaveQueue",
    "JoinGame",
    "LeaveGame",
    "GameCommand",
    "CreateCustomGame",
    "JoinCustomGame",
    "UpdateCustomGameSettings",
    "StartCustomGame",
    "SpectateGame",
    "CreateSoloGame",
    "Chat",
)
UNIT_TAGS = ("Ping", "LeaveQueue", "LeaveGame", "StartCustomGame", "CreateSoloGame")
SETTINGS_FIELDS = (
    "arena_width",
    "arena_height",
    "tick_duration_ms",
    "food_spawn_rate",
    "max_players",
    "game_mode",
    "is_private",
    "allow_spectators",
    "snake_start_length",
)
HUGE_NUMBERS = ("18446744073709551616", "-9223372036854775809", "1e400", "-1e400", "1" + "0" * 400, "4294967296")
JUNK_ALPHABET = '{}[]":,\\ \t\nabcXYZ019-+.eE\x00\u00e9\u200b\U0001f40d'


class Chooser(Protocol):
    def integer(self, low: int, high: int) -> int: ...
    def choice(self, options: tuple[Any, ...]) -> Any: ...
    def text(self, max_size: int) -> str: ...
    def raw_bytes(self, max_size: int) -> bytes: ...


class RandomChooser:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def integer(self, low: int, high: int) -> int:
        return self.rng.randint(low, high)

    def choice(self, options: tuple[Any, ...]) -> Any:
        return self.rng.choice(options)

    def text(self, max_size: int) -> str:
        return "".join(self.rng.choice(JUNK_ALPHABET) for _ in range(self.rng.randint(0, max_size)))

    def raw_bytes(self, max_size: int) -> bytes:
        return self.rng.randbytes(self.rng.randint(0, max_size))


class HypothesisChooser:
    """Draws through hypothesis, so a failing frame shrinks to a small one."""

    def __init__(self, data: Any) -> None:
        from hypothesis import strategies as st

        self._st = st
        self._data = data

    def integer(self, low: int, high: int) -> int:
        return self._data.draw(self._st.integers(low, high))

    def choice(self, options: tuple[Any, ...]) -> Any:
        return self._data.draw(self._st.sampled_from(options))

    def text(self, max_size: int) -> str:
        # No lone surrogates: a text frame must be encodable to be sent at all.
        alphabet = self._st.characters(exclude_categories=("Cs",))
        return self._data.draw(
            self._st.one_of(self._st.text(JUNK_ALPHABET, max_size=max_size), self._st.text(alphabet, max_size=max_size))
        )

    def raw_bytes(self, max_size: int) -> bytes:
        return self._data.draw(self._st.binary(max_size=max_size))


@dataclass(frozen=True)
class Frame:
    data: str | bytes  # bytes go out as a binary frame
    kind: str  # which generator made it (for the report)

    def __repr__(self) -> str:
        shown = self.data if len(self.data) <= 120 else self.data[:120]
        return f"Frame({self.kind}, {len(self.data)} long: {shown!r})"


# --- JSON values, right-typed or not -------------------------------------------------------


def _nested(c: Chooser, depth: int) -> str:
    opener, closer = c.choice((("[", "]"), ('{"a":', "}"), ('{"Chat":', "}")))
    closed = c.choice((True, True, False))  # sometimes unbalanced
    return opener * depth + "1" + (closer * depth if closed else "")


def _junk_value(c: Chooser) -> str:
    """JSON text of a value of any type (or not quite JSON)."""
    kind = c.integer(0, 9)
    if kind == 0:
        return "null"
    if kind == 1:
        return c.choice(("true", "false"))
    if kind == 2:
        return c.choice(HUGE_NUMBERS)
    if kind == 3:
        return str(c.integer(-(2**40), 2**40))
    if kind == 4:
        return json.dumps(c.text(40))
    if kind == 5:
        # Depths well clear of the interpreter's recursion limit (1000) on either side:
        # how deep the decoder gets depends on the stack it starts from.
        return _nested(c, c.choice((2, 10, 200, 3000)))
    if kind == 6:
        return c.choice(("NaN", "Infinity", "-0", "1.5", "01", "0x10", "'x'", "[1,]", "{}", "[]"))
    if kind == 7:
        return "[" + ",".join(_junk_value(c) for _ in range(c.integer(0, 3))) + "]"
    if kind == 8:
        return "{" + ",".join(f"{json.dumps(c.text(8))}:{_junk_value(c)}" for _ in range(c.integer(0, 3))) + "}"
    return json.dumps(c.text(200))


def _int_like(c: Chooser, low: int, high: int) -> str:
    """Mostly a right-typed integer (often at or past its bounds), sometimes anything."""
    kind = c.integer(0, 4)
    if kind == 0:
        return _junk_value(c)
    if kind == 1:
        return c.choice((str(low - 1), str(high + 1), str(low), str(high), "-1", "0"))
    return str(c.integer(low, high))


def _settings(c: Chooser) -> str:
    fields = []
    for name in SETTINGS_FIELDS:
        if c.integer(0, 2) != 0:
            continue
        if name == "game_mode":
            value = c.choice(('"Solo"', '"Duel"', '{"FreeForAll": {"max_players": 3}}', '"Chaos"', _junk_value(c)))
        elif name in ("is_private", "allow_spectators"):
            value = c.choice(("true", "false", _junk_value(c)))
        elif name == "food_spawn_rate":
            value = c.choice(("0.5", "3.0", "-1", "1e39", _junk_value(c)))
        else:
            value = _int_like(c, 0, 1200)
        fields.append(f'"{name}": {value}')
    return "{" + ", ".join(fields) + "}"


def _command(c: Chooser) -> str:
    command_id = (
        f'{{"tick": {_int_like(c, 0, 2**32 - 1)}, "user_id": {_int_like(c, 0, 2**32 - 1)}, '
        f'"sequence_number": {_int_like(c, 0, 2**32 - 1)}}}'
    )
    snake = c.choice(("null", "0", "1", "2", "15", _int_like(c, 0, 2**32 - 1)))
    direction = c.choice(('"Up"', '"Down"', '"Left"', '"Right"', '"Sideways"', _junk_value(c)))
    command = c.choice(
        (
            f'{{"Turn": {{"snake_id": {snake}, "direction": {direction}}}}}',
            f'{{"Turn": {{"direction": {direction}}}}}',
            '{"UpdateStatus": {"status": "Stopped"}}',
            '{"UpdateStatus": {"status": {"Complete": {"winning_snake_id": 0}}}}',
            _junk_value(c),
        )
    )
    server_id = c.choice(("null", command_id))
    return f'{{"command_id_client": {command_id}, "command_id_server": {server_id}, "command": {command}}}'


def _payload(c: Chooser, tag: str) -> str:
    """A payload for `tag`: the right shape with hostile values, or anything at all."""
    if c.integer(0, 4) == 0:
        return _junk_value(c)
    if tag == "Token":
        return json.dumps(c.text(60))
    if tag == "ClockSyncRequest":
        return f'{{"client_time": {_int_like(c, -(2**63), 2**63 - 1)}}}'
    if tag == "QueueForMatch":
        game_type = c.choice(('"Solo"', '{"FreeForAll": {"max_players": 0}}', '{"TeamMatch": {"per_team": 300}}'))
        return f'{{"game_type": {game_type}}}'
    if tag == "JoinGame":
        return _int_like(c, 0, 2**32 - 1)
    if tag in ("CreateCustomGame", "UpdateCustomGameSettings"):
        return f'{{"settings": {_settings(c)}}}'
    if tag == "JoinCustomGame":
        return f'{{"game_code": {json.dumps(c.text(40))}}}'
    if tag == "SpectateGame":
        return f'{{"game_id": {_int_like(c, 0, 2**32 - 1)}, "game_code": {json.dumps(c.text(40))}}}'
    if tag == "Chat":
        return json.dumps(c.text(600))
    if tag == "GameCommand":
        return _command(c)
    return "null"  # unit variants written as {"Tag": null}


# --- frames ----------------------------------------------------------------------------------

KINDS = (
    "junk_text",
    "truncated",
    "hostile_payload",
    "hostile_payload",
    "deep_nesting",
    "unknown_variant",
    "many_keys",
    "binary",
    "oversized",
    "bare_tag",
    "turn",
)


def hostile_frame(c: Chooser, max_frame_bytes: int) -> Frame:
    kind = c.choice(KINDS)
    if kind == "junk_text":
        return Frame(c.text(300), kind)
    if kind == "truncated":
        tag = c.choice(TAGS)
        whole = f'{{"{tag}": {_payload(c, tag)}}}'
        return Frame(whole[: c.integer(0, max(0, len(whole) - 1))], kind)
    if kind == "hostile_payload":
        tag = c.choice(TAGS)
        return Frame(f'{{"{tag}": {_payload(c, tag)}}}', kind)
    if kind == "deep_nesting":
        # Not near 1000: whether the decoder's recursion limit is hit there depends on
        # the depth of the stack it starts from (the server's is deeper than ours).
        depth = c.choice((64, 500, 2000, 5000, max_frame_bytes // 5))
        inner = _nested(c, depth)
        return Frame(c.choice((inner, f'{{"{c.choice(TAGS)}": {inner}}}')), kind)
    if kind == "unknown_variant":
        tag = c.choice(("Teleport", "ping", "PING", "", "GameEvent", "Pong", "Authenticated", c.text(20)))
        return Frame(c.choice((json.dumps(tag), f"{{{json.dumps(tag)}: {_junk_value(c)}}}")), kind)
    if kind == "many_keys":
        tags = [c.choice(TAGS) for _ in range(c.integer(2, 4))]
        return Frame("{" + ", ".join(f'"{t}": {_payload(c, t)}' for t in tags) + "}", kind)
    if kind == "binary":
        return Frame(c.choice((c.raw_bytes(300), b'"Ping"', b"\xff\xfe\x00")), kind)
    if kind == "oversized":
        # Past the refusal limit but under the hard limit (4x): an Error, not a close.
        size = c.integer(max_frame_bytes + 1, max_frame_bytes * 3)
        return Frame('{"Chat": "' + "x" * size + '"}', kind)
    if kind == "turn":
        # Well-formed turns for any tick, user and snake: the engine's checks, not the
        # codec's, must refuse the wrong ones.
        tick = c.choice((0, 1, 5, 50, 2**31, 2**32 - 1, c.integer(0, 400)))
        snake = c.choice(("null", "0", "1", "2", "3", "4294967295"))
        direction = c.choice(('"Up"', '"Down"', '"Left"', '"Right"'))
        command_id = f'{{"tick": {tick}, "user_id": {c.integer(0, 2**32 - 1)}, "sequence_number": {c.integer(0, 9)}}}'
        return Frame(
            f'{{"GameCommand": {{"command_id_client": {command_id}, "command_id_server": null, '
            f'"command": {{"Turn": {{"snake_id": {snake}, "direction": {direction}}}}}}}}}',
            kind,
        )
    return Frame(json.dumps(c.choice(TAGS)), kind)


# --- the oracle ----------------------------------------------------------------------------------


def reply_label(message: protocol.ServerMessage) -> str:
    if isinstance(message, protocol.Error):
        return f"Error:{message.code}"
    return type(message).__name__


def _tag_of(message: protocol.ClientMessage) -> str:
    return "GameCommand" if isinstance(message, GameCommandMessage) else type(message).__name__


def expected_replies(frame: Frame, seat: Seat, max_frame_bytes: int) -> set[str] | None:
    """Labels of the acceptable answers (one of them, or "none"), or None: do not send."""
    data = frame.data
    if isinstance(data, bytes):
        return {"Error:binary_frame"}
    if len(data) > max_frame_bytes:
        return {"Error:frame_too_large"}
    try:
        message = protocol.decode_client_message(data)
    except protocol.ProtocolError as exc:
        return {f"Error:{exc.code}"}
    tag = _tag_of(message)
    state = seat if seat in ("unauthenticated", "authenticated") else "in_game"
    if tag not in ACCEPTS[state]:
        return None if (state == "in_game" and tag == "JoinGame") else {"Error:wrong_state"}
    if tag == "Ping":
        return {"Pong"}
    if tag == "ClockSyncRequest":
        return {"ClockSyncResponse"}
    if tag == "LeaveQueue":
        return {"QueueLeft"}
    if tag == "Chat":
        return {"ChatMessage"}
    if tag == "GameCommand":
        return {"Error:not_a_player"} if seat == "spectator" else {"Error:command_rejected", "none"}
    if tag == "StartCustomGame":
        return {"AccessDenied"}  # a lone host, a guest or a spectator may not start
    if tag == "UpdateCustomGameSettings":
        return {"CustomGameSettingsUpdated", "AccessDenied"} if seat == "lobby_host" else {"AccessDenied"}
    return None  # Token, LeaveGame, create/join/spectate/queue: valid and state-changing
