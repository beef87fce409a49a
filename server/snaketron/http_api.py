"""The HTTP account API: register, login, check-username, me, password, logout-all,
health (PROTOCOL.md).

`create_api_app(...)` returns an aiohttp Application with these routes under /api/;
the game server adds its own routes (server list, static web client) to the same app.

Behaviour every route shares, through middlewares:
- CORS is open: any origin, method and header; OPTIONS preflights are answered here.
- Errors are `{"error": "<text>"}`: 400 bad input, 401, 404, 409, 413 body too large,
  429 rate limited or locked out, 503 database unavailable. Bad input never yields 500.

Abuse limits, all kept in this process's memory (so per process: N servers behind a
load balancer give an address N budgets):
- login, register and check-username each allow `api_rate_per_min` requests per minute
  per client address;
- failed logins are throttled per (account, address) and per address, and slow the
  account down for everyone past a threshold, without ever locking the owner out
  (login_throttle.py);
- password hashes in flight are bounded (PasswordHasher): a full queue answers 503
  with Retry-After at once.

The client address is the socket peer (`request.remote`). Behind a reverse proxy every
request would share the proxy's address; an operator then sets
SNAKETRON_TRUST_FORWARDED_FOR so the last X-Forwarded-For entry (the one the proxy
appended) is used instead. It must stay off when clients can reach the server directly,
or they could pick any address they like.
"""

from __future__ import annotations

import asyncio
import collections
import math
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import msgspec
from aiohttp import web

from snaketron.auth import (
    HashingBusy,
    InvalidToken,
    PasswordHasher,
    TokenIssuer,
    VerifyResult,
    check_generation,
    is_utf8_encodable,
    validate_password,
    validate_username,
)
from snaketron.config import Settings
from snaketron.db.errors import DatabaseError, DatabaseUnavailable, NotFound, UsernameTaken
from snaketron.db.interface import Database
from snaketron.db.models import DatabaseHealth, UserRecord
from snaketron.login_throttle import LoginThrottle
from snaketron.logs import get_logger
from snaketron.ratelimit import Clock, KeyedRateLimiter, address_key, parse_ip

log = get_logger(__name__)
T = TypeVar("T")

NEW_ACCOUNT_MMR = 1000
# Longest name a login looks up. Accounts carried over from earlier deployments may
# hold names the registration rules no longer allow, so login does not apply them.
MAX_LOGIN_NAME = 255

SETTINGS_KEY = web.AppKey("snaketron.settings", Settings)
DB_KEY = web.AppKey("snaketron.db", Database)
TOKENS_KEY = web.AppKey("snaketron.tokens", TokenIssuer)
HASHER_KEY = web.AppKey("snaketron.hasher", PasswordHasher)


# --- messages -----------------------------------------------------------------------


class Credentials(msgspec.Struct):
    username: str
    password: str


class UsernameQuery(msgspec.Struct):
    username: str


class PasswordChange(msgspec.Struct):
    current_password: str
    new_password: str


class UserView(msgspec.Struct):
    id: int
    username: str
    mmr: int


class AuthResponse(msgspec.Struct):
    token: str
    user: UserView


class UsernameAvailability(msgspec.Struct):
    available: bool
    errors: list[str]


class HealthStatus(msgspec.Struct):
    status: str
    database: DatabaseHealth


class Unhealthy(msgspec.Struct):
    error: str
    database: DatabaseHealth


class ErrorBody(msgspec.Struct):
    error: str


_encoder = msgspec.json.Encoder()


