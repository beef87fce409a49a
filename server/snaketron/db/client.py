"""One long-lived DynamoDB client per process, with the retry policy and error mapping.

`DynamoClient.call("put_item", **params)` is the only way the data layer talks to
DynamoDB. The hot item operations (`lean.LEAN_OPERATIONS`: get/put/update/delete,
query, batch and transact) go through the lean data plane (`lean.LeanTransport`:
msgspec JSON, botocore's SigV4 signer, aiohttp; about half the SDK's CPU per
request); everything else (tables, describe, scans in tools), and every request
when SNAKETRON_DB_LEAN is off, goes through one aiobotocore client. Both follow
one configuration: the connection pool sized by SNAKETRON_DB_MAX_POOL, explicit
connect/read timeouts, the SDK client's endpoint, region and credentials, and no
retries of their own, so that `RetryPolicy` is the only one. `call` retries
transient failures and turns every failure into a `snaketron.db.errors` type
(`map_sdk_error`, the one place that knows botocore's exception shapes: the lean
path raises the SDK's exceptions).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiobotocore.config import AioConfig
from aiobotocore.session import AioSession, get_session
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    HTTPClientError,
    NoCredentialsError,
    NoRegionError,
    ParamValidationError,
    PartialCredentialsError,
)
from botocore.exceptions import (
    ConnectionError as BotoConnectionError,
)

from snaketron.config import Settings
from snaketron.db.errors import (
    Conflict,
    DatabaseError,
    DatabaseUnavailable,
    InvalidRequest,
    TableNotFound,
    TransactionCancelled,
)
from snaketron.db.lean import LEAN_OPERATIONS, LeanTransport, serves
from snaketron.db.retry import RetryPolicy
from snaketron.histograms import DB_LATENCY_BOUNDS_S, BucketCounts
from snaketron.logs import get_logger

log = get_logger("snaketron.db.client")

THROTTLING_CODES = frozenset({"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"})
# Transient server-side conditions worth another attempt.
TRANSIENT_CODES = frozenset(
    {
        "InternalServerError",
        "InternalFailure",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "TransactionInProgressException",
        "LimitExceededException",  # control plane: too many CreateTable/UpdateTable at once
    }
)
# Cancellation reasons of a transaction that a retry can cure.
TRANSIENT_CANCEL_REASONS = frozenset(
    {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded", "InternalServerError"}
)
VALIDATION_CODES = frozenset({"ValidationException", "SerializationException", "InvalidParameterValueException"})
AUTH_CODES = frozenset(
    {
        "UnrecognizedClientException",
        "AccessDeniedException",
        "InvalidSignatureException",
        "MissingAuthenticationTokenException",
        "ExpiredTokenException",
        "IncompleteSignature",
    }
)


class TransientError(Exception):
    """Internal marker: the failure is worth a retry. Never leaves this module."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind  # "throttled", "server", "connection"
        self.detail = detail


