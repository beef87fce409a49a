"""Password hashing, player tokens, and the rules for usernames and passwords.

Passwords: new hashes are argon2id (memory-hard). Accounts carried over from earlier
SnakeTron deployments hold bcrypt hashes (`$2a$`/`$2b$`/`$2y$`); they still verify and
are reported as needing a rehash, so a successful login upgrades them. Hashing costs
tens of milliseconds of CPU, so it runs on a small thread pool of its own, never on
the event loop (argon2-cffi and bcrypt release the GIL while they work).

Tokens: JWT HS256 with claims `sub` (user id as a string), `username`, `gen` (the
user's token generation when it was issued), `iat`, `exp`. Verification pins the
algorithm, so `alg: none` and algorithm-confusion tokens fail. A token whose `gen` is
older than the user item's (a password change, a logout everywhere) is refused where
the user item is read anyway (WebSocket authentication, /api/auth/*), so revocation
costs no extra read.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, NamedTuple

import argon2
import bcrypt
import jwt
import msgspec

from snaketron.logs import get_logger

if TYPE_CHECKING:
    from snaketron.config import Settings

log = get_logger(__name__)

USERNAME_MIN = 3
USERNAME_MAX = 20
PASSWORD_MIN = 6

_USERNAME_CHARS = re.compile(r"[A-Za-z0-9_-]*")
_BCRYPT_PREFIXES = ("$2a$", "$2b$", "$2y$")
# bcrypt only ever looked at the first 72 bytes; the earlier deployments hashed with
# that truncation, so verification must truncate the same way to accept those users.
_BCRYPT_MAX_BYTES = 72


# --- usernames and passwords ------------------------------------------------------


def validate_username(name: str) -> list[str]:
    """Everything wrong with `name` as a new username (empty when it is acceptable).

    Letters are ASCII only: the name is compared case-insensitively and shown to other
    players, and look-alike letters from other scripts would allow impersonation.
    """
    errors = []
    if len(name) < USERNAME_MIN:
        errors.append(f"Username must be at least {USERNAME_MIN} characters")
    if len(name) > USERNAME_MAX:
        errors.append(f"Username must be at most {USERNAME_MAX} characters")
    if not _USERNAME_CHARS.fullmatch(name):
        errors.append("Username may contain only letters, digits, _ and -")
    if name[:1] in ("_", "-") or name[-1:] in ("_", "-"):
        errors.append("Username must not start or end with _ or -")
    return errors


def validate_password(password: str) -> list[str]:
    """Everything wrong with `password` for a new account (empty when acceptable).

    Only characters that show count: six spaces or six NULs are no password at all."""
    errors = []
    if sum(1 for c in password if c.isprintable() and not c.isspace()) < PASSWORD_MIN:
        errors.append(f"Password must be at least {PASSWORD_MIN} characters, not counting spaces")
    if not is_utf8_encodable(password):
        errors.append("Password must be valid Unicode text")
    return errors


def is_utf8_encodable(text: str) -> bool:
    """False for text holding lone surrogates: JSON can carry them ("\\ud800"), but
    they have no UTF-8 form, so hashing or storing such text would fail."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# --- password hashing -------------------------------------------------------------


class VerifyResult(NamedTuple):
    ok: bool
    needs_rehash: bool  # verified, but stored with bcrypt or other argon2 costs


class HashingBusy(Exception):
    """Every admitted hash slot is taken: refuse now (503) instead of queueing forever."""


class PasswordHasher:
    """argon2id for new hashes; verifies argon2 and legacy bcrypt hashes.

    Admission control: at most `max_in_flight` hashes run or wait at once; beyond it
    `HashingBusy` is raised at once, so a flood of logins gets quick refusals instead
    of making every player's login wait behind it. Verifications for names that do
    not exist (pure cost, no player behind them) may take only half the slots, so a
    flood of made-up names cannot refuse real players.
    """

    def __init__(
        self,
        *,
        time_cost: int = 2,
        memory_kib: int = 19_456,
        parallelism: int = 1,
        max_threads: int | None = None,
        max_in_flight: int = 32,
    ) -> None:
        if max_in_flight < 2:
            raise ValueError("max_in_flight must be at least 2")
        self.max_in_flight = max_in_flight
        self.in_flight = 0
        self._unknown_in_flight = 0
        self._argon2 = argon2.PasswordHasher(
            time_cost=time_cost,
            memory_cost=memory_kib,
            parallelism=parallelism,
            type=argon2.Type.ID,
        )
        # A pool of its own: hashing bursts must not starve the loop's default
        # executor (DNS lookups and other short blocking calls use it). One thread
        # per core is all the CPU there is to give.
        self._max_threads = max_threads or os.cpu_count() or 2
        self._executor: ThreadPoolExecutor | None = None
        self._dummy_hash: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> PasswordHasher:
        return cls(
            time_cost=settings.argon2_time_cost,
            memory_kib=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
            max_in_flight=settings.hash_max_in_flight,
        )

    # Blocking forms, for scripts and the thread pool.

    def hash_sync(self, password: str) -> str:
        return self._argon2.hash(password)

    def verify_sync(self, password: str, stored: str) -> VerifyResult:
        if not is_utf8_encodable(password):
            return VerifyResult(False, False)
        if stored.startswith(_BCRYPT_PREFIXES):
            try:
                ok = bcrypt.checkpw(password.encode("utf-8")[:_BCRYPT_MAX_BYTES], stored.encode("ascii"))
            except ValueError:  # a malformed stored hash
                log.warning("password_hash_unreadable", kind="bcrypt")
                return VerifyResult(False, False)
            return VerifyResult(ok, ok)
        if stored.startswith("$argon2"):
            try:
                self._argon2.verify(stored, password)
            except argon2.exceptions.VerifyMismatchError:
                return VerifyResult(False, False)
            except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
                log.warning("password_hash_unreadable", kind="argon2")
                return VerifyResult(False, False)
            return VerifyResult(True, self._argon2.check_needs_rehash(stored))
        log.warning("password_hash_unreadable", kind="unknown")
        return VerifyResult(False, False)

    # Async forms, for the server: the work happens on the hashing threads.

    async def hash(self, password: str) -> str:
        return await self._run(self.hash_sync, password)

    async def verify(self, password: str, stored: str) -> VerifyResult:
        return await self._run(self.verify_sync, password, stored)

    async def verify_unknown_user(self, password: str) -> None:
        """Spend the time a real verification would, so a login for a name that does
        not exist takes as long as one with a wrong password (no name probing)."""
        if self._unknown_in_flight >= self.max_in_flight // 2:
            raise HashingBusy()
        self._unknown_in_flight += 1
        try:
            if self._dummy_hash is None:
                self._dummy_hash = await self.hash("snaketron-no-such-user")
            await self.verify(password, self._dummy_hash)
        finally:
            self._unknown_in_flight -= 1

    async def _run(self, fn, *args):
        if self.in_flight >= self.max_in_flight:
            raise HashingBusy()
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self._max_threads, thread_name_prefix="password-hash")
        self.in_flight += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)
        finally:
            self.in_flight -= 1

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None


