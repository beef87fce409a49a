"""The host side of the relay: admitting another server's connection for one of its clients.

A relay connection is an ordinary WebSocket to this server's WebSocket port, on
`RELAY_PATH`, carrying the cluster secret and the identity of the client it speaks
for. The relaying server has verified that client's token, so the connection starts
out authenticated as that user; from then on it is handled exactly like a client
connection (same state machine, same handlers), which is what makes relayed play
indistinguishable from local play. A wrong or missing secret is refused during the
handshake (HTTP 403), before any WebSocket exists.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import quote, unquote

from websockets.asyncio.server import ServerConnection
from websockets.http11 import Request, Response

RELAY_PATH = "/internal/relay"
SECRET_HEADER = "X-SnakeTron-Cluster-Secret"
USER_ID_HEADER = "X-SnakeTron-User-Id"
USERNAME_HEADER = "X-SnakeTron-Username"  # percent-encoded: headers are ASCII


@dataclass(frozen=True, slots=True)
class PeerIdentity:
    """The client a relay connection speaks for."""

    user_id: int
    username: str


def relay_headers(secret: str, identity: PeerIdentity) -> dict[str, str]:
    return {
        SECRET_HEADER: secret,
        USER_ID_HEADER: str(identity.user_id),
        USERNAME_HEADER: quote(identity.username, safe=""),
    }


def is_relay_request(request: Request) -> bool:
    return request.path.split("?", 1)[0] == RELAY_PATH


def check_relay_handshake(secret: str, connection: ServerConnection, request: Request) -> Response | None:
    """`process_request` for the WebSocket server: None lets the handshake go on."""
    if not is_relay_request(request):
        return None
    if not secret_matches(secret, request.headers.get(SECRET_HEADER, "")):
        return connection.respond(HTTPStatus.FORBIDDEN, "cluster secret required\n")
    if _identity(request) is None:
        return connection.respond(HTTPStatus.BAD_REQUEST, "relay identity missing\n")
    return None


def peer_identity(secret: str, connection: ServerConnection) -> PeerIdentity | None:
    """The relayed client of an admitted relay connection; None for ordinary clients.
    (The secret is checked again: admission must not hinge on the handshake hook alone.)"""
    request = connection.request
    offered = request.headers.get(SECRET_HEADER, "") if request is not None else ""
    if request is None or not is_relay_request(request) or not secret_matches(secret, offered):
        return None
    return _identity(request)


def secret_matches(secret: str, offered: str) -> bool:
    """Is `offered` the cluster secret? (Constant time; an empty secret admits nobody.)"""
    return bool(secret) and hmac.compare_digest(offered.encode(), secret.encode())


def _identity(request: Request) -> PeerIdentity | None:
    try:
        user_id = int(request.headers.get(USER_ID_HEADER, ""))
    except ValueError:
        return None
    username = unquote(request.headers.get(USERNAME_HEADER, ""))
    if user_id <= 0 or not username:
        return None
    return PeerIdentity(user_id, username)