def json_response(body: msgspec.Struct, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(body=_encoder.encode(body), status=status, content_type="application/json", headers=headers)


def spend_budget(limiter: KeyedRateLimiter | None, address: str) -> None:
    """One request from `address` against a per-address limit (None: no limit); over it,
    429 with the Retry-After the limiter computes. Every rate-limited route uses this."""
    if limiter is not None and not limiter.try_take(address):
        raise ApiError(429, "Too many requests, try again later", retry_after=limiter.retry_after(address))


class ApiError(Exception):
    """Raised by a handler; the error middleware answers `{"error": message}`."""

    def __init__(self, status: int, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after

    def response(self) -> web.Response:
        headers = None
        if self.retry_after is not None:
            headers = {"Retry-After": str(max(1, math.ceil(self.retry_after)))}
        return json_response(ErrorBody(self.message), self.status, headers)


# Every token problem reads the same to the client: which check failed is for the log.
INVALID_TOKEN = "invalid token"
# How long an early answer's unread request body is still drained.
LINGERING_S = 2.0
# A full hashing queue empties within a second or so (a hash takes tens of ms).
HASHING_BUSY_RETRY_S = 1

# --- request helpers ----------------------------------------------------------------


def client_address(request: web.Request, trust_forwarded_for: bool = False) -> str:
    """The key rate limits and login throttling count against (`address_key`)."""
    peer = request.remote
    if trust_forwarded_for:
        # A proxy may append its own header line rather than extend the client's
        # (HAProxy's `option forwardfor`): the lines joined are one list (RFC 9110),
        # whose last entry is the one our proxy wrote.
        forwarded = ",".join(request.headers.getall("X-Forwarded-For", ())).rsplit(",", 1)[-1].strip()
        if parse_ip(forwarded) is not None:
            peer = forwarded
    return address_key(peer)


async def read_body(request: web.Request, limit: int, timeout_s: float | None = None) -> bytes:
    """The request body, refusing (413) more than `limit` bytes without reading them all,
    and (408) a body that takes longer than `timeout_s` to arrive (a slow sender would
    otherwise hold the connection and its handler for as long as it likes)."""
    if request.content_length is not None and request.content_length > limit:
        raise ApiError(413, f"Request body larger than {limit} bytes")
    if timeout_s is None:
        timeout_s = request.app[SETTINGS_KEY].http_idle_timeout_seconds
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(timeout_s):
            while True:
                chunk = await request.content.read(limit + 1 - size)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
                if size > limit:
                    raise ApiError(413, f"Request body larger than {limit} bytes")
    except TimeoutError:
        raise ApiError(408, "Request body too slow") from None
    return b"".join(chunks)


def decode_body(body: bytes, decoder: msgspec.json.Decoder[T]) -> T:
    """Decode and validate a JSON body; every failure is a 400 naming what is wrong."""
    try:
        return decoder.decode(body)
    except msgspec.ValidationError as exc:
        raise ApiError(400, f"Invalid request: {exc}") from None
    except msgspec.DecodeError:
        raise ApiError(400, "Request body is not valid JSON") from None
    except RecursionError:
        raise ApiError(400, "Request body is nested too deeply") from None


def bearer_token(request: web.Request) -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "Missing bearer token")
    return token.strip()


async def signed_in_user(request: web.Request, tokens: TokenIssuer, db: Database) -> UserRecord:
    """The user of the request's bearer token: valid, not revoked, still there. Every
    route that accepts a token goes through here, so a token revoked by a password
    change or logout-all opens nothing (the user item's generation is the check), and
    every refusal says "invalid token" only (the cause goes to the log)."""
    try:
        claims = tokens.verify(bearer_token(request))
    except InvalidToken as exc:
        log.info("api_token_refused", reason=exc.reason, path=request.path)
        raise ApiError(401, INVALID_TOKEN) from None
    try:
        user = await db.get_user(claims.user_id)
    except NotFound:
        raise ApiError(404, "User not found") from None
    try:
        check_generation(claims, user.token_generation)
    except InvalidToken as exc:
        log.info("api_token_refused", reason=exc.reason, path=request.path)
        raise ApiError(401, INVALID_TOKEN) from None
    return user


# --- middlewares --------------------------------------------------------------------

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "Retry-After",
}


@web.middleware
async def cors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Open CORS. Tokens travel in the Authorization header, never in cookies, so
    allowing every origin exposes nothing a page could not already send."""
    if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
        return web.Response(
            status=204,
            headers={
                **CORS_HEADERS,
                "Access-Control-Allow-Methods": request.headers["Access-Control-Request-Method"],
                "Access-Control-Allow-Headers": request.headers.get("Access-Control-Request-Headers", "*") or "*",
                "Access-Control-Max-Age": "86400",
            },
        )
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        exc.headers.update(CORS_HEADERS)
        raise
    if not response.prepared:
        response.headers.update(CORS_HEADERS)
    return response


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn failures into `{"error": ...}` answers with the right status."""
    try:
        return await handler(request)
    except ApiError as exc:
        return exc.response()
    except HashingBusy:
        log.warning("api_hashing_busy", path=request.path)
        return ApiError(503, "Server busy, try again shortly", retry_after=HASHING_BUSY_RETRY_S).response()
    except DatabaseUnavailable:
        log.warning("api_database_unavailable", path=request.path)
        return ApiError(503, "Database unavailable, try again shortly", retry_after=5).response()
    except web.HTTPException as exc:
        # Unknown routes and wrong methods under /api/ answer in JSON like the rest;
        # other paths (the static web client) keep aiohttp's own pages.
        if not request.path.startswith("/api/") or exc.status < 400:
            raise
        response = json_response(ErrorBody(exc.reason), exc.status)
        if "Allow" in exc.headers:
            response.headers["Allow"] = exc.headers["Allow"]
        return response
    except Exception:
        if not request.path.startswith("/api/"):
            raise
        log.exception("api_unexpected_error", path=request.path, method=request.method)
        return json_response(ErrorBody("Internal server error"), 500)


