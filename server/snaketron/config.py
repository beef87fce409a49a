"""Every setting of the server in one place: its environment variable, default and meaning.

`Settings.from_env()` is the only place that reads the environment. Each field is
declared once with `setting(...)`; the README's configuration table is generated
from these declarations (`snaketron config --markdown`), so the two cannot drift.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
from collections.abc import Mapping
from typing import Any

# The well-known development secrets: published in this repository, so anyone can
# sign tokens and relay handshakes with them. Only development mode uses them.
DEV_JWT_SECRET = "snaketron-development-only-secret-change-me"
DEV_CLUSTER_SECRET = "snaketron-dev-cluster-secret"
# RFC 7518 asks for HMAC keys at least as long as the hash (32 bytes for HS256); a
# shorter secret is recovered offline from a single issued token.
MIN_SECRET_BYTES = 32
# Rating writes in flight when SNAKETRON_DB_RESULT_WRITES is 0 (Settings.result_writes_in_flight).
EMBEDDED_RESULT_WRITES = 4
REMOTE_RESULT_WRITES = 32
_DEV_MODE_VALUES = {"auto": "auto", "1": "on", "true": "on", "yes": "on", "on": "on"} | {
    v: "off" for v in ("0", "false", "no", "off")
}


class ConfigError(ValueError):
    """Settings the server must not start with; the message is one line that names the
    settings to change (the CLI prints it and exits 2)."""


def setting(env: str, default: Any, doc: str) -> Any:
    """Declare a setting: the env var that sets it, its default, and what it means."""
    return dataclasses.field(default=default, metadata={"env": env, "doc": doc})


def _parse(raw: str, kind: type) -> Any:
    if kind is bool:
        lowered = raw.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off", ""):
            return False
        raise ValueError("not a boolean (use 1 or 0, true or false)")
    if kind is int:
        try:
            return int(raw)
        except ValueError:
            raise ValueError("not a whole number") from None
    if kind is float:
        try:
            return float(raw)
        except ValueError:
            raise ValueError("not a number") from None
    return raw


LOG_LEVELS = ("debug", "info", "warning", "error")


@dataclasses.dataclass(frozen=True, slots=True)
class Settings:
    # --- process and network -------------------------------------------------
    bind_address: str = setting("SNAKETRON_HOST", "127.0.0.1", "Address the WebSocket and HTTP servers bind to.")
    ws_port: int = setting("SNAKETRON_WS_PORT", 8080, "WebSocket port (0 picks a free port).")
    api_port: int = setting("SNAKETRON_API_PORT", 3001, "HTTP account API port (0 picks a free port).")
    public_ws_url: str = setting(
        "SNAKETRON_PUBLIC_WS_URL",
        "",
        "WebSocket URL clients use to reach this server; derived from host and port when empty.",
    )
    public_api_url: str = setting(
        "SNAKETRON_PUBLIC_API_URL",
        "",
        "HTTP API URL clients use to reach this server; derived from host and port when empty.",
    )
    region: str = setting(
        "SNAKETRON_REGION", "local", "Region this server registers in; matchmaking and load balancing are per region."
    )
    # The raw setting (auto, on, off); `dev_mode` says whether development mode is on.
    dev_mode_setting: str = setting(
        "SNAKETRON_DEV_MODE",
        "auto",
        "Development mode (the published JWT and cluster secrets are used when none are set): 'auto' turns it on "
        "only with the embedded endpoint and a loopback bind; 1 forces it on, 0 off. Outside it the server "
        f"refuses to start without both secrets of at least {MIN_SECRET_BYTES} bytes (`snaketron secret`).",
    )
    use_uvloop: bool = setting("SNAKETRON_UVLOOP", True, "Run on uvloop when it is installed.")

    # --- logging --------------------------------------------------------------
    log_level: str = setting("SNAKETRON_LOG_LEVEL", "info", "Log level: debug, info, warning, error.")
    log_json: bool = setting(
        "SNAKETRON_LOG_JSON", False, "Log one JSON object per line instead of the readable console format."
    )
    metrics_enabled: bool = setting(
        "SNAKETRON_METRICS",
        True,
        "Serve Prometheus metrics at GET /metrics on the HTTP API port (and time every game tick for them).",
    )

    # --- security -------------------------------------------------------------
    jwt_secret: str = setting(
        "SNAKETRON_JWT_SECRET", "", "HS256 secret for player tokens. Required outside development mode."
    )
    jwt_ttl_seconds: int = setting("SNAKETRON_JWT_TTL_SECONDS", 86_400, "Token lifetime (24 h).")
    # Argon2id cost of new password hashes. Defaults are OWASP's recommendation
    # (m=19 MiB, t=2, p=1); hashes made with other costs are upgraded on next login.
    argon2_time_cost: int = setting("SNAKETRON_ARGON2_TIME_COST", 2, "Argon2id passes over memory per password hash.")
    argon2_memory_kib: int = setting(
        "SNAKETRON_ARGON2_MEMORY_KIB", 19_456, "Argon2id memory per password hash, in KiB (at least 8 x parallelism)."
    )
    argon2_parallelism: int = setting("SNAKETRON_ARGON2_PARALLELISM", 1, "Argon2id lanes per password hash.")
    cluster_secret: str = setting(
        "SNAKETRON_CLUSTER_SECRET",
        "",
        "Shared secret authenticating server-to-server relay connections. Required outside development mode.",
    )

    # --- DynamoDB -------------------------------------------------------------
    table_prefix: str = setting(
        "DYNAMODB_TABLE_PREFIX",
        "snaketron",
        "Prefix of the three table names: {prefix}-main, {prefix}-usernames, {prefix}-game-codes.",
    )
    dynamodb_endpoint: str = setting(
        "AWS_ENDPOINT_URL_DYNAMODB",
        "",
        "DynamoDB endpoint (LocalStack: http://localhost:4566). Falls back to AWS_ENDPOINT_URL. "
        "When both are empty and SNAKETRON_EMBEDDED_DB is on, an embedded in-memory endpoint is started.",
    )
    aws_endpoint: str = setting(
        "AWS_ENDPOINT_URL", "", "Generic AWS endpoint override, used when AWS_ENDPOINT_URL_DYNAMODB is empty."
    )
    aws_region: str = setting(
        "AWS_REGION", "us-east-1", "AWS region of the DynamoDB tables (AWS_DEFAULT_REGION is honoured too)."
    )
    aws_access_key_id: str = setting(
        "AWS_ACCESS_KEY_ID",
        "",
        "AWS credentials; the embedded endpoint and LocalStack accept any value ('test' is used when empty).",
    )
    aws_secret_access_key: str = setting("AWS_SECRET_ACCESS_KEY", "", "AWS credentials (see AWS_ACCESS_KEY_ID).")
    embedded_db: bool = setting(
        "SNAKETRON_EMBEDDED_DB", True, "Start the embedded in-memory DynamoDB endpoint when no endpoint is configured."
    )
    create_tables: bool = setting(
        "SNAKETRON_CREATE_TABLES", True, "Create missing tables (and enable TTL) at start-up."
    )
    db_connect_timeout: float = setting(
        "SNAKETRON_DB_CONNECT_TIMEOUT", 2.0, "Seconds to open a connection to DynamoDB."
    )
    db_read_timeout: float = setting("SNAKETRON_DB_READ_TIMEOUT", 5.0, "Seconds to wait for one DynamoDB response.")
    db_max_pool: int = setting("SNAKETRON_DB_MAX_POOL", 64, "Connection pool size of the DynamoDB client.")
    db_result_writes: int = setting(
        "SNAKETRON_DB_RESULT_WRITES",
        0,
        "Finished games' rating writes (with their boards) in flight at once; the rest wait their turn in "
        "the server (their rows do not), so that sign-ins, lobbies and matching never queue behind a wave of "
        "games that ended together. 0 (auto): 4 on the embedded endpoint, which answers one request at a "
        "time, 32 on any other (at 20 ms a write, 1,600 results a second; keep it under SNAKETRON_DB_MAX_POOL).",
    )
    db_lean: bool = setting(
        "SNAKETRON_DB_LEAN",
        True,
        "Send the hot DynamoDB item requests (get/put/update/delete, query, batch, transact) as plain signed "
        "JSON over aiohttp, about half the SDK's CPU per request; 0 sends every request through aiobotocore.",
    )
    db_retry_attempts: int = setting(
        "SNAKETRON_DB_RETRY_ATTEMPTS",
        8,
        "Attempts per DynamoDB request before giving up (throttling, 5xx, connection errors).",
    )
    db_retry_base_ms: int = setting(
        "SNAKETRON_DB_RETRY_BASE_MS", 25, "Base delay of the exponential backoff (full jitter)."
    )
    db_retry_max_ms: int = setting("SNAKETRON_DB_RETRY_MAX_MS", 2_000, "Cap of one backoff delay.")
    db_deadline_ms: int = setting(
        "SNAKETRON_DB_DEADLINE_MS", 10_000, "Deadline of one logical DynamoDB operation, retries included."
    )
    id_block_size: int = setting(
        "SNAKETRON_ID_BLOCK_SIZE",
        100,
        "Ids reserved per counter update; the hot path pays one write per block, not per id.",
    )

    # --- batch writer ---------------------------------------------------------
    batch_flush_ms: int = setting(
        "SNAKETRON_BATCH_FLUSH_MS", 50, "Longest time an item waits in the batch writer before a flush."
    )
    batch_max_in_flight: int = setting("SNAKETRON_BATCH_MAX_IN_FLIGHT", 4, "BatchWriteItem calls in flight at once.")
    batch_buffer_items: int = setting(
        "SNAKETRON_BATCH_BUFFER_ITEMS", 10_000, "Items buffered before writers wait (back-pressure)."
    )

    # --- games ------------------------------------------------------------------
    max_games: int = setting(
        "SNAKETRON_MAX_GAMES",
        2_000,
        "Games this process hosts at most (its advertised capacity): past it, new solo games and lobbies go to "
        "another server of the region with room, or are refused; a formed match is hosted here past it only "
        "when no server of the region has room. 0: no limit.",
    )
    matchmade_start_delay_ms: int = setting(
        "SNAKETRON_MATCH_START_DELAY_MS", 3_000, "Delay between forming a match and its tick 0."
    )
    lobby_ttl_seconds: int = setting(
        "SNAKETRON_LOBBY_TTL_SECONDS", 3_600, "A custom lobby expires this long after its last activity."
    )
    replay_ttl_seconds: int = setting(
        "SNAKETRON_REPLAY_TTL_SECONDS",
        2_592_000,
        "A finished game's replay can be watched for this long (30 days); then it expires.",
    )
    send_queue_limit: int = setting(
        "SNAKETRON_SEND_QUEUE_BYTES", 1_048_576, "Bytes buffered for one client before it is disconnected as too slow."
    )
    ws_compression: bool = setting(
        "SNAKETRON_WS_COMPRESSION", False, "Per-message deflate on the WebSocket (costs ~2.5x per send)."
    )

    # --- matchmaking ------------------------------------------------------------------
    matcher_enabled: bool = setting(
        "SNAKETRON_MATCHER_ENABLED",
        True,
        "Stand for the region's matcher lease (one server of a region matches at a time; the others wait as standbys).",
    )
    matcher_interval_ms: int = setting(
        "SNAKETRON_MATCHER_INTERVAL_MS", 1_000, "Time between two matching rounds of the region's matcher."
    )
    matcher_idle_interval_ms: int = setting(
        "SNAKETRON_MATCHER_IDLE_INTERVAL_MS",
        3_000,
        "Time between two rounds while nobody in the region is queued (a ticket queued on the matcher's own "
        "server wakes it at once).",
    )
    matcher_lease_ms: int = setting(
        "SNAKETRON_MATCHER_LEASE_MS",
        5_000,
        "Length of the matcher lease; a standby takes over at most about this long after the holder dies.",
    )
    match_windows: str = setting(
        "SNAKETRON_MATCH_WINDOWS",
        "0:100,5000:250,10000:500,20000:1000",
        "Rating window by waiting time, as 'waited_ms:plus_minus_mmr' steps: ±100 at first, ±250 after 5 s, ...",
    )
    match_partial_after_ms: int = setting(
        "SNAKETRON_MATCH_PARTIAL_AFTER_MS",
        10_000,
        "After this long in a FreeForAll queue, a match forms with at least 2 players instead of a full game.",
    )
    match_poll_ms: int = setting(
        "SNAKETRON_MATCH_POLL_MS",
        500,
        "How often a server with queued players reads its region's tickets (matches made elsewhere, positions).",
    )
    queue_update_ms: int = setting(
        "SNAKETRON_QUEUE_UPDATE_MS", 3_000, "Time between two QueueUpdate messages to a waiting player."
    )
    match_ticket_ttl_seconds: int = setting(
        "SNAKETRON_MATCH_TICKET_TTL_SECONDS", 3_600, "A match ticket left behind (its server died) expires after this."
    )

    # --- limits -------------------------------------------------------------------
    max_frame_bytes: int = setting(
        "SNAKETRON_MAX_FRAME_BYTES", 16_384, "Largest client frame accepted; larger ones close the socket (1009)."
    )
    msg_rate_per_sec: float = setting(
        "SNAKETRON_MSG_RATE", 40.0, "Sustained client messages per second per connection."
    )
    msg_burst: int = setting("SNAKETRON_MSG_BURST", 80, "Burst allowance of the per-connection message budget.")
    max_errors_before_close: int = setting(
        "SNAKETRON_MAX_ERRORS", 20, "Protocol errors a connection may make before it is closed with 1008."
    )
    max_connections_per_ip: int = setting(
        "SNAKETRON_MAX_CONN_PER_IP", 256, "Concurrent WebSocket connections per client address."
    )
    login_max_failures: int = setting(
        "SNAKETRON_LOGIN_MAX_FAILURES",
        5,
        "Failed logins for one account from one address before that address must wait to try it again "
        "(the wait doubles with each further failure; other addresses are unaffected). 0: no login throttling.",
    )
    login_address_max_failures: int = setting(
        "SNAKETRON_LOGIN_ADDRESS_MAX_FAILURES",
        20,
        "Failed logins from one address, over all accounts, before it must wait (doubling, like the above).",
    )
    login_account_slowdown_after: int = setting(
        "SNAKETRON_LOGIN_ACCOUNT_SLOWDOWN_AFTER",
        10,
        "Failed logins for one account from all addresses together after which every login attempt on it is "
        "delayed (0.25 s, doubling up to 2 s); a slow-down, never a refusal.",
    )
    login_backoff_seconds: int = setting(
        "SNAKETRON_LOGIN_BACKOFF_SECONDS",
        60,
        "First wait after too many failed logins; doubles with each further failure, up to 15 minutes.",
    )
    hash_max_in_flight: int = setting(
        "SNAKETRON_HASH_MAX_IN_FLIGHT",
        32,
        "Password hashes running or waiting at once; beyond it login, register and password changes get 503 "
        "with Retry-After at once (names that do not exist may use half of it).",
    )
    game_lookup_misses_per_min: int = setting(
        "SNAKETRON_GAME_LOOKUP_MISSES_PER_MIN",
        30,
        "Unknown game codes and ids one address may ask for per minute (burst as large); past it lookups are "
        "refused without a database read and the asking connection is closed.",
    )
    ws_auth_deadline_seconds: float = setting(
        "SNAKETRON_WS_AUTH_DEADLINE_SECONDS",
        10.0,
        "A WebSocket connection that has not authenticated (Token) this long after opening is closed (1008).",
    )
    http_idle_timeout_seconds: float = setting(
        "SNAKETRON_HTTP_IDLE_TIMEOUT_SECONDS",
        15.0,
        "An HTTP connection that has not sent a complete request head this long after opening (or after its last "
        "answer) is closed: slow request heads and idle keep-alive alike. A request body has as long again (408).",
    )
    max_http_conn_per_ip: int = setting(
        "SNAKETRON_MAX_HTTP_CONN_PER_IP",
        64,
        "Concurrent HTTP connections per client address (socket peer); more are closed at once. Not applied "
        "with SNAKETRON_TRUST_FORWARDED_FOR (every connection then comes from the proxy, which limits them).",
    )
    api_rate_per_min: int = setting(
        "SNAKETRON_API_RATE_PER_MIN",
        60,
        "Requests per minute per address to each of login, register and check-username (0: no limit).",
    )
    api_max_body_bytes: int = setting(
        "SNAKETRON_API_MAX_BODY_BYTES", 16_384, "Largest request body the account API reads; larger ones get 413."
    )
    api_health_timeout_seconds: float = setting(
        "SNAKETRON_API_HEALTH_TIMEOUT_SECONDS", 2.0, "GET /api/health answers 503 when the database takes longer."
    )
    trust_forwarded_for: bool = setting(
        "SNAKETRON_TRUST_FORWARDED_FOR",
        False,
        "Take the HTTP client address from the last X-Forwarded-For entry, all header lines joined (only behind "
        "one trusted proxy that appends it); otherwise the socket peer address is used for rate limits and "
        "login throttling.",
    )

    # --- leaderboards -------------------------------------------------------------
    season_months: int = setting(
        "SNAKETRON_SEASON_MONTHS",
        1,
        "Length of a leaderboard season in calendar months: 1, 2, 3, 4, 6 or 12 (seasons start in January).",
    )
    first_season: str = setting(
        "SNAKETRON_FIRST_SEASON",
        "2026-12",
        "The first season (YYYY-MM) GET /api/leaderboard/seasons lists; older boards stay readable by name.",
    )
    read_rate_per_min: int = setting(
        "SNAKETRON_READ_RATE_PER_MIN",
        120,
        "Requests per minute per address to the leaderboard and player endpoints together, and again to the "
        "game summary and replay endpoints together, to the live games list (GET /api/games, also per user) and "
        "to the server list (GET /api/servers), each a budget of its own (0: no limit).",
    )

    # --- process ----------------------------------------------------------------
    gc_freeze_seconds: float = setting(
        "SNAKETRON_GC_FREEZE_SECONDS",
        30.0,
        "Every this many seconds, objects that survived leave the garbage collector's full passes (gc.freeze), "
        "which otherwise stall the process for 100+ ms with thousands of connections; CPython's automatic full "
        "collections are off meanwhile (gc_policy.py says why). 0: leave the collector alone.",
    )
    gc_reclaim_minutes: float = setting(
        "SNAKETRON_GC_RECLAIM_MINUTES",
        60.0,
        "Frozen objects are reclaimed with one full collection whenever no game runs, and at the latest this often.",
    )

    # --- cluster ----------------------------------------------------------------
    heartbeat_seconds: float = setting(
        "SNAKETRON_HEARTBEAT_SECONDS",
        5.0,
        "Heartbeat interval; a server is live while its heartbeat is fresher than 3 intervals.",
    )
    drain_grace_seconds: int = setting(
        "SNAKETRON_DRAIN_GRACE_SECONDS", 30, "On SIGTERM, how long running games may go on before the server exits."
    )
    shutdown_flush_seconds: float = setting(
        "SNAKETRON_SHUTDOWN_FLUSH_SECONDS",
        5.0,
        "After the drain's grace period, how long the server may take to close connections, flush accepted "
        "writes and go offline; "
        "writes still unflushed then are dropped, logged with their count, and the exit status is 1. "
        "Docker's stop_grace_period must cover the grace period plus this (docker-compose.yml).",
    )
    internal_ws_url: str = setting(
        "SNAKETRON_INTERNAL_WS_URL",
        "",
        "WebSocket URL other servers of the cluster use to relay their clients' game traffic here "
        "(authenticated by SNAKETRON_CLUSTER_SECRET); derived from host and WebSocket port when empty.",
    )
    relay_answer_seconds: float = setting(
        "SNAKETRON_RELAY_ANSWER_SECONDS",
        5.0,
        "How long a server waits for another server to answer a relayed join or create before refusing it.",
    )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from the environment (or `env`), then apply keyword overrides."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            raw = env.get(f.metadata["env"])
            if raw is None and f.name == "aws_region":
                raw = env.get("AWS_DEFAULT_REGION")
            if raw is not None:
                try:
                    values[f.name] = _parse(raw, type(f.default))
                except ValueError as exc:
                    raise ConfigError(f"{f.metadata['env']}={raw!r} is {exc}") from None
        values.update(overrides)
        settings = cls(**values)
        settings._check_values()
        return settings

    def _check_values(self) -> None:
        """ConfigError for values that parse but cannot work (a port past 65535, an unknown level)."""
        for name, option in (("ws_port", "--ws-port"), ("api_port", "--api-port")):
            port = getattr(self, name)
            if not 0 <= port <= 65_535:
                raise ConfigError(f"{_env_of(name)} (or {option}) is {port}: a port is 0 to 65535 (0: any free port)")
        if self.db_result_writes < 0:
            raise ConfigError(
                f"SNAKETRON_DB_RESULT_WRITES is {self.db_result_writes}: 0 (auto) or a number of writes in flight"
            )
        if self.log_level.lower() not in LOG_LEVELS:
            raise ConfigError(f"SNAKETRON_LOG_LEVEL={self.log_level!r}: use one of {', '.join(LOG_LEVELS)}")

    def __post_init__(self) -> None:
        mode = _DEV_MODE_VALUES.get(str(self.dev_mode_setting).strip().lower())
        if mode is None:
            raise ValueError(f"SNAKETRON_DEV_MODE: expected auto, 1 or 0, not {self.dev_mode_setting!r}")
        object.__setattr__(self, "dev_mode_setting", mode)

    @property
    def effective_dynamodb_endpoint(self) -> str:
        """The configured endpoint, or '' when none is configured (embedded may start)."""
        return self.dynamodb_endpoint or self.aws_endpoint

    @property
    def uses_embedded_endpoint(self) -> bool:
        return not self.effective_dynamodb_endpoint and self.embedded_db

    @property
    def result_writes_in_flight(self) -> int:
        """SNAKETRON_DB_RESULT_WRITES, with 0 resolved. The embedded endpoint answers one
        request at a time, so more than a few rating writes in flight only lengthen the line
        that sign-ins and the matcher wait in (at 2,000 matchmade duel bots: 1,824 players
        live with 4, about 1,750 with 8, 1,270-1,450 with 16, benchmarks/RESULTS.md);
        DynamoDB answers them side by side."""
        if self.db_result_writes:
            return self.db_result_writes
        return EMBEDDED_RESULT_WRITES if self.uses_embedded_endpoint else REMOTE_RESULT_WRITES

    @property
    def binds_loopback(self) -> bool:
        if self.bind_address == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.bind_address).is_loopback
        except ValueError:
            return False

    @property
    def dev_mode(self) -> bool:
        """Whether the published secrets may stand in for missing ones. 'auto' allows
        them only where nobody else can reach the server and no real data is at stake."""
        if self.dev_mode_setting == "auto":
            return self.uses_embedded_endpoint and self.binds_loopback
        return self.dev_mode_setting == "on"

    def mode_description(self) -> str:
        """For the start-up banner: which mode runs, and why."""
        if not self.dev_mode:
            return "production mode"
        why = "SNAKETRON_DEV_MODE=1" if self.dev_mode_setting == "on" else "embedded endpoint, loopback bind"
        return f"DEVELOPMENT mode ({why}): published secrets, do not expose"

    def effective_jwt_secret(self) -> str:
        return self.jwt_secret or (DEV_JWT_SECRET if self.dev_mode else "")

    def effective_cluster_secret(self) -> str:
        return self.cluster_secret or (DEV_CLUSTER_SECRET if self.dev_mode else "")

    def check_startup(self) -> None:
        """Raise ConfigError when the server must not start with these settings."""
        if self.dev_mode_setting == "off" and self.uses_embedded_endpoint:
            raise ConfigError(
                "SNAKETRON_DEV_MODE=0 refuses the embedded in-memory endpoint: set AWS_ENDPOINT_URL_DYNAMODB "
                "(or SNAKETRON_EMBEDDED_DB=0 for AWS)"
            )
        if self.dev_mode:
            return
        weak = [
            name
            for name, value, dev_value in (
                ("SNAKETRON_JWT_SECRET", self.jwt_secret, DEV_JWT_SECRET),
                ("SNAKETRON_CLUSTER_SECRET", self.cluster_secret, DEV_CLUSTER_SECRET),
            )
            if value == dev_value or len(value.encode("utf-8")) < MIN_SECRET_BYTES
        ]
        if weak:
            raise ConfigError(
                f"production mode ({self._production_reason()}) needs {' and '.join(weak)} set to a random "
                f"secret of at least {MIN_SECRET_BYTES} bytes (`snaketron secret` prints one); "
                "SNAKETRON_DEV_MODE=1 allows the published development secrets"
            )

    def _production_reason(self) -> str:
        if self.dev_mode_setting == "off":
            return "SNAKETRON_DEV_MODE=0"
        if not self.uses_embedded_endpoint:
            return f"DynamoDB endpoint {self.effective_dynamodb_endpoint or 'AWS'}"
        return f"bound to {self.bind_address}, not loopback"


def _env_of(name: str) -> str:
    """The environment variable of the field `name`."""
    return next(f.metadata["env"] for f in dataclasses.fields(Settings) if f.name == name)


def settings_table_markdown() -> str:
    """The configuration table of the README, generated from the declarations above."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for f in dataclasses.fields(Settings):
        default = f.default if f.default != "" else "(empty)"
        rows.append(f"| `{f.metadata['env']}` | `{default}` | {f.metadata['doc']} |")
    return "\n".join(rows)
