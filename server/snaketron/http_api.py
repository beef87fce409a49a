"""The HTTP account API: register, login, check-username, me, health (PROTOCOL.md).

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
- `login_max_failures` failed logins lock the account (its name, any letter case) and
  the client address for `login_lockout_seconds`.

The client address is the socket peer (`request.remote`). Behind a reverse proxy every
request would share the proxy's address; an operator then sets
SNAKETRON_TRUST_FORWARDED_FOR so the last X-Forwarded-For entry (the one the proxy
appended) is used instead. It must stay off when clients can reach the server directly,
or they could pick any address they like.
"""

from __future__ import annotations

import asyncio
import ipaddress
import math
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import msgspec
from aiohttp import web

from snaketron.auth import (
    InvalidToken,
    PasswordHasher,
    TokenIssuer,
    VerifyResult,
    is_utf8_encodable,
    validate_password,
    validate_username,
)
from snaketron.config import Settings
from snaketron.db.errors import DatabaseError, DatabaseUnavailable, NotFound, UsernameTaken
from snaketron.db.interface import Database
from snaketron.db.models import DatabaseHealth, UserRecord
from snaketron.logs import get_logger
from snaketron.ratelimit import Clock, FailureLockout, KeyedRateLimiter

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


# --- request helpers ----------------------------------------------------------------


def client_address(request: web.Request, trust_forwarded_for: bool = False) -> str:
    """The key rate limits and lockouts count against.

    IPv4-mapped IPv6 addresses count as their IPv4 address, and IPv6 addresses by their
    /64 network: one subscriber usually holds a whole /64, so counting single addresses
    would hand them 2**64 budgets.
    """
    addr = _parse_ip(request.remote)
    if trust_forwarded_for:
        forwarded = request.headers.get("X-Forwarded-For", "")
        addr = _parse_ip(forwarded.rsplit(",", 1)[-1].strip()) or addr
    if addr is None:
        # Not an IP (a Unix socket, say): one shared key, never the raw text, which
        # could be long or chosen by the client.
        return "unknown"
    if isinstance(addr, ipaddress.IPv6Address):
        if addr.ipv4_mapped is not None:
            return str(addr.ipv4_mapped)
        return str(ipaddress.IPv6Network((addr, 64), strict=False))
    return str(addr)


def _parse_ip(text: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address((text or "").split("%", 1)[0])
    except ValueError:
        return None


async def read_body(request: web.Request, limit: int) -> bytes:
    """The request body, refusing (413) more than `limit` bytes without reading them all."""
    if request.content_length is not None and request.content_length > limit:
        raise ApiError(413, f"Request body larger than {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = await request.content.read(limit + 1 - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            raise ApiError(413, f"Request body larger than {limit} bytes")
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


# --- middlewares --------------------------------------------------------------------

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_CORS_HEADERS = {
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
                **_CORS_HEADERS,
                "Access-Control-Allow-Methods": request.headers["Access-Control-Request-Method"],
                "Access-Control-Allow-Headers": request.headers.get("Access-Control-Request-Headers", "*") or "*",
                "Access-Control-Max-Age": "86400",
            },
        )
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        exc.headers.update(_CORS_HEADERS)
        raise
    if not response.prepared:
        response.headers.update(_CORS_HEADERS)
    return response


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn failures into `{"error": ...}` answers with the right status."""
    try:
        return await handler(request)
    except ApiError as exc:
        return exc.response()
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
        self._lockouts: tuple[FailureLockout, FailureLockout] | None = None
        if settings.login_max_failures > 0:
            self._lockouts = (
                FailureLockout(settings.login_max_failures, settings.login_lockout_seconds, clock=clock),
                FailureLockout(settings.login_max_failures, settings.login_lockout_seconds, clock=clock),
            )
        self._credentials = msgspec.json.Decoder(Credentials)
        self._username_query = msgspec.json.Decoder(UsernameQuery)

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post("/api/auth/register", self.register)
        app.router.add_post("/api/auth/login", self.login)
        app.router.add_post("/api/auth/check-username", self.check_username)
        app.router.add_get("/api/auth/me", self.me)
        app.router.add_get("/api/health", self.health)

    # --- handlers ------------------------------------------------------------------

    async def register(self, request: web.Request) -> web.Response:
        self._take_budget("register", self._address(request))
        creds = decode_body(await read_body(request, self._settings.api_max_body_bytes), self._credentials)
        errors = validate_username(creds.username) + validate_password(creds.password)
        if errors:
            raise ApiError(400, "; ".join(errors))
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
        self._refuse_if_locked(account, address)

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
        # asking again now refuses the rest once the lock is on, whatever their
        # password, so a parallel burst learns nothing past the limit.
        self._refuse_if_locked(account, address)
        if user is None or not result.ok:
            self._count_failure(account, address)
            raise ApiError(401, "Invalid username or password")
        if self._lockouts is not None:
            self._lockouts[0].clear(account)
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
        try:
            claims = self._tokens.verify(bearer_token(request))
        except InvalidToken as exc:
            raise ApiError(401, f"Invalid token: {exc.reason}") from None
        try:
            user = await self._db.get_user(claims.user_id)
        except NotFound:
            raise ApiError(404, "User not found") from None
        return json_response(_user_view(user))

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
        if self._rate_limits is None:
            return
        limiter = self._rate_limits[endpoint]
        if not limiter.try_take(address):
            raise ApiError(429, "Too many requests, try again later", retry_after=limiter.retry_after(address))

    def _refuse_if_locked(self, account: str, address: str) -> None:
        if self._lockouts is None:
            return
        accounts, addresses = self._lockouts
        wait = max(accounts.locked_for(account), addresses.locked_for(address))
        if wait > 0:
            raise ApiError(429, "Too many failed logins, try again later", retry_after=wait)

    def _count_failure(self, account: str, address: str) -> None:
        if self._lockouts is None:
            return
        accounts, addresses = self._lockouts
        if accounts.record_failure(account):
            log.warning("login_locked", scope="account", username=account, address=address)
        if addresses.record_failure(address):
            log.warning("login_locked", scope="address", address=address)

    async def _upgrade_hash(self, user: UserRecord, password: str) -> None:
        """Store a current argon2id hash. A failure only delays the upgrade to the next
        login; the player is signed in either way."""
        try:
            new_hash = await self._hasher.hash(password)
            await self._db.update_password_hash(user.user_id, user.username, new_hash)
        except DatabaseError as exc:
            log.warning("password_rehash_failed", user_id=user.user_id, error=repr(exc))
            return
        log.info("password_rehashed", user_id=user.user_id, previous=user.password_hash[:4])

    def _signed_in(self, user: UserRecord) -> web.Response:
        token = self._tokens.issue(user.user_id, user.username)
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
    return app


async def start_api(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, int]:
    """Serve `app` on host:port (0 picks a free port); returns the runner (call
    `await runner.cleanup()` to stop) and the bound port."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound_port = runner.addresses[0][1]
    log.info("api_listening", host=host, port=bound_port)
    return runner, bound_port
