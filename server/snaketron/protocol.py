"""Whole WebSocket messages: their types and their JSON codec (PROTOCOL.md), nothing else.

Messages are serde "externally tagged" enums: a unit variant is a bare string
(`"Ping"`), a newtype variant a one-key object holding the value
(`{"JoinGame": 17}`), a struct variant a one-key object holding an object.
A `TaggedUnion` decodes the top level as `str | dict[str, Raw]` and then the
payload with the variant's own msgspec decoder, so validation is done by msgspec
types; encoding writes a pre-built `{"Tag":` prefix around the payload.

Two engine types are messages as they are: a `GameCommandMessage` is the client's
`GameCommand` variant and a `GameEventMessage` is the server's `GameEvent`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta, Struct

from snaketron.engine.types import (
    I64,
    U8,
    U16,
    U32,
    CustomGameSettings,
    GameCommandMessage,
    GameEventMessage,
    GameMode,
    GameType,
)

__all__ = [
    "AccessDenied",
    "Authenticated",
    "Chat",
    "ChatMessage",
    "ClientMessage",
    "ClockSyncRequest",
    "ClockSyncResponse",
    "CreateCustomGame",
    "CreateSoloGame",
    "CustomGameCreated",
    "CustomGameJoined",
    "CustomGameSettings",
    "CustomGameSettingsPatch",
    "CustomGameSettingsUpdated",
    "CustomGameStarting",
    "Error",
    "GameCommandMessage",
    "GameEventMessage",
    "JoinCustomGame",
    "JoinGame",
    "LeaveGame",
    "LeaveQueue",
    "MatchFound",
    "Ping",
    "Pong",
    "ProtocolError",
    "QueueForMatch",
    "QueueLeft",
    "QueueUpdate",
    "ServerMessage",
    "ServerShutdown",
    "Shutdown",
    "SoloGameCreated",
    "SpectateGame",
    "SpectatorJoined",
    "StartCustomGame",
    "Token",
    "UpdateCustomGameSettings",
    "decode_client_message",
    "decode_server_message",
    "encode_client_message",
    "encode_game_event",
    "encode_server_message",
]

I32 = Annotated[int, Meta(ge=-(2**31), le=2**31 - 1)]
# Generous limits; the frame size limit of the server bounds them anyway.
TokenText = Annotated[str, Meta(max_length=4096)]
ChatText = Annotated[str, Meta(min_length=1, max_length=500)]
GameCode = Annotated[str, Meta(max_length=32)]


class ProtocolError(Exception):
    """A frame that is not a valid message. `code` is machine-readable, for the Error reply."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


# --- client -> server ---------------------------------------------------------------


class Token(Struct, frozen=True):
    token: TokenText


class Ping(Struct, frozen=True):
    pass


class ClockSyncRequest(Struct, frozen=True):
    client_time: I64


class QueueForMatch(Struct, frozen=True):
    game_type: GameType


class LeaveQueue(Struct, frozen=True):
    pass


class JoinGame(Struct, frozen=True):
    game_id: U32


class LeaveGame(Struct, frozen=True):
    pass


class CreateCustomGame(Struct, frozen=True):
    # Any field may be missing: CustomGameSettings fills in the defaults. The
    # sensible bounds are checked with `settings.validate()` (AccessDenied).
    settings: CustomGameSettings = msgspec.field(default_factory=CustomGameSettings)


class JoinCustomGame(Struct, frozen=True):
    game_code: GameCode