# --- the account endpoints ---------------------------------------------------------


def _user_view(user: UserRecord) -> UserView:
    return UserView(id=user.user_id, username=user.username, mmr=user.mmr)


class AccountEndpoints:
    """The /api/auth/* and /api/health handlers and the limits they keep."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        tokens: TokenIssuer,
        hasher: PasswordHasher,
        *,
        clock: Clock = time.monotonic,
    ) -> None:
        self._settings = settings
        self._db = db
        self._tokens = tokens
        self._hasher = hasher
        self._clock = clock
        per_minute = settings.api_rate_per_min
        # One budget per endpoint: a player typing a name into the sign-up form runs
        # check-username often, which must not use up their register attempt.
        self._rate_limits: dict[str, KeyedRateLimiter] | None = (
            {
                name: KeyedRateLimiter.per_minute(per_minute, clock=clock)
                for name in ("check-username", "login", "register")
            }
            if per_minute > 0
            else None
        )
        self._throttle: LoginThrottle | None = None
        if settings.login_max_failures > 0:
            self._throttle = LoginThrottle(
                pair_free_failures=settings.login_max_failures,
                address_free_failures=max(settings.login_max_failures, settings.login_address_max_failures),
                account_slowdown_after=max(1, settings.login_account_slowdown_after),
                first_backoff_s=settings.login_backoff_seconds,
                clock=clock,
            )
        self._credentials = msgspec.json.Decoder(Credentials)
        self._username_query = msgspec.json.Decoder(UsernameQuery)
        self._password_change = msgspec.json.Decoder(PasswordChange)

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post("/api/auth/register", self.register)
        app.router.add_post("/api/auth/login", self.login)
        app.router.add_post("/api/auth/check-username", self.check_username)
        app.router.add_get("/api/auth/me", self.me)
        app.router.add_post("/api/auth/password", self.change_password)
        app.router.add_post("/api/auth/logout-all", self.logout_all)
        app.router.add_get("/api/health", self.health)

    # --- handlers ------------------------------------------------------------------

    async def register(self, request: web.Request) -> web.Response:
        self._take_budget("register", self._address(request))
        creds = decode_body(await read_body(request, self._settings.api_max_body_bytes), self._credentials)
        errors = validate_username(creds.username) + validate_password(creds.password)
        if errors:
            raise ApiError(400, "; ".join(errors))
        # A taken name costs one read, not a hash (create_user checks again, atomically).
        if await self._name_taken(creds.username):
            raise ApiError(409, "Username already taken")
        password_hash = await self._hasher.hash(creds.password)
        try:
            user = await self._db.create_user(
                creds.username, password_hash, mmr=NEW_ACCOUNT_MMR, now_ms=int(time.time() * 1000)
            )
        except UsernameTaken:
            raise ApiError(409, "Username already taken") from None
        log.info("account_registered", user_id=user.user_id, username=user.username)
        return self._signed_in(user)

    async def login(self, request: web.Request) -> web.Response:
        address = self._address(request)
        self._take_budget("login", address)
        creds = decode_body(await read_body(request, self._settings.api_max_body_bytes), self._credentials)
        # Bounded like every key of the lockout tables, whose memory is capped by count.
        account = creds.username[:MAX_LOGIN_NAME].lower()
        self._refuse_if_throttled(account, address)
        if self._throttle is not None and (delay := self._throttle.slowdown(account)) > 0:
            await asyncio.sleep(delay)  # many failures on this account, from anywhere

        user: UserRecord | None = None
        if 0 < len(creds.username) <= MAX_LOGIN_NAME and is_utf8_encodable(creds.username):
            try:
                user = await self._db.get_user_by_username(creds.username)
            except NotFound:
                pass
        if user is None:
            await self._hasher.verify_unknown_user(creds.password)
            result = VerifyResult(False, False)
        else:
            result = await self._hasher.verify(creds.password, user.password_hash)

        # Attempts sent in parallel all passed the check above before any failed;
        # asking again now refuses the rest once a wait is on, whatever their
        # password, so a parallel burst learns nothing past the limit.
        self._refuse_if_throttled(account, address)
        if user is None or not result.ok:
            self._count_failure(account, address)
            raise ApiError(401, "Invalid username or password")
        if self._throttle is not None:
            self._throttle.succeeded(account, address)
        if result.needs_rehash:
            await self._upgrade_hash(user, creds.password)
        return self._signed_in(user)

    async def check_username(self, request: web.Request) -> web.Response:
        self._take_budget("check-username", self._address(request))
        query = decode_body(await read_body(request, self._settings.api_max_body_bytes), self._username_query)
        errors = validate_username(query.username)
        if errors:
            return json_response(UsernameAvailability(available=False, errors=errors))
        try:
            await self._db.get_user_by_username(query.username)
        except NotFound:
            return json_response(UsernameAvailability(available=True, errors=[]))
        return json_response(UsernameAvailability(available=False, errors=["Username already taken"]))

    async def me(self, request: web.Request) -> web.Response:
        return json_response(_user_view(await self._authenticated_user(request)))

    async def change_password(self, request: web.Request) -> web.Response:
        """Check the current password (throttled like a login), store the new one and
        end every earlier token; the answer carries a fresh token for this client."""
        user = await self._authenticated_user(request)
        change = decode_body(await read_body(request, self._settings.api_max_body_bytes), self._password_change)
        errors = validate_password(change.new_password)
        if errors:
            raise ApiError(400, "; ".join(errors))
        address, account = self._address(request), user.username.lower()
        self._refuse_if_throttled(account, address)
        result = await self._hasher.verify(change.current_password, user.password_hash)
        if not result.ok:
            self._count_failure(account, address)
            raise ApiError(403, "Current password is wrong")
        new_hash = await self._hasher.hash(change.new_password)
        try:
            generation = await self._db.revoke_tokens(user, password_hash=new_hash)
        except NotFound:
            raise ApiError(409, "The account changed meanwhile; try again") from None
        log.info("password_changed", user_id=user.user_id, token_generation=generation)
        return self._signed_in(msgspec.structs.replace(user, password_hash=new_hash, token_generation=generation))

    async def logout_all(self, request: web.Request) -> web.Response:
        """End every token of the account, this request's included."""
        user = await self._authenticated_user(request)
        try:
            generation = await self._db.revoke_tokens(user)
        except NotFound:
            raise ApiError(409, "The account changed meanwhile; try again") from None
        log.info("tokens_revoked", user_id=user.user_id, token_generation=generation)
        return web.Response(status=204)

    async def health(self, request: web.Request) -> web.Response:
        database = self._db.health()
        if database.state != "ok":  # the embedded endpoint is being replaced: no need to ask
            return json_response(Unhealthy("Database unavailable", database), 503)
        try:
            async with asyncio.timeout(self._settings.api_health_timeout_seconds):
                await self._db.ping()
        except (DatabaseError, TimeoutError):
            unavailable = msgspec.structs.replace(database, state="unavailable")
            return json_response(Unhealthy("Database unavailable", unavailable), 503)
        return json_response(HealthStatus("ok", database))

    # --- pieces ----------------------------------------------------------------------

    def _address(self, request: web.Request) -> str:
        return client_address(request, self._settings.trust_forwarded_for)

    def _take_budget(self, endpoint: str, address: str) -> None:
        if self._rate_limits is not None:
            spend_budget(self._rate_limits[endpoint], address)

    async def _authenticated_user(self, request: web.Request) -> UserRecord:
        return await signed_in_user(request, self._tokens, self._db)

    async def _name_taken(self, username: str) -> bool:
        try:
            await self._db.get_user_by_username(username)
        except NotFound:
            return False
        return True

    def _refuse_if_throttled(self, account: str, address: str) -> None:
        if self._throttle is None:
            return
        wait = self._throttle.wait_before(account, address)
        if wait > 0:
            raise ApiError(429, "Too many failed logins, try again later", retry_after=wait)

    def _count_failure(self, account: str, address: str) -> None:
        if self._throttle is None:
            return
        pair_wait, address_wait = self._throttle.failed(account, address)
        if pair_wait or address_wait:
            log.warning("login_throttled", username=account, address=address, pair_s=pair_wait, address_s=address_wait)

    async def _upgrade_hash(self, user: UserRecord, password: str) -> None:
        """Store a current argon2id hash. A failure only delays the upgrade to the next
        login; the player is signed in either way."""
        try:
            new_hash = await self._hasher.hash(password)
            await self._db.update_password_hash(user.user_id, user.username, new_hash)
        except HashingBusy:
            return  # the next login upgrades it
        except DatabaseError as exc:
            log.warning("password_rehash_failed", user_id=user.user_id, error=repr(exc))
            return
        log.info("password_rehashed", user_id=user.user_id, previous=user.password_hash[:4])

    def _signed_in(self, user: UserRecord) -> web.Response:
        token = self._tokens.issue(user.user_id, user.username, generation=user.token_generation)
        return json_response(AuthResponse(token=token, user=_user_view(user)))