# --- tokens -----------------------------------------------------------------------

ALGORITHM = "HS256"
# Servers of one cluster verify each other's tokens; a few seconds of clock skew
# between them must not refuse a token issued "in the future".
CLOCK_SKEW_SECONDS = 10
# A real token is ~200 bytes; refusing giants early bounds the work per attempt.
MAX_TOKEN_CHARS = 4096
_USER_ID = re.compile(r"[0-9]{1,18}")
# RFC 7518 asks for >= 32-byte HMAC keys and PyJWT warns on every call below that.
# Outside development mode the server refuses to start with a shorter one
# (Settings.check_startup); the published development secrets are short on purpose.
warnings.filterwarnings("ignore", category=jwt.InsecureKeyLengthWarning)


class TokenClaims(msgspec.Struct, frozen=True):
    user_id: int
    username: str
    generation: int = 0  # tokens issued before generations existed carry none: 0


class InvalidToken(Exception):
    """The token is malformed, forged, for another algorithm, expired or revoked.

    `reason` is for the server's log only: clients are told "invalid token" and
    nothing more, so they learn nothing about the decoder or which check failed."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def check_generation(claims: TokenClaims, current_generation: int) -> None:
    """Refuse a token issued before the user's latest password change or logout-all."""
    if claims.generation < current_generation:
        raise InvalidToken("token revoked")


class TokenIssuer:
    def __init__(self, secret: str, ttl_seconds: int) -> None:
        if not secret:
            raise ValueError("a JWT secret is required")
        if ttl_seconds <= 0:
            raise ValueError("ttl_seconds must be positive")
        self._secret = secret
        self.ttl_seconds = ttl_seconds

    @classmethod
    def from_settings(cls, settings: Settings) -> TokenIssuer:
        return cls(settings.effective_jwt_secret(), settings.jwt_ttl_seconds)

    def issue(self, user_id: int, username: str, now_s: float | None = None, *, generation: int = 0) -> str:
        iat = int(time.time() if now_s is None else now_s)
        claims = {
            "sub": str(user_id),
            "username": username,
            "gen": generation,
            "iat": iat,
            "exp": iat + self.ttl_seconds,
        }
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def verify(self, token: str) -> TokenClaims:
        """The claims of a valid token; raise InvalidToken(reason) otherwise."""
        # A JWT is base64url and dots: anything else is refused before PyJWT sees it.
        if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_CHARS or not token.isascii():
            raise InvalidToken("malformed token")
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                leeway=CLOCK_SKEW_SECONDS,
                options={"require": ["sub", "username", "iat", "exp"]},
            )
        except jwt.ExpiredSignatureError:
            raise InvalidToken("token expired") from None
        except jwt.InvalidSignatureError:
            raise InvalidToken("bad signature") from None
        except jwt.InvalidAlgorithmError:
            raise InvalidToken("algorithm not allowed") from None
        except jwt.InvalidTokenError as exc:
            raise InvalidToken(f"undecodable: {type(exc).__name__}") from None
        sub, username, generation = claims["sub"], claims["username"], claims.get("gen", 0)
        if not isinstance(sub, str) or not _USER_ID.fullmatch(sub):
            raise InvalidToken("sub is not a user id")
        if not isinstance(username, str):
            raise InvalidToken("username is not a string")
        if type(generation) is not int or generation < 0:
            raise InvalidToken("gen is not a generation")
        return TokenClaims(user_id=int(sub), username=username, generation=generation)