class CustomGameSettingsPatch(Struct, frozen=True, omit_defaults=True):
    """The fields of CustomGameSettings a host changes; a missing field keeps its value."""

    arena_width: U16 | msgspec.UnsetType = msgspec.UNSET
    arena_height: U16 | msgspec.UnsetType = msgspec.UNSET
    tick_duration_ms: U32 | msgspec.UnsetType = msgspec.UNSET
    food_spawn_rate: float | msgspec.UnsetType = msgspec.UNSET
    max_players: U8 | msgspec.UnsetType = msgspec.UNSET
    game_mode: GameMode | msgspec.UnsetType = msgspec.UNSET
    is_private: bool | msgspec.UnsetType = msgspec.UNSET
    allow_spectators: bool | msgspec.UnsetType = msgspec.UNSET
    snake_start_length: U8 | msgspec.UnsetType = msgspec.UNSET

    def apply_to(self, current: CustomGameSettings) -> CustomGameSettings:
        changes = {name: getattr(self, name) for name in self.__struct_fields__}
        return msgspec.structs.replace(current, **{k: v for k, v in changes.items() if v is not msgspec.UNSET})


class UpdateCustomGameSettings(Struct, frozen=True):
    # Partial: only the fields present change (the browser client sends just those).
    settings: CustomGameSettingsPatch = msgspec.field(default_factory=CustomGameSettingsPatch)


class StartCustomGame(Struct, frozen=True):
    pass


class SpectateGame(Struct, frozen=True):
    game_id: U32
    game_code: GameCode | None = None


# Existing clients send an id typed into a box as a decimal string (`"3"`): such ids are
# read as numbers; any other string is refused as an invalid message.
DecimalId = Annotated[str, Meta(pattern=r"^[0-9]{1,10}$")]
U32_MAX = 2**32 - 1


def _numeric_id(value: int | str) -> int:
    number = int(value)
    if number > U32_MAX:
        raise ValueError(f"an id is at most {U32_MAX}")
    return number


class _SpectateGameWire(Struct, frozen=True):
    game_id: U32 | DecimalId
    game_code: GameCode | None = None


def _spectate_game(wire: _SpectateGameWire) -> SpectateGame:
    return SpectateGame(game_id=_numeric_id(wire.game_id), game_code=wire.game_code)


class CreateSoloGame(Struct, frozen=True):
    pass


class Chat(Struct, frozen=True):
    text: ChatText


ClientMessage = (
    Token
    | Ping
    | ClockSyncRequest
    | QueueForMatch
    | LeaveQueue
    | JoinGame
    | LeaveGame
    | GameCommandMessage
    | CreateCustomGame
    | JoinCustomGame
    | UpdateCustomGameSettings
    | StartCustomGame
    | SpectateGame
    | CreateSoloGame
    | Chat
)


# --- server -> client ---------------------------------------------------------------


class Pong(Struct, frozen=True):
    pass


class ClockSyncResponse(Struct, frozen=True):
    client_time: I64
    server_time: I64


class MatchFound(Struct, frozen=True):
    """`{"JoinGame": <game_id>}` from the server: matchmaking placed the client in a game."""

    game_id: U32


class CustomGameCreated(Struct, frozen=True):
    game_id: U32
    game_code: str


class CustomGameJoined(Struct, frozen=True):
    game_id: U32


class CustomGameSettingsUpdated(Struct, frozen=True):
    settings: CustomGameSettings


class CustomGameStarting(Struct, frozen=True):
    pass


class SpectatorJoined(Struct, frozen=True):
    pass


class SoloGameCreated(Struct, frozen=True):
    game_id: U32


class AccessDenied(Struct, frozen=True):
    reason: str


class QueueUpdate(Struct, frozen=True):
    position: U32
    estimated_wait_seconds: U32


class QueueLeft(Struct, frozen=True):
    pass


class Shutdown(Struct, frozen=True):
    pass


class ServerShutdown(Struct, frozen=True):
    reason: str
    grace_period_seconds: U32


class Authenticated(Struct, frozen=True):
    """Extension: sent after a valid Token."""

    user_id: I32
    username: str


class Error(Struct, frozen=True):
    """Extension: a frame refused without closing the connection."""

    code: str
    message: str