# --- app and server ----------------------------------------------------------------


def create_api_app(
    settings: Settings,
    db: Database,
    tokens: TokenIssuer,
    hasher: PasswordHasher,
    *,
    clock: Clock = time.monotonic,
) -> web.Application:
    """The account API app. Add further routes to it; do not add a catch-all `/`
    before these. `clock` drives rate limits and lockouts (tests inject one)."""
    app = web.Application(middlewares=[cors_middleware, error_middleware])
    app[SETTINGS_KEY] = settings
    app[DB_KEY] = db
    app[TOKENS_KEY] = tokens
    app[HASHER_KEY] = hasher
    AccountEndpoints(settings, db, tokens, hasher, clock=clock).add_routes(app)
    from snaketron.replays.api import add_replay_routes  # here: it imports this module's helpers

    add_replay_routes(app, settings, db, tokens, clock=clock)
    from snaketron.leaderboard.routes import add_leaderboard_routes  # imports this module

    add_leaderboard_routes(app, clock=clock)
    return app


class ConnectionCap:
    """At most `per_address` open HTTP connections per socket peer address (its
    `address_key`: 127.0.0.2 and 127.0.0.3 are two addresses); more are closed as
    they open.

    aiohttp has no hook for this, but its Server is told of every connection opening
    and closing (`connection_made` / `connection_lost`); those two are wrapped on the
    runner's Server instance."""

    def __init__(self, server: Any, per_address: int) -> None:
        self.per_address = per_address
        self.refused = 0
        self._open: collections.Counter[str] = collections.Counter()
        self._counted: dict[Any, str] = {}
        self._made, self._lost = server.connection_made, server.connection_lost
        server.connection_made, server.connection_lost = self._connection_made, self._connection_lost

    def _connection_made(self, handler: Any, transport: asyncio.Transport) -> None:
        self._made(handler, transport)
        peer = transport.get_extra_info("peername")
        address = address_key(str(peer[0]) if peer else None)
        if self._open[address] >= self.per_address:
            self.refused += 1
            transport.abort()
            return
        self._open[address] += 1
        self._counted[handler] = address

    def _connection_lost(self, handler: Any, exc: BaseException | None = None) -> None:
        address = self._counted.pop(handler, None)
        if address is not None:
            self._open[address] -= 1
            if self._open[address] <= 0:
                del self._open[address]
        self._lost(handler, exc)