def map_sdk_error(exc: BaseException, operation: str) -> DatabaseError | TransientError:
    """Classify one SDK failure: a TransientError (retry it) or the domain error to raise."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = error.get("Code", "")
        message = error.get("Message", "") or str(exc)
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0
        if code in THROTTLING_CODES:
            return TransientError("throttled", f"{operation}: {code}")
        if code == "ConditionalCheckFailedException":
            return Conflict(f"{operation}: condition failed")
        if code == "TransactionCanceledException":
            reasons = tuple(
                (r.get("Code") if r.get("Code") not in (None, "None") else None)
                for r in exc.response.get("CancellationReasons", [])
            )
            present = {r for r in reasons if r}
            if present and present <= TRANSIENT_CANCEL_REASONS:
                return TransientError("throttled" if "Throttl" in str(present) else "server", f"{operation}: {present}")
            # Some endpoints only put the reasons into the message.
            if (
                not reasons
                and "ConditionalCheckFailed" not in message
                and any(r in message for r in TRANSIENT_CANCEL_REASONS)
            ):
                return TransientError("server", f"{operation}: {message}")
            return TransactionCancelled(f"{operation}: {message}", reasons)
        if code == "ResourceInUseException":
            return Conflict(f"{operation}: {message}")
        if code == "ResourceNotFoundException":
            return TableNotFound(f"{operation}: {message}")
        if code in VALIDATION_CODES:
            return InvalidRequest(f"{operation}: {message}")
        if code in AUTH_CODES:
            return DatabaseUnavailable(f"{operation}: credentials rejected ({code})")
        if code in TRANSIENT_CODES or status >= 500:
            return TransientError("server", f"{operation}: {code or status}")
        if code == "ItemCollectionSizeLimitExceededException":
            return InvalidRequest(f"{operation}: {message}")
        return DatabaseError(f"{operation}: {code or status}: {message}")
    if isinstance(exc, ParamValidationError):
        return InvalidRequest(f"{operation}: {exc}")
    if isinstance(exc, (NoCredentialsError, PartialCredentialsError, NoRegionError)):
        return DatabaseUnavailable(f"{operation}: {exc}")
    if isinstance(exc, (BotoConnectionError, HTTPClientError, aiohttp.ClientError, OSError, TimeoutError)):
        return TransientError("connection", f"{operation}: {type(exc).__name__}: {exc}")
    if isinstance(exc, BotoCoreError):
        # e.g. a response the parser could not read (a proxy cut it short)
        return TransientError("connection", f"{operation}: {type(exc).__name__}: {exc}")
    return DatabaseError(f"{operation}: unexpected {type(exc).__name__}: {exc}")


@dataclass
class DbMetrics:
    """Counters of one client; read them for health pages, logs and tests."""

    requests: Counter[str] = field(default_factory=Counter)  # per operation, every attempt
    retries: int = 0
    throttled: int = 0
    server_errors: int = 0
    connection_errors: int = 0
    gave_up: int = 0
    # The same by operation: retries, failures by kind (throttled, server, connection,
    # gave_up, or the domain error raised), and each attempt's latency.
    retries_by_operation: Counter[str] = field(default_factory=Counter)
    failures: Counter[tuple[str, str]] = field(default_factory=Counter)  # (operation, kind)
    latency: dict[str, BucketCounts] = field(default_factory=dict)

    def observe_latency(self, operation: str, seconds: float) -> None:
        buckets = self.latency.get(operation)
        if buckets is None:
            buckets = self.latency[operation] = BucketCounts(DB_LATENCY_BOUNDS_S)
        buckets.observe(seconds)

    def snapshot(self) -> dict[str, Any]:
        return {
            "requests": dict(self.requests),
            "retries": self.retries,
            "throttled": self.throttled,
            "server_errors": self.server_errors,
            "connection_errors": self.connection_errors,
            "gave_up": self.gave_up,
        }


# One botocore session per process: it caches the loaded service model, so a new
# client (tests open one per test) costs milliseconds, not a JSON parse.
_SESSION: AioSession | None = None


def _session() -> AioSession:
    global _SESSION
    if _SESSION is None:
        _SESSION = get_session()
    return _SESSION


class DynamoClient:
    """The process's DynamoDB connection. Use as `async with DynamoClient(...) as client`."""

    def __init__(self, settings: Settings, endpoint_url: str | None = None) -> None:
        self.settings = settings
        self.endpoint_url = endpoint_url if endpoint_url is not None else settings.effective_dynamodb_endpoint
        self.policy = RetryPolicy.from_settings(settings)
        self.metrics = DbMetrics()
        self._stack = contextlib.AsyncExitStack()
        self._client: Any = None
        self._lean: LeanTransport | None = None

    @property
    def lean(self) -> bool:
        """True while the hot operations go through the lean data plane."""
        return self._lean is not None

    async def __aenter__(self) -> DynamoClient:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def start(self) -> None:
        s = self.settings
        config = AioConfig(
            connect_timeout=s.db_connect_timeout,
            read_timeout=s.db_read_timeout,
            max_pool_connections=s.db_max_pool,
            # The data layer builds every request itself (and its tests hold it to the
            # shapes); botocore's client-side check of each request was ~2% of the game
            # server's CPU under load. A malformed request still fails, at DynamoDB, as
            # a ValidationException -> InvalidRequest.
            parameter_validation=False,
            # Ours is the only retry policy: botocore must try exactly once.
            retries={"total_max_attempts": 1, "mode": "standard"},
        )
        key, secret = s.aws_access_key_id, s.aws_secret_access_key
        if not key and self.endpoint_url:
            # The embedded endpoint and LocalStack accept any credentials.
            key, secret = "test", "test"
        self._client = await self._stack.enter_async_context(
            _session().create_client(
                "dynamodb",
                region_name=s.aws_region,
                endpoint_url=self.endpoint_url or None,
                aws_access_key_id=key or None,
                aws_secret_access_key=secret or None,
                config=config,
            )
        )
        if s.db_lean and not serves(self._client.meta.endpoint_url):
            log.info("dynamodb endpoint has a path or query: every request goes through the SDK")
        elif s.db_lean:
            lean = LeanTransport(
                connect_timeout=s.db_connect_timeout, read_timeout=s.db_read_timeout, max_pool=s.db_max_pool
            )
            ca_bundle = _session().get_config_variable("ca_bundle")
            await lean.start(self._client, ca_bundle=ca_bundle if isinstance(ca_bundle, str) else None)
            self._stack.push_async_callback(lean.close)
            self._lean = lean

    async def close(self) -> None:
        self._client = None
        self._lean = None
        await self._stack.aclose()

    async def call(self, operation: str, **params: Any) -> dict[str, Any]:
        """Send one request with the retry policy; raise only `snaketron.db.errors` types.

        `operation` is the botocore method name ("put_item", "transact_write_items", ...).
        """
        if self._client is None:
            raise DatabaseUnavailable(f"{operation}: client is closed")
        if operation == "transact_write_items" and "ClientRequestToken" not in params:
            # Makes a retried transaction idempotent: a repeat after a lost response
            # succeeds instead of failing its own conditions.
            params["ClientRequestToken"] = uuid.uuid4().hex
        lean = self._lean if operation in LEAN_OPERATIONS else None
        method: Any = None if lean is not None else getattr(self._client, operation)
        policy = self.policy
        deadline = time.monotonic() + policy.deadline_ms / 1000.0
        attempt = 0
        while True:
            attempt += 1
            self.metrics.requests[operation] += 1
            sent = time.monotonic()
            remaining = deadline - sent
            try:
                async with asyncio.timeout(max(remaining, 0.001)):
                    if lean is not None:
                        return await lean.send(operation, params)
                    response: dict[str, Any] = await method(**params)
                    return response
            except Exception as exc:  # every SDK failure is mapped below
                outcome = map_sdk_error(exc, operation)
            finally:
                self.metrics.observe_latency(operation, time.monotonic() - sent)
            if not isinstance(outcome, TransientError):
                self.metrics.failures[operation, type(outcome).__name__] += 1
                raise outcome
            self._count(outcome, operation)
            delay = policy.delay_s(attempt)
            if attempt >= policy.attempts or time.monotonic() + delay >= deadline:
                self.metrics.gave_up += 1
                self.metrics.failures[operation, "gave_up"] += 1
                log.warning("dynamodb gave up", operation=operation, attempts=attempt, cause=outcome.detail)
                raise DatabaseUnavailable(f"{outcome.detail} (gave up after {attempt} attempts)")
            self.metrics.retries += 1
            self.metrics.retries_by_operation[operation] += 1
            # Routine (throttling, a dropped connection): at info level a throttled table or
            # an unreachable endpoint floods the log; giving up is the warning that matters.
            log.debug(
                "dynamodb retry",
                operation=operation,
                attempt=attempt,
                delay_ms=round(delay * 1000),
                cause=outcome.detail,
            )
            await asyncio.sleep(delay)

    def _count(self, outcome: TransientError, operation: str) -> None:
        self.metrics.failures[operation, outcome.kind] += 1
        if outcome.kind == "throttled":
            self.metrics.throttled += 1
        elif outcome.kind == "server":
            self.metrics.server_errors += 1
        else:
            self.metrics.connection_errors += 1
