"""A SnakeTron client: the account API over HTTP and the game protocol over WebSocket.

Speaks exactly what existing clients speak, with the same typed messages the
server uses. The load-test bots and the tests play through it.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, TypeVar

import aiohttp
import msgspec
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from snaketron import protocol

M = TypeVar("M")


class UnexpectedMessage(AssertionError):
    """The server answered with something other than what the caller waited for."""


class AccountError(Exception):
    def __init__(self, status: int, message: str, *, retry_after_s: float | None = None) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message
        # The server's Retry-After (429 rate limited, 503 database unavailable), in seconds.
        self.retry_after_s = retry_after_s


def _retry_after_s(response: aiohttp.ClientResponse) -> float | None:
    try:
        return max(0.0, float(response.headers["Retry-After"]))
    except (KeyError, ValueError):
        return None  # absent, or an HTTP date (the server sends seconds)


class SignedIn(msgspec.Struct):
    token: str
    user_id: int
    username: str
    mmr: int


# A 503 whose Retry-After is at most BUSY_WAIT_MAX_S (every password-hashing slot busy:
# 1 s) is waited out and sent again, up to BUSY_RETRIES times. A longer one (the
# database away: 5 s) goes to the caller, who knows whether waiting is worth it.
BUSY_RETRIES = 3
BUSY_WAIT_MAX_S = 2.0


class AccountClient:
    """The HTTP account API (PROTOCOL.md, "Tokens and the HTTP API").

    A request answered 503 with a short Retry-After is sent again after that wait (up
    to BUSY_RETRIES times), as a well-behaved client of a busy server should."""

    def __init__(self, api_url: str, session: aiohttp.ClientSession | None = None) -> None:
        # The server's base URL, given with or without the `/api` that `snaketron serve` prints.
        self.api_url = api_url.rstrip("/").removesuffix("/api")
        self._session = session
        self._owns_session = session is None

    async def __aenter__(self) -> AccountClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        return self._session

    async def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        for attempt in range(BUSY_RETRIES + 1):
            async with self._http().post(self.api_url + path, json=body) as response:
                payload = await response.json(content_type=None)
                wait_s = _retry_after_s(response)
                if response.status == 200:
                    return payload
                if response.status != 503 or wait_s is None or wait_s > BUSY_WAIT_MAX_S or attempt == BUSY_RETRIES:
                    raise AccountError(response.status, (payload or {}).get("error", ""), retry_after_s=wait_s)
            await asyncio.sleep(wait_s)
        raise AssertionError("unreachable")

    @staticmethod
    def _signed_in(payload: dict[str, Any]) -> SignedIn:
        user = payload["user"]
        return SignedIn(token=payload["token"], user_id=user["id"], username=user["username"], mmr=user["mmr"])

    async def register(self, username: str, password: str) -> SignedIn:
        return self._signed_in(await self._post("/api/auth/register", {"username": username, "password": password}))

    async def login(self, username: str, password: str) -> SignedIn:
        return self._signed_in(await self._post("/api/auth/login", {"username": username, "password": password}))

    async def register_or_login(self, username: str, password: str) -> SignedIn:
        try:
            return await self.register(username, password)
        except AccountError as exc:
            if exc.status != 409:
                raise
            return await self.login(username, password)

    async def me(self, token: str) -> dict[str, Any]:
        async with self._http().get(
            self.api_url + "/api/auth/me", headers={"Authorization": f"Bearer {token}"}
        ) as response:
            payload = await response.json(content_type=None)
            if response.status != 200:
                raise AccountError(response.status, (payload or {}).get("error", ""))
            return payload


class GameClient:
    """One WebSocket connection speaking the game protocol."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self.skipped: list[protocol.ServerMessage] = []  # messages `expect` passed over
        self.user_id = 0
        self.username = ""
        self.token = ""

    @classmethod
    async def connect(cls, url: str, **options: Any) -> GameClient:
        options.setdefault("compression", None)
        options.setdefault("open_timeout", 10)
        return cls(await connect(url, **options))

    async def __aenter__(self) -> GameClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self.connection.close()

    async def send(self, message: protocol.ClientMessage) -> None:
        await self.connection.send(protocol.encode_client_message(message), text=True)

    async def send_raw(self, frame: str | bytes) -> None:
        await self.connection.send(frame)

    async def recv(self, timeout: float = 5.0) -> protocol.ServerMessage:
        frame = await asyncio.wait_for(self.connection.recv(), timeout)
        return protocol.decode_server_message(frame)

    async def expect(self, kind: type[M], timeout: float = 5.0) -> M:
        """Receive until a message of `kind` arrives; what comes before it is kept in `skipped`.
        An AccessDenied or Error that was not asked for fails at once."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no {kind.__name__} within {timeout}s")
            message = await self.recv(remaining)
            if isinstance(message, kind):
                return message
            if isinstance(message, (protocol.AccessDenied, protocol.Error)):
                raise UnexpectedMessage(f"waiting for {kind.__name__}, got {message!r}")
            self.skipped.append(message)

    async def authenticate(self, token: str) -> protocol.Authenticated:
        await self.send(protocol.Token(token=token))
        reply = await self.expect(protocol.Authenticated)
        self.user_id, self.username, self.token = reply.user_id, reply.username, token
        return reply

    async def wait_closed(self, timeout: float = 5.0) -> tuple[int | None, str]:
        """Drain until the server closes; returns the close code and reason."""
        try:
            async with asyncio.timeout(timeout):
                while True:
                    await self.connection.recv()
        except ConnectionClosed:
            pass
        return self.connection.close_code, self.connection.close_reason or ""


__all__ = ["AccountClient", "AccountError", "GameClient", "SignedIn", "UnexpectedMessage"]