async def start_api(
    app: web.Application, bind_address: str, port: int, settings: Settings | None = None
) -> tuple[web.AppRunner, int]:
    """Serve `app` on host:port (0 picks a free port); returns the runner (call
    `await runner.cleanup()` to stop) and the bound port.

    aiohttp's keep-alive timer runs from a connection's opening and from each answer
    until a complete request head has arrived, so `http_idle_timeout_seconds` bounds
    both a slow request head and an idle keep-alive connection."""
    settings = settings or app[SETTINGS_KEY]
    runner = web.AppRunner(
        app,
        access_log=None,
        keepalive_timeout=settings.http_idle_timeout_seconds,
        # After an early answer (413, 408) aiohttp reads what is left of the body so
        # the client sees the answer; 10 s of that by default is 10 s a slow sender holds.
        lingering_time=LINGERING_S,
    )
    await runner.setup()
    # Behind a trusted proxy every connection comes from the proxy: it limits them.
    if settings.max_http_conn_per_ip > 0 and not settings.trust_forwarded_for:
        ConnectionCap(runner.server, settings.max_http_conn_per_ip)  # kept alive by the server it wraps
    site = web.TCPSite(runner, bind_address, port)
    await site.start()
    bound_port = runner.addresses[0][1]
    log.info("api_listening", bind_address=bind_address, port=bound_port)
    return runner, bound_port