class ChatMessage(Struct, frozen=True):
    """Extension: a Chat relayed to a game's members."""

    game_id: U32
    user_id: I32
    username: str
    text: str


ServerMessage = (
    Pong
    | ClockSyncResponse
    | MatchFound
    | GameEventMessage
    | CustomGameCreated
    | CustomGameJoined
    | CustomGameSettingsUpdated
    | CustomGameStarting
    | SpectatorJoined
    | SoloGameCreated
    | AccessDenied
    | QueueUpdate
    | QueueLeft
    | Shutdown
    | ServerShutdown
    | Authenticated
    | Error
    | ChatMessage
)


# --- the externally tagged codec ----------------------------------------------------


Shape = Literal["unit", "newtype", "struct"]


@dataclass(frozen=True, slots=True)
class Variant:
    """One message type of a union: its tag, its class, and how its payload is shaped."""

    tag: str
    cls: type
    shape: Shape
    # newtype only: the class's one field; None when the class *is* the payload.
    field: str | None = None
    # Decoding only: a wider type the payload is read as, and how it becomes the
    # payload's own type (ValueError: an invalid message).
    read_as: Any = None
    adapt: Callable[[Any], Any] | None = None


class TaggedUnion:
    """Encodes and decodes one externally tagged union of message classes."""

    def __init__(self, variants: list[Variant]) -> None:
        self._by_tag = {v.tag: v for v in variants}
        self._by_cls = {v.cls: v for v in variants}
        self._top = msgspec.json.Decoder(str | dict[str, msgspec.Raw])
        self._encoder = msgspec.json.Encoder()
        self._payload_decoders: dict[str, msgspec.json.Decoder[Any]] = {}
        self._units: dict[str, Any] = {}
        self._prefixes: dict[type, bytes] = {}
        for v in variants:
            tag_json = self._encoder.encode(v.tag)
            if v.shape == "unit":
                self._units[v.tag] = v.cls()
                self._prefixes[v.cls] = tag_json
                continue
            self._prefixes[v.cls] = b"{" + tag_json + b":"
            payload_type: Any = v.cls
            if v.read_as is not None:
                payload_type = v.read_as
            elif v.field is not None:
                payload_type = next(f.type for f in msgspec.structs.fields(v.cls) if f.name == v.field)
            self._payload_decoders[v.tag] = msgspec.json.Decoder(payload_type)

    def encode(self, message: Any) -> bytes:
        variant = self._by_cls.get(type(message))
        if variant is None:
            raise TypeError(f"not a message of this union: {type(message).__name__}")
        prefix = self._prefixes[variant.cls]
        if variant.shape == "unit":
            return prefix
        payload = message if variant.field is None else getattr(message, variant.field)
        return prefix + self._encoder.encode(payload) + b"}"

    def decode(self, data: bytes | str) -> Any:
        try:
            top = self._top.decode(data)
        except msgspec.ValidationError as exc:
            raise ProtocolError("invalid_message", f"a message is a string or a one-key object ({exc})") from None
        except msgspec.DecodeError as exc:
            raise ProtocolError("invalid_json", str(exc)) from None
        except RecursionError:
            # msgspec recurses per nesting level: a few KB of "[[[[" would otherwise
            # escape as a RecursionError and kill the connection's handler.
            raise ProtocolError("invalid_json", "JSON nested too deeply") from None
        if isinstance(top, str):
            unit = self._units.get(top)
            if unit is not None:
                return unit
            if top in self._by_tag:
                raise ProtocolError("invalid_message", f"{top} needs a payload")
            raise ProtocolError("unknown_message", f"unknown message {top!r}")
        if len(top) != 1:
            raise ProtocolError("invalid_message", f"a message object has exactly one key, not {len(top)}")
        ((tag, raw),) = top.items()
        variant = self._by_tag.get(tag)
        if variant is None:
            raise ProtocolError("unknown_message", f"unknown message {tag!r}")
        if variant.shape == "unit":
            # serde also accepts a unit variant written as {"Tag": null}.
            if bytes(raw).strip() == b"null":
                return self._units[tag]
            raise ProtocolError("invalid_message", f"{tag} takes no payload")
        try:
            payload = self._payload_decoders[tag].decode(raw)
        except msgspec.ValidationError as exc:
            raise ProtocolError("invalid_message", f"{tag}: {exc}") from None
        except RecursionError:
            raise ProtocolError("invalid_json", f"{tag}: JSON nested too deeply") from None
        if variant.adapt is not None:
            try:
                payload = variant.adapt(payload)
            except ValueError as exc:
                raise ProtocolError("invalid_message", f"{tag}: {exc}") from None
        if variant.field is None:
            return payload
        return variant.cls(payload)


