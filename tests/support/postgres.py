"""A throwaway PostgreSQL for tests and benchmarks, seeded like an earlier deployment.

`PostgresCluster` runs Debian's `postgresql` binaries as a private cluster in a
temp dir on a free loopback port, so tests never touch a system database. When
the binaries are missing and we are root, they are installed once per machine
with apt-get (about a minute); anywhere else `PostgresUnavailable` says why and
the tests skip with that message.

`LEGACY_SCHEMA_SQL` is the schema of `docs/LEGACY_POSTGRES.md`, and
`seed_legacy_data` fills it with a realistic, deterministic data set (bcrypt
hashes, games with players and spectators, lobbies live and expired, names that
differ only by letter case), loaded with COPY so that even the benchmark's large
sets load in seconds.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import glob
import json
import os
import random
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import bcrypt
import psycopg

LEGACY_SCHEMA_SQL = """
CREATE TABLE servers (
    id serial PRIMARY KEY,
    grpc_address varchar(255) NOT NULL,
    last_heartbeat timestamp,
    region varchar(50) NOT NULL,
    created_at timestamp NOT NULL,
    status varchar(20) NOT NULL DEFAULT 'active',
    current_game_count int NOT NULL DEFAULT 0,
    max_game_capacity int NOT NULL DEFAULT 100
);
CREATE TABLE users (
    id serial PRIMARY KEY,
    username varchar(255) NOT NULL UNIQUE,
    password_hash varchar(255) NOT NULL,
    mmr int NOT NULL,
    created_at timestamp NOT NULL DEFAULT now()
);
CREATE TABLE games (
    id serial PRIMARY KEY,
    server_id int REFERENCES servers ON DELETE CASCADE,
    game_type jsonb NOT NULL,
    game_state jsonb,
    status varchar(20) NOT NULL DEFAULT 'waiting',
    ended_at timestamptz,
    last_activity timestamptz NOT NULL DEFAULT now(),
    created_at timestamp NOT NULL DEFAULT now(),
    game_mode varchar(20) NOT NULL DEFAULT 'matchmaking',
    is_private boolean NOT NULL DEFAULT false,
    game_code varchar(8)
);
CREATE TABLE game_requests (
    id serial PRIMARY KEY,
    server_id int NOT NULL REFERENCES servers ON DELETE CASCADE,
    user_id int NOT NULL UNIQUE REFERENCES users,
    game_type jsonb NOT NULL,
    game_id int REFERENCES games ON DELETE SET NULL,
    request_time timestamp NOT NULL DEFAULT now()
);
CREATE TABLE game_players (
    id serial PRIMARY KEY,
    game_id int NOT NULL REFERENCES games ON DELETE CASCADE,
    user_id int NOT NULL REFERENCES users,
    team_id int NOT NULL,
    joined_at timestamp NOT NULL DEFAULT now(),
    UNIQUE (game_id, user_id)
);
CREATE TABLE custom_game_lobbies (
    id serial PRIMARY KEY,
    game_code varchar(8) UNIQUE NOT NULL,
    host_user_id int NOT NULL REFERENCES users,
    settings jsonb NOT NULL,
    created_at timestamp NOT NULL DEFAULT now(),
    expires_at timestamp NOT NULL,
    game_id int REFERENCES games,
    state varchar(20) NOT NULL DEFAULT 'waiting'
);
CREATE TABLE game_spectators (
    game_id int NOT NULL REFERENCES games ON DELETE CASCADE,
    user_id int NOT NULL REFERENCES users,
    joined_at timestamp NOT NULL DEFAULT now(),
    PRIMARY KEY (game_id, user_id)
);
CREATE INDEX ON games (server_id);
CREATE INDEX ON games (status, last_activity);
CREATE INDEX ON custom_game_lobbies (game_code);
CREATE INDEX ON custom_game_lobbies (expires_at);
"""


class PostgresUnavailable(RuntimeError):
    """PostgreSQL cannot be found or installed here; the message says why."""


def _bin_dir() -> Path | None:
    on_path = shutil.which("pg_ctl")
    if on_path and shutil.which("initdb"):
        return Path(os.path.realpath(on_path)).parent
    # Debian keeps the server binaries out of PATH, one directory per major version.
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parts[-3]))
    return Path(versions[-1]).parent if versions else None


def ensure_postgres_binaries() -> Path:
    """The directory of initdb/pg_ctl, installing Debian's `postgresql` when missing and root."""
    found = _bin_dir()
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise PostgresUnavailable(
            "PostgreSQL (initdb, pg_ctl) is not installed and cannot be installed: not root with apt-get"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update"], ["apt-get", "install", "-y", "--no-install-recommends", "postgresql"]):
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise PostgresUnavailable(f"`{' '.join(command)}` failed: {done.stderr.strip()[-500:]}")
    found = _bin_dir()
    if not found:
        raise PostgresUnavailable("apt-get installed postgresql but initdb/pg_ctl are still missing")
    return found


def _free_loopback_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PostgresCluster:
    """A private cluster: `start()` once, `create_database()` per test, `stop()` at the end.

    initdb refuses to run as root, so as root every server command runs as the
    `postgres` account that Debian's package creates, in a directory it owns.
    """

    def __init__(self) -> None:
        self.bin_dir = ensure_postgres_binaries()
        self.port = 0
        self._root: Path | None = None
        self._user = "postgres" if os.geteuid() == 0 else None

    @property
    def data_dir(self) -> Path:
        assert self._root is not None, "cluster not started"
        return self._root / "data"

    def dsn(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def _run(self, *args: str) -> None:
        done = subprocess.run(
            [str(self.bin_dir / args[0]), *args[1:]],
            user=self._user,
            capture_output=True,
            text=True,
            check=False,
            cwd="/",  # the postgres account may not be allowed into our working directory
        )
        if done.returncode != 0:
            raise PostgresUnavailable(
                f"{args[0]} failed ({done.returncode}): {(done.stderr or done.stdout).strip()[-800:]}"
            )

    def start(self) -> PostgresCluster:
        self._root = Path(tempfile.mkdtemp(prefix="snaketron-pg-"))
        if self._user:
            shutil.chown(self._root, self._user, self._user)
        self._run("initdb", "-D", str(self.data_dir), "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--no-sync")
        self.port = _free_loopback_port()
        # Durability is irrelevant for a throwaway cluster; speed is not.
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories={self._root} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=50"
        )
        self._run(
            "pg_ctl", "-D", str(self.data_dir), "-l", str(self._root / "server.log"), "-o", options, "-w", "start"
        )
        return self

    def stop(self) -> None:
        if self._root is None:
            return
        with contextlib.suppress(PostgresUnavailable):
            self._run("pg_ctl", "-D", str(self.data_dir), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self._root, ignore_errors=True)
        self._root = None

    def create_database(self, name: str) -> str:
        """A fresh, empty database; returns its DSN."""
        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.dsn(name)


@contextlib.contextmanager
def running_cluster() -> Iterator[PostgresCluster]:
    cluster = PostgresCluster().start()
    try:
        yield cluster
    finally:
        cluster.stop()


# --- the legacy data set ----------------------------------------------------------------

EPOCH = dt.datetime(2024, 1, 1)


@dataclasses.dataclass(frozen=True)
class SeedSpec:
    users: int = 2_000
    games: int = 1_500
    lobbies: int = 120
    seed: int = 7
    bcrypt_rounds: int = 4  # the lowest cost bcrypt allows: realistic hashes, cheap to make
    distinct_hashes: int = 32  # hashing every user would dominate the test's time


@dataclasses.dataclass(frozen=True)
class KnownAccount:
    user_id: int
    username: str
    password: str
    mmr: int


@dataclasses.dataclass
class SeedSummary:
    """What was seeded, for assertions: counts per table and accounts with known passwords."""

    counts: dict[str, int]
    accounts: list[KnownAccount]
    max_ids: dict[str, int]
    case_groups: dict[str, list[int]]  # lower-cased name -> ids of its accounts, oldest first
    live_lobby_codes: list[str]
    expired_lobby_codes: list[str]


# Groups of names equal but for letter case, with one name that a naive rename
# suffix would hit ("Alice_2" is a real account), a 20-character name whose
# renamed form must be shortened to stay valid, and names with a space.
_CASE_GROUPS = (
    ("alice", "Alice", "ALICE"),
    ("Alice_2",),
    ("Bob-the-builder", "bob-the-builder"),
    ("TwentyCharactersName", "twentycharactersname", "TWENTYCHARACTERSNAME"),
    ("zed", "ZED"),
    # Legal before, not under today's rules: kept as they are, listed in the report.
    ("Sir Lancelot", "sir lancelot"),
    ("x",),
)
_GAME_TYPES: tuple[Any, ...] = (
    "Solo",
    {"TeamMatch": {"per_team": 1}},
    {"TeamMatch": {"per_team": 2}},
    {"FreeForAll": {"max_players": 4}},
    {"FreeForAll": {"max_players": 8}},
)
_STATUSES = ("waiting", "active", "finished", "finished", "finished", "abandoned")


def _custom_settings(rng: random.Random, is_private: bool) -> dict[str, Any]:
    players = rng.choice((2, 4, 6))
    return {
        "arena_width": rng.choice((30, 40, 60)),
        "arena_height": rng.choice((30, 40, 60)),
        "tick_duration_ms": rng.choice((80, 100, 150)),
        "food_spawn_rate": 3.0,
        "max_players": players,
        "game_mode": {"FreeForAll": {"max_players": players}},
        "is_private": is_private,
        "allow_spectators": rng.random() < 0.8,
        "snake_start_length": 4,
    }


def _game_code(rng: random.Random, taken: set[str]) -> str:
    while True:
        code = "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(8))
        if code not in taken:
            taken.add(code)
            return code


def _copy(conn: psycopg.Connection, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    with conn.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def seed_legacy_data(dsn: str, spec: SeedSpec = SeedSpec(), *, now: dt.datetime | None = None) -> SeedSummary:
    """Create the legacy schema in an empty database and fill it (deterministic for a spec).

    Timestamps without time zone are written as UTC wall-clock times, as the earlier
    servers did. `now` (naive UTC) decides which lobbies are still live.
    """
    rng = random.Random(spec.seed)
    now = now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    passwords = [f"pw-{i:02d}-secret" for i in range(spec.distinct_hashes)]
    salt_rounds = bcrypt.gensalt(rounds=spec.bcrypt_rounds)
    hashes = [bcrypt.hashpw(p.encode(), salt_rounds).decode() for p in passwords]

    # Users: ids with gaps (deleted accounts), the case groups spread through the table.
    special = [name for group in _CASE_GROUPS for name in group]
    users: list[tuple[Any, ...]] = []
    accounts: list[KnownAccount] = []
    user_id = 0
    special_at = {int(spec.users * (i + 1) / (len(special) + 1)): name for i, name in enumerate(special)}
    for index in range(spec.users):
        user_id += 1 if rng.random() < 0.9 else rng.randint(2, 5)
        name = special_at.get(index, f"player{user_id}")
        which = rng.randrange(len(hashes))
        mmr = max(0, int(rng.gauss(1000, 250)))
        created = EPOCH + dt.timedelta(minutes=index * 7, microseconds=rng.randint(0, 999_999))
        users.append((user_id, name, hashes[which], mmr, created))
        if name in special or index % 97 == 0:
            accounts.append(KnownAccount(user_id, name, passwords[which], mmr))
    by_lower: dict[str, list[int]] = {}
    for row in users:
        by_lower.setdefault(row[1].lower(), []).append(row[0])
    case_groups = {name: ids for name, ids in by_lower.items() if len(ids) > 1}
    user_ids = [row[0] for row in users]

    servers = [(i, f"10.0.0.{i}:50051", EPOCH, rng.choice(("eu", "us")), EPOCH, "active", 0, 100) for i in range(1, 4)]

    games: list[tuple[Any, ...]] = []
    players: list[tuple[Any, ...]] = []
    spectators: list[tuple[Any, ...]] = []
    codes: set[str] = set()
    custom_games: list[tuple[int, int, bool, dict[str, Any]]] = []  # id, host, private, settings
    code_of: dict[int, str] = {}
    game_id = 0
    for index in range(spec.games):
        game_id += 1 if rng.random() < 0.95 else 2
        mode = rng.choice(("matchmaking", "matchmaking", "custom", "solo"))
        status = rng.choice(_STATUSES)
        created = EPOCH + dt.timedelta(minutes=index * 11, seconds=rng.randint(0, 59))
        last_activity = (created + dt.timedelta(minutes=rng.randint(1, 30))).replace(tzinfo=dt.UTC)
        ended = last_activity if status in ("finished", "abandoned") else None
        is_private = mode == "custom" and rng.random() < 0.4
        member_count = 1 if mode == "solo" else rng.randint(2, 4)
        members = rng.sample(user_ids, member_count)
        if mode == "solo":
            game_type: Any = "Solo"
        elif mode == "custom":
            settings = _custom_settings(rng, is_private)
            game_type = {"Custom": {"settings": settings}}
            custom_games.append((game_id, members[0], is_private, settings))
        else:
            game_type = rng.choice(_GAME_TYPES[1:])
        code = _game_code(rng, codes) if mode == "custom" else None
        if code:
            code_of[game_id] = code
        state = {"tick": rng.randint(0, 5000), "status": "Complete" if ended else "Started"}
        server_id = None if rng.random() < 0.05 else rng.randint(1, 3)
        games.append(
            (
                game_id,
                server_id,
                json.dumps(game_type),
                json.dumps(state),
                status,
                ended,
                last_activity,
                created,
                mode,
                is_private,
                code,
            )
        )
        for team, member in enumerate(members):
            players.append((game_id, member, team % 2, created + dt.timedelta(seconds=team)))
        if rng.random() < 0.3:
            watchers = [u for u in rng.sample(user_ids, 8) if u not in members][: rng.randint(1, 3)]
            spectators.extend((game_id, watcher, created + dt.timedelta(seconds=30)) for watcher in watchers)

    # Lobbies: half still live (they expire in the future), half long expired.
    lobbies: list[tuple[Any, ...]] = []
    live: list[str] = []
    expired: list[str] = []
    for index, (gid, host, _private, settings) in enumerate(custom_games[: spec.lobbies]):
        code = code_of[gid]
        is_live = index % 2 == 0
        created = now - dt.timedelta(minutes=10) if is_live else EPOCH + dt.timedelta(days=index)
        expires = created + dt.timedelta(hours=1)
        state = "waiting" if index % 3 else "started"
        lobbies.append((index + 1, code, host, json.dumps(settings), created, expires, gid, state))
        (live if is_live else expired).append(code)

    requests = [(i + 1, 1, user_ids[i], json.dumps(_GAME_TYPES[3]), None, EPOCH) for i in range(5)]

    with psycopg.connect(dsn) as conn:
        conn.execute(LEGACY_SCHEMA_SQL)
        _copy(
            conn,
            "servers",
            (
                "id",
                "grpc_address",
                "last_heartbeat",
                "region",
                "created_at",
                "status",
                "current_game_count",
                "max_game_capacity",
            ),
            servers,
        )
        _copy(conn, "users", ("id", "username", "password_hash", "mmr", "created_at"), users)
        _copy(
            conn,
            "games",
            (
                "id",
                "server_id",
                "game_type",
                "game_state",
                "status",
                "ended_at",
                "last_activity",
                "created_at",
                "game_mode",
                "is_private",
                "game_code",
            ),
            games,
        )
        _copy(conn, "game_players", ("game_id", "user_id", "team_id", "joined_at"), players)
        _copy(conn, "game_spectators", ("game_id", "user_id", "joined_at"), spectators)
        _copy(
            conn,
            "custom_game_lobbies",
            ("id", "game_code", "host_user_id", "settings", "created_at", "expires_at", "game_id", "state"),
            lobbies,
        )
        _copy(conn, "game_requests", ("id", "server_id", "user_id", "game_type", "game_id", "request_time"), requests)
        # Keep the serial sequences where a live deployment would have them.
        for table in ("servers", "users", "games", "game_players", "custom_game_lobbies", "game_requests"):
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")

    return SeedSummary(
        counts={
            "servers": len(servers),
            "users": len(users),
            "games": len(games),
            "game_players": len(players),
            "game_spectators": len(spectators),
            "custom_game_lobbies": len(lobbies),
            "live_lobbies": len(live),
            "game_requests": len(requests),
        },
        accounts=accounts,
        max_ids={"user": user_ids[-1], "game": game_id, "server": len(servers)},
        case_groups=case_groups,
        live_lobby_codes=live,
        expired_lobby_codes=expired,
    )
