"""`FaultProxy`: a local HTTP proxy that injects DynamoDB failures, for reliability tests.

The embedded endpoint never throttles, never returns UnprocessedItems and never
drops a connection, so tests that need those put this proxy between the client
and the endpoint and point the client at `proxy.url`:

    async with FaultProxy(dynamo_endpoint, seed=1) as proxy:
        proxy.throttle = 0.3                      # 30 % of requests: 400 ThrottlingException
        proxy.unprocessed = 0.5                   # BatchWriteItem: ~half the items come back unprocessed
        proxy.drop = 0.1                          # close the connection without answering
        proxy.drop_after_forward = 0.1            # forward, then lose the answer (the write happened)
        proxy.lose_next_answers = 2               # the same for exactly the next 2 requests
        proxy.server_error = 0.1                  # 500 InternalServerError
        proxy.outage = True                       # reset every connection
        proxy.only = {"BatchWriteItem"}           # limit faults to these operations (None: all)
        proxy.hold({"TransactWriteItems"})        # these wait (await proxy.held.wait()) ...
        proxy.release()                           # ... until released, then go on in order
        ... proxy.counts["throttled"], proxy.counts["requests"] ...

Faults are drawn from a seeded random generator, so a failing test repeats.
Only 127.0.0.1 is listened on. Requests are forwarded unchanged except that a
BatchWriteItem may lose some items (which are then reported as unprocessed);
the endpoint (moto) does not check signatures, real DynamoDB would.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import random
import zlib
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import aiohttp

from snaketron.config import Settings
from snaketron.db import open_database
from snaketron.db.dynamo import DynamoDatabase

AMZ_JSON = "application/x-amz-json-1.0"


class FaultProxy:
    def __init__(self, upstream: str, *, seed: int = 0) -> None:
        self.upstream = upstream.rstrip("/")
        self.rng = random.Random(seed)
        self.throttle = 0.0
        self.throttle_code = "ThrottlingException"
        self.unprocessed = 0.0
        self.drop = 0.0
        self.drop_after_forward = 0.0
        self.lose_next_answers = 0
        self.server_error = 0.0
        self.outage = False
        self.only: set[str] | None = None
        self.held = asyncio.Event()  # set once a held request arrived
        self._held_more = asyncio.Condition()
        self._holding: set[str] = set()
        self._released = asyncio.Event()
        self.counts: Counter[str] = Counter()
        self.url = ""
        self._server: asyncio.base_events.Server | None = None
        self._session: aiohttp.ClientSession | None = None
        self._connections: set[asyncio.StreamWriter] = set()

    async def __aenter__(self) -> FaultProxy:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        self._session = aiohttp.ClientSession()
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for writer in list(self._connections):
                writer.transport.abort()
            await self._server.wait_closed()
        if self._session is not None:
            await self._session.close()

    def hold(self, operations: set[str]) -> None:
        """Keep requests of these operations waiting (unanswered) until `release`."""
        self._holding = set(operations)
        self._released.clear()
        self.held.clear()

    async def wait_held(self, count: int) -> None:
        """Until `count` requests in all have been held."""
        async with self._held_more:
            await self._held_more.wait_for(lambda: self.counts["held"] >= count)

    def release(self) -> None:
        self._holding = set()
        self._released.set()

    def heal(self) -> None:
        """Stop injecting faults and holding requests (counters stay)."""
        self.throttle = self.unprocessed = self.drop = self.drop_after_forward = self.server_error = 0.0
        self.lose_next_answers = 0
        self.outage = False
        self.release()

    # --- one connection ------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._connections.add(writer)
        try:
            while True:
                request = await _read_request(reader)
                if request is None:
                    return
                headers, body = request
                answer = await self._answer(headers, body)
                if answer is None:  # drop: the client sees the connection die
                    writer.transport.abort()
                    return
                status, response_headers, response_body = answer
                writer.write(_format_response(status, response_headers, response_body))
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            self._connections.discard(writer)
            writer.close()

    def _roll(self, fraction: float) -> bool:
        return fraction > 0 and self.rng.random() < fraction

    async def _answer(self, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes] | None:
        operation = headers.get("x-amz-target", "").rpartition(".")[2]
        self.counts["requests"] += 1
        self.counts[f"op:{operation}"] += 1
        faulty = self.only is None or operation in self.only
        if operation in self._holding:
            self.counts["held"] += 1
            self.held.set()
            async with self._held_more:
                self._held_more.notify_all()
            await self._released.wait()
        if self.outage:
            self.counts["refused"] += 1
            return None
        if faulty and self._roll(self.drop):
            self.counts["dropped"] += 1
            return None
        if faulty and self._roll(self.throttle):
            self.counts["throttled"] += 1
            return _error(400, self.throttle_code, "Rate of requests exceeds the allowed throughput.")
        if faulty and self._roll(self.server_error):
            self.counts["server_errors"] += 1
            return _error(500, "InternalServerError", "Internal server error")
        withheld: dict[str, list[Any]] = {}
        if faulty and operation == "BatchWriteItem" and self.unprocessed > 0:
            body, withheld = self._withhold(body)
        status, response_headers, response_body = await self._forward(headers, body)
        if faulty and (self.lose_next_answers > 0 or self._roll(self.drop_after_forward)):
            self.lose_next_answers = max(0, self.lose_next_answers - 1)
            self.counts["dropped_after_forward"] += 1
            return None
        if withheld and status == 200:
            answer = json.loads(response_body or b"{}")
            unprocessed = answer.setdefault("UnprocessedItems", {})
            for table, requests in withheld.items():
                unprocessed.setdefault(table, []).extend(requests)
            response_body = json.dumps(answer).encode()
        return status, response_headers, response_body

    def _withhold(self, body: bytes) -> tuple[bytes, dict[str, list[Any]]]:
        """Keep some items of a BatchWriteItem back; at least one item always goes through
        so that every round makes progress, as DynamoDB's partial answers do."""
        request = json.loads(body)
        withheld: dict[str, list[Any]] = {}
        kept_any = False
        for table, requests in request["RequestItems"].items():
            keep = []
            for item in requests:
                if self.rng.random() < self.unprocessed:
                    withheld.setdefault(table, []).append(item)
                else:
                    keep.append(item)
                    kept_any = True
            request["RequestItems"][table] = keep
        if not kept_any and withheld:
            table = next(iter(withheld))
            request["RequestItems"][table].append(withheld[table].pop())
            if not withheld[table]:
                del withheld[table]
        request["RequestItems"] = {t: r for t, r in request["RequestItems"].items() if r}
        self.counts["unprocessed_items"] += sum(len(r) for r in withheld.values())
        return json.dumps(request).encode(), withheld

    async def _forward(self, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        assert self._session is not None
        forward_headers = {k: v for k, v in headers.items() if k not in ("host", "content-length", "connection")}
        self.counts["forwarded"] += 1
        async with self._session.post(self.upstream + "/", data=body, headers=forward_headers) as response:
            payload = await response.read()
            kept = {k: v for k, v in response.headers.items() if k.lower() in ("content-type", "x-amzn-requestid")}
            return response.status, kept, payload


@contextlib.asynccontextmanager
async def database_through(proxy: FaultProxy, settings: Settings) -> AsyncIterator[DynamoDatabase]:
    """A DynamoDatabase whose every request passes through `proxy` (healed at the end,
    so that the database's last writes go through)."""
    async with open_database(dataclasses.replace(settings, dynamodb_endpoint=proxy.url)) as database:
        try:
            yield database
        finally:
            proxy.heal()


def _error(status: int, code: str, message: str) -> tuple[int, dict[str, str], bytes]:
    body = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": message}).encode()
    return status, {"Content-Type": AMZ_JSON}, body


def _format_response(status: int, headers: dict[str, str], body: bytes) -> bytes:
    reason = {200: "OK", 400: "Bad Request", 500: "Internal Server Error"}.get(status, "Status")
    lines = [f"HTTP/1.1 {status} {reason}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    # Bodies may have been rewritten: the checksum botocore verifies must match them.
    lines += [f"Content-Length: {len(body)}", f"x-amz-crc32: {zlib.crc32(body)}", "Connection: keep-alive"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def _read_request(reader: asyncio.StreamReader) -> tuple[dict[str, str], bytes] | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    lines = head.decode("latin-1").split("\r\n")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return headers, body
