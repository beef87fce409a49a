"""Real `snaketron serve` processes on 127.0.0.1 sharing one DynamoDB endpoint and table prefix.

Each process gets free ports (port 0: it prints the bound ones), a one-second
heartbeat so liveness verdicts come within seconds, and cheap password hashing.
Its stderr (the log) goes to a file that is shown when a test fails. A process
never outlives the test run: `ServerFleet.close` kills what is left, and the
kernel kills a server whose parent (pytest) dies (PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import asyncio
import ctypes
import itertools
import os
import re
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from snaketron.client import AccountClient, GameClient
from snaketron.db.dynamo import DynamoDatabase

T = TypeVar("T")
_names = itertools.count(1)

HEARTBEAT_SECONDS = 1.0
BANNER = re.compile(r"SnakeTron is up \(server (\d+), region ([^)]+)\)")
URL_LINE = re.compile(r"^\s*(WebSocket|HTTP API)\s+(\S+)")
PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


@dataclass
class ServerProcess:
    name: str
    process: asyncio.subprocess.Process
    log_path: Path
    server_id: int = 0
    region: str = ""
    ws_url: str = ""
    api_url: str = ""  # without the /api suffix

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def running(self) -> bool:
        return self.process.returncode is None

    def signal(self, sig: int) -> None:
        if self.running:
            self.process.send_signal(sig)

    async def wait(self, timeout: float) -> int:
        return await asyncio.wait_for(self.process.wait(), timeout)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@dataclass
class ServerFleet:
    """Starts servers of one cluster (one endpoint, one prefix) and cleans them up."""

    endpoint: str
    prefix: str
    log_dir: Path
    servers: list[ServerProcess] = field(default_factory=list)

    def environment(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SNAKETRON_", "AWS_", "DYNAMODB_"))}
        env.update(
            {
                "AWS_ENDPOINT_URL_DYNAMODB": self.endpoint,
                "AWS_ACCESS_KEY_ID": "test",
                "AWS_SECRET_ACCESS_KEY": "test",
                "AWS_REGION": "us-east-1",
                "DYNAMODB_TABLE_PREFIX": self.prefix,
                "SNAKETRON_CREATE_TABLES": "0",
                "SNAKETRON_EMBEDDED_DB": "0",
                "SNAKETRON_DEV_MODE": "1",  # loopback servers on the test endpoint
                "SNAKETRON_HOST": "127.0.0.1",
                "SNAKETRON_WS_PORT": "0",
                "SNAKETRON_API_PORT": "0",
                "SNAKETRON_HEARTBEAT_SECONDS": str(HEARTBEAT_SECONDS),
                "SNAKETRON_ARGON2_TIME_COST": "1",
                "SNAKETRON_ARGON2_MEMORY_KIB": "64",
                "SNAKETRON_ARGON2_PARALLELISM": "1",
                "SNAKETRON_API_RATE_PER_MIN": "0",
                # The tests poll /api/servers from 127.0.0.1 every 0.1 s while they wait.
                "SNAKETRON_READ_RATE_PER_MIN": "0",
                "SNAKETRON_BATCH_FLUSH_MS": "5",
                "SNAKETRON_LOG_LEVEL": "info",
                "SNAKETRON_CLUSTER_SECRET": "cluster-test-secret",
                **extra,
            }
        )
        return env

    async def start(self, name: str, **extra_env: str) -> ServerProcess:
        log_path = self.log_dir / f"{name}.log"
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "snaketron.cli",
            "serve",
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=log_path.open("wb"),
            env=self.environment(**extra_env),
            preexec_fn=_die_with_parent,
        )
        server = ServerProcess(name, process, log_path)
        self.servers.append(server)
        self.servers.sort(key=lambda s: s.name)  # tests unpack them by name: A, B, C
        try:
            await asyncio.wait_for(self._read_banner(server), 30)
        except (TimeoutError, EOFError) as exc:
            raise RuntimeError(f"server {name} did not start:\n{server.log()[-4000:]}") from exc
        return server

    async def start_many(self, *names: str, **extra_env: str) -> list[ServerProcess]:
        return list(await asyncio.gather(*(self.start(n, **extra_env) for n in names)))

    async def _read_banner(self, server: ServerProcess) -> None:
        assert server.process.stdout is not None
        while not (server.ws_url and server.api_url):
            line = (await server.process.stdout.readline()).decode()
            if not line:
                raise EOFError(f"{server.name} exited with {await server.process.wait()}")
            if banner := BANNER.search(line):
                server.server_id, server.region = int(banner[1]), banner[2]
            elif url := URL_LINE.match(line):
                if url[1] == "WebSocket":
                    server.ws_url = url[2]
                else:
                    server.api_url = url[2].removesuffix("/api")

    async def close(self) -> None:
        for server in self.servers:
            if server.running:
                server.signal(signal.SIGKILL)
            await server.process.wait()

    def logs(self) -> str:
        return "\n".join(f"----- {s.name} (server {s.server_id}) -----\n{s.log()[-6000:]}" for s in self.servers)


@dataclass
class Cluster:
    """One fleet of servers on its own tables, a database handle on them, and players."""

    fleet: ServerFleet
    db: DynamoDatabase
    clients: list[GameClient] = field(default_factory=list)

    async def start(self, *names: str, **extra_env: str) -> list[ServerProcess]:
        return await self.fleet.start_many(*names, **extra_env)

    async def player(self, server: ServerProcess) -> GameClient:
        """A new account (registered through `server`'s API) connected to `server`."""
        async with AccountClient(server.api_url) as accounts:
            account = await accounts.register(f"cl{next(_names)}", "secret1")
        client = await GameClient.connect(server.ws_url)
        self.clients.append(client)
        await client.authenticate(account.token)
        return client

    async def reconnect(self, client: GameClient, server: ServerProcess) -> GameClient:
        """The same account on a new connection to `server`."""
        again = await GameClient.connect(server.ws_url)
        self.clients.append(again)
        await again.authenticate(client.token)
        return again

    async def close(self) -> None:
        for client in self.clients:
            await client.close()
        await self.fleet.close()


async def eventually(check: Callable[[], Awaitable[T]], *, timeout: float = 10.0, every: float = 0.1) -> T:
    """Poll `check` until it returns something truthy (another process's state has no event
    this process could await); fail with its last answer."""
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout}s; last answer: {result!r}")
        await asyncio.sleep(every)
