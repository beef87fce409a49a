"""`BatchWriter`: the hot path's way to persist, in BatchWriteItem calls.

Callers hand over items (`put_nowait`/`delete_nowait` on the hot path, `put`/
`delete` where they can wait for buffer room) and get a future that resolves once
the item is durable; awaiting it is optional.

How it writes:
- items are grouped into BatchWriteItem requests of at most 25 items and 16 MB,
  sent when 25 are ready or when the oldest has waited `flush_ms`, with up to
  `max_in_flight` requests at once;
- a key written twice before it is sent is written once, with the newer value
  (BatchWriteItem rejects duplicate keys in one request), and a key that is in
  flight waits for that request to finish, so writes of one key land in order;
- `UnprocessedItems` are re-sent after the retry policy's backoff.

Failure policy: nothing accepted is dropped while the endpoint is slow or down.
A request that fails past the client's retry budget (DatabaseUnavailable) is
retried again after a backoff, for as long as the writer is open; callers never
see the failure, only a later future. When the buffer holds `buffer_items`,
`put` waits for room (back-pressure); `put_nowait` still accepts (the game loop
must not fail or block) and counts an overflow. Only two things fail a future:
an item DynamoDB rejects as invalid (InvalidRequest: retrying cannot help; the
batch is split to find it, so its neighbours still land), and `close()` running
past its deadline (WriteDropped), which it logs once with the count dropped.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import msgspec

from snaketron.db.errors import DatabaseError, DatabaseUnavailable, InvalidRequest, WriteDropped
from snaketron.db.retry import RetryPolicy
from snaketron.logs import get_logger

log = get_logger("snaketron.db.batch_writer")

MAX_BATCH_ITEMS = 25
MAX_BATCH_BYTES = 16 * 1024 * 1024

Key = tuple[str, tuple[Any, ...]]  # (table, key attribute values)


@dataclass(slots=True)
class _Pending:
    table: str
    key: Key
    request: dict[str, Any]  # {"PutRequest": {...}} or {"DeleteRequest": {...}}
    size: int
    enqueued: float
    futures: list[asyncio.Future[None]] = field(default_factory=list)


@dataclass
class BatchMetrics:
    accepted: int = 0  # items handed to the writer
    coalesced: int = 0  # writes merged into a newer write of the same key before sending
    written: int = 0  # items confirmed durable
    requests: int = 0  # BatchWriteItem calls answered
    unprocessed: int = 0  # items DynamoDB handed back and we re-sent
    send_failures: int = 0  # requests that failed past the client's retries (then retried)
    rejected: int = 0  # items failed as invalid
    lost: int = 0  # items failed because close() ran out of time
    overflow: int = 0  # put_nowait calls beyond the buffer limit


_encode_json = msgspec.json.Encoder().encode


def _approx_size(value: Any) -> int:
    """Bytes a request part costs on the wire, near enough for the 16 MB request limit:
    its JSON length (what the request body carries for it). Encoded in C: walking the
    typed attribute values in Python cost more than the rest of a put."""
    return len(_encode_json(value))


def _consume(future: asyncio.Future[None]) -> None:
    # Hot-path callers often never await their future: mark its exception as
    # retrieved so asyncio does not log it again (the writer already did).
    if not future.cancelled():
        future.exception()


def _report_crash(task: asyncio.Task[None]) -> None:
    # The dispatcher only ends by cancellation; anything else is a bug worth shouting
    # about (the next put restarts it, so accepted items are still written).
    if not task.cancelled() and task.exception() is not None:
        log.error("batch writer dispatcher crashed", error=repr(task.exception()))


class BatchWriter:
    def __init__(
        self,
        client: Any,
        key_names: Mapping[str, tuple[str, ...]],
        *,
        flush_ms: int = 50,
        max_in_flight: int = 4,
        buffer_items: int = 10_000,
        policy: RetryPolicy | None = None,
    ) -> None:
        self._client = client
        self._key_names = dict(key_names)
        self._flush_s = max(flush_ms, 0) / 1000.0
        self._max_in_flight = max(1, max_in_flight)
        self._buffer_items = max(MAX_BATCH_ITEMS, buffer_items)
        self._policy = policy or RetryPolicy()
        self.metrics = BatchMetrics()
        self._buffer: dict[Key, _Pending] = {}
        self._in_flight: dict[Key, _Pending] = {}
        self._wake = asyncio.Event()
        self._room = asyncio.Event()
        self._room.set()
        self._urgent = 0  # flush() calls waiting: send without waiting for age
        self._dispatcher: asyncio.Task[None] | None = None
        self._senders: set[asyncio.Task[None]] = set()
        self._slots: asyncio.Semaphore | None = None
        self._closed = False

    # --- accepting ------------------------------------------------------------------

    @property
    def pending(self) -> int:
        """Items accepted and not yet durable."""
        return len(self._buffer) + len(self._in_flight)

    def holds(self, table: str, item: dict[str, Any]) -> bool:
        """Is a write of this item's key accepted and not yet durable? (A caller that writes
        the key by other means must wait for it, or the older write could land last.)"""
        key = self._key(table, item)
        return key in self._buffer or key in self._in_flight

    def put_nowait(self, table: str, item: dict[str, Any]) -> asyncio.Future[None]:
        """Queue a PutItem of `item` (typed attribute values). Never blocks, never raises
        for endpoint trouble; the returned future resolves once the item is durable."""
        key = self._key(table, item)
        return self._accept(table, key, {"PutRequest": {"Item": item}}, _approx_size(item))

    def delete_nowait(self, table: str, key: dict[str, Any]) -> asyncio.Future[None]:
        """Queue a DeleteItem of `key` (typed attribute values)."""
        return self._accept(table, self._key(table, key), {"DeleteRequest": {"Key": key}}, _approx_size(key))

    async def put(self, table: str, item: dict[str, Any]) -> asyncio.Future[None]:
        """`put_nowait`, after waiting for buffer room (back-pressure)."""
        await self._wait_for_room()
        return self.put_nowait(table, item)

    async def delete(self, table: str, key: dict[str, Any]) -> asyncio.Future[None]:
        await self._wait_for_room()
        return self.delete_nowait(table, key)

    async def _wait_for_room(self) -> None:
        while self.pending >= self._buffer_items and not self._closed:
            self._room.clear()
            await self._room.wait()

    def _key(self, table: str, attributes: dict[str, Any]) -> Key:
        try:
            names = self._key_names[table]
            return table, tuple(next(iter(attributes[name].values())) for name in names)
        except KeyError as exc:
            raise InvalidRequest(f"batch writer: {table} item lacks key attribute {exc}") from None

    def _accept(self, table: str, key: Key, request: dict[str, Any], size: int) -> asyncio.Future[None]:
        if self._closed:
            raise DatabaseUnavailable("batch writer is closed")
        self._ensure_running()
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        future.add_done_callback(_consume)
        self.metrics.accepted += 1
        if self.pending >= self._buffer_items:
            self.metrics.overflow += 1
        waiting = self._buffer.get(key)
        if waiting is not None:
            # Same key not sent yet: the newer write replaces it; both callers learn
            # durability from the one request.
            waiting.request, waiting.size = request, size
            waiting.futures.append(future)
            self.metrics.coalesced += 1
        else:
            self._buffer[key] = _Pending(table, key, request, size, time.monotonic(), [future])
        if self._urgent or len(self._buffer) >= MAX_BATCH_ITEMS or len(self._buffer) == 1:
            self._wake.set()
        return future

    # --- flushing and closing ---------------------------------------------------------

    async def flush(self) -> None:
        """Send everything accepted so far now, and wait until it is durable (or failed)."""
        futures = [f for p in (*self._buffer.values(), *self._in_flight.values()) for f in p.futures]
        if not futures:
            return
        self._urgent += 1
        self._wake.set()
        try:
            # asyncio.wait, not gather: cancelling a flush must not cancel the items.
            await asyncio.wait(futures)
        finally:
            self._urgent -= 1

    async def close(self, timeout_s: float = 30.0) -> list[str]:
        """Stop accepting, flush everything, stop. Items still unsent after `timeout_s`
        (the endpoint is down) fail with DatabaseUnavailable, are logged (their keys at
        debug level) and returned as `table:key` strings; no send is retried after that."""
        if self._closed and self._dispatcher is None:
            return []
        self._closed = True
        self._room.set()
        try:
            async with asyncio.timeout(timeout_s):
                await self.flush()
        except TimeoutError:
            pass  # what is left is dropped below
        # Collect before cancelling: a cancelled sender forgets its in-flight items.
        leftovers = list(self._buffer.values()) + list(self._in_flight.values())
        tasks = [t for t in (self._dispatcher, *self._senders) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._dispatcher = None
        self._buffer.clear()
        self._in_flight.clear()
        lost = [p for p in leftovers if any(not f.done() for f in p.futures)]
        self._fail(leftovers, WriteDropped("batch writer closed before the item was written"), lost=True)
        # One key can be both in flight and waiting (a newer write): it counts once.
        dropped = sorted({f"{table}:{'/'.join(str(v) for v in values)}" for table, values in (p.key for p in lost)})
        if dropped:
            log.error("batch writer dropped unflushed writes", count=len(dropped), timeout_s=timeout_s)
            log.debug("batch writer dropped", keys=dropped)
        return dropped

    # --- sending ------------------------------------------------------------------------

    def _ensure_running(self) -> None:
        if self._dispatcher is None or self._dispatcher.done():
            if self._slots is None:
                self._slots = asyncio.Semaphore(self._max_in_flight)
            self._dispatcher = asyncio.get_running_loop().create_task(self._dispatch(), name="batch-writer")
            self._dispatcher.add_done_callback(_report_crash)

    async def _dispatch(self) -> None:
        assert self._slots is not None
        while True:
            await self._slots.acquire()
            try:
                batch = await self._next_batch()
            except BaseException:
                self._slots.release()
                raise
            for p in batch:
                del self._buffer[p.key]
                self._in_flight[p.key] = p
            task = asyncio.get_running_loop().create_task(self._send(batch))
            self._senders.add(task)
            task.add_done_callback(self._senders.discard)

    async def _next_batch(self) -> list[_Pending]:
        """Wait until a batch is due (25 ready, the oldest is flush_ms old, or a flush
        asked), and return it: oldest first, no key that is already in flight."""
        while True:
            batch: list[_Pending] = []
            size = 0
            for p in self._buffer.values():
                if p.key in self._in_flight:
                    continue
                if batch and size + p.size > MAX_BATCH_BYTES:
                    break
                batch.append(p)
                size += p.size
                if len(batch) == MAX_BATCH_ITEMS:
                    return batch
            timeout = None
            if batch:
                due_in = batch[0].enqueued + self._flush_s - time.monotonic()
                if self._urgent or self._closed or due_in <= 0:
                    return batch
                timeout = due_in
            self._wake.clear()
            try:
                async with asyncio.timeout(timeout):
                    await self._wake.wait()
            except TimeoutError:
                pass

    async def _send(self, batch: list[_Pending]) -> None:
        try:
            await self._deliver(batch)
        finally:
            for p in batch:
                self._in_flight.pop(p.key, None)
            assert self._slots is not None
            self._slots.release()
            self._wake.set()  # keys of this batch may now go out again
            if self.pending < self._buffer_items:
                self._room.set()

    async def _deliver(self, batch: list[_Pending]) -> None:
        remaining = {p.key: p for p in batch}
        unprocessed_rounds = 0
        failures = 0
        while remaining:
            request_items: dict[str, list[dict[str, Any]]] = {}
            for p in remaining.values():
                request_items.setdefault(p.table, []).append(p.request)
            try:
                response = await self._client.call("batch_write_item", RequestItems=request_items)
            except InvalidRequest as exc:
                if len(remaining) == 1:
                    log.error("batch writer: item rejected", table=next(iter(remaining))[0], error=str(exc))
                    self.metrics.rejected += 1
                    self._fail(remaining.values(), exc)
                    return
                # One bad item spoils its request: send each alone to find it.
                for p in list(remaining.values()):
                    await self._deliver([p])
                return
            except DatabaseError as exc:
                failures += 1
                self.metrics.send_failures += 1
                delay = self._policy.delay_s(failures) + self._policy.max_ms / 2000.0
                log.warning("batch writer: request failed, will retry", items=len(remaining), error=str(exc))
                await asyncio.sleep(delay)
                continue
            self.metrics.requests += 1
            failures = 0
            unprocessed_keys = set()
            for table, requests in (response.get("UnprocessedItems") or {}).items():
                for request in requests:
                    body = request.get("PutRequest", {}).get("Item") or request.get("DeleteRequest", {}).get("Key")
                    unprocessed_keys.add(self._key(table, body))
            for key in [k for k in remaining if k not in unprocessed_keys]:
                p = remaining.pop(key)
                self.metrics.written += 1
                for f in p.futures:
                    if not f.done():
                        f.set_result(None)
            if remaining:
                unprocessed_rounds += 1
                self.metrics.unprocessed += len(remaining)
                await asyncio.sleep(self._policy.delay_s(unprocessed_rounds))

    def _fail(self, pendings: Any, exc: Exception, *, lost: bool = False) -> None:
        for p in pendings:
            if lost and any(not f.done() for f in p.futures):
                self.metrics.lost += 1
            for f in p.futures:
                if not f.done():
                    f.set_exception(exc)