def _unit(cls: type) -> Variant:
    return Variant(cls.__name__, cls, "unit")


def _struct(cls: type, tag: str | None = None) -> Variant:
    return Variant(tag or cls.__name__, cls, "struct")


def _newtype(cls: type, field: str, tag: str | None = None) -> Variant:
    return Variant(tag or cls.__name__, cls, "newtype", field)


CLIENT_MESSAGES = TaggedUnion(
    [
        _newtype(Token, "token"),
        _unit(Ping),
        _struct(ClockSyncRequest),
        _struct(QueueForMatch),
        _unit(LeaveQueue),
        Variant("JoinGame", JoinGame, "newtype", "game_id", read_as=U32 | DecimalId, adapt=_numeric_id),
        _unit(LeaveGame),
        _struct(GameCommandMessage, "GameCommand"),
        _struct(CreateCustomGame),
        _struct(JoinCustomGame),
        _struct(UpdateCustomGameSettings),
        _unit(StartCustomGame),
        Variant("SpectateGame", SpectateGame, "struct", read_as=_SpectateGameWire, adapt=_spectate_game),
        _unit(CreateSoloGame),
        _newtype(Chat, "text"),
    ]
)

SERVER_MESSAGES = TaggedUnion(
    [
        _unit(Pong),
        _struct(ClockSyncResponse),
        _newtype(MatchFound, "game_id", "JoinGame"),
        _struct(GameEventMessage, "GameEvent"),
        _struct(CustomGameCreated),
        _struct(CustomGameJoined),
        _struct(CustomGameSettingsUpdated),
        _unit(CustomGameStarting),
        _unit(SpectatorJoined),
        _struct(SoloGameCreated),
        _struct(AccessDenied),
        _struct(QueueUpdate),
        _unit(QueueLeft),
        _unit(Shutdown),
        _struct(ServerShutdown),
        _struct(Authenticated),
        _struct(Error),
        _struct(ChatMessage),
    ]
)

_EVENT_PREFIX = b'{"GameEvent":'
_event_encoder = msgspec.json.Encoder()


def decode_client_message(data: bytes | str) -> ClientMessage:
    """Parse one client frame. Raises ProtocolError (invalid_json, unknown_message, invalid_message)."""
    message: ClientMessage = CLIENT_MESSAGES.decode(data)
    return message


def encode_client_message(message: ClientMessage) -> bytes:
    """JSON text of a client message (bots and tests speak as clients)."""
    return CLIENT_MESSAGES.encode(message)


def encode_server_message(message: ServerMessage) -> bytes:
    """JSON text of a server message."""
    return SERVER_MESSAGES.encode(message)


def decode_server_message(data: bytes | str) -> ServerMessage:
    """Parse one server frame (bots and tests listen as clients). Raises ProtocolError."""
    message: ServerMessage = SERVER_MESSAGES.decode(data)
    return message


def encode_game_event(event_msg: GameEventMessage) -> bytes:
    """The whole `{"GameEvent": {...}}` frame of one event: encode once, send to every member."""
    return _EVENT_PREFIX + _event_encoder.encode(event_msg) + b"}"
