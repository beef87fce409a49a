"""The child process behind `EmbeddedEndpoint`: moto's DynamoDB on a loopback port.

Run as `python -m snaketron.db.embedded_server`. It binds 127.0.0.1 on a port the
OS picks, prints `PORT <n>` on stdout for the parent, and serves until its stdin
closes, which happens when the parent exits or dies: the endpoint never outlives
the server that started it, and it ignores Ctrl-C so that the server can still
write its last items (status offline, the batch writer's flush) after one.

moto's backends are not safe under concurrent requests (a transaction's condition
check and its writes can interleave with another request's), so one lock makes
every request atomic, the way DynamoDB's own conditional writes are. Connections
are kept alive (waitress) and requests run one at a time.

moto answers every Query by sorting the whole table first, so a query's cost grows
as N log N with everything ever written (a server left running for an afternoon,
or a load test, records thousands of games). `_queries_without_sorting_the_table`
makes a base-table query read only its own partition and an index query filter
the table unsorted; moto sorts what matched afterwards either way, so the results
and their order are the same.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any


def _serialised(app: Callable[..., Iterable[bytes]]) -> Callable[..., list[bytes]]:
    lock = threading.Lock()

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        with lock:
            # Drain the body inside the lock so the response is complete when it is released.
            return list(app(environ, start_response))

    return wsgi


def _queries_without_sorting_the_table() -> None:
    import inspect

    from moto.dynamodb.models.table import Table

    sorted_items = Table.all_items
    query = Table.query
    # Where `index_name` sits among the arguments after (self, hash_key): moto passes it by position.
    index_name_at = list(inspect.signature(query).parameters).index("index_name") - 2

    def items_of(table: Table, partition: Any) -> list[Any]:
        return list(partition.values()) if table.range_key_attr else [partition]

    def all_items(self: Table) -> list[Any]:
        scope = getattr(self, "_query_scope", None)
        if scope is None:  # a scan, an export...: pages follow the sorted order
            return sorted_items(self)
        if scope is _WHOLE_TABLE:
            return [item for partition in self.items.values() for item in items_of(self, partition)]
        partition = self.items.get(scope)
        return [] if partition is None else items_of(self, partition)

    def scoped_query(self: Table, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        # Only the base table keeps items by partition; an index query filters everything.
        index_name = kwargs.get("index_name", args[index_name_at] if len(args) > index_name_at else None)
        # moto offers no hook for this: the scope rides on the table, read by all_items.
        self._query_scope = _WHOLE_TABLE if index_name or hash_key is None else hash_key  # type: ignore[attr-defined]
        try:
            return query(self, hash_key, *args, **kwargs)
        finally:
            self._query_scope = None  # type: ignore[attr-defined]

    # Patched on purpose (the module docstring says why); mypy refuses assigning to a method.
    Table.all_items = all_items  # type: ignore[method-assign]
    Table.query = scoped_query  # type: ignore[method-assign]


_WHOLE_TABLE = object()


def _exit_when_parent_goes() -> None:
    try:
        while sys.stdin.buffer.read(4096):
            pass
    finally:
        os._exit(0)


def main() -> None:
    # Ctrl-C in a terminal reaches the whole process group: the parent must get to
    # flush its last writes first, so only the parent's say (stdin closing) stops us.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # In memory only, no outbound calls, quiet.
    os.environ.setdefault("MOTO_CALL_RESET_API", "false")
    logging.basicConfig(level=logging.ERROR)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from waitress.server import BaseWSGIServer, create_server

    _queries_without_sorting_the_table()

    app = DomainDispatcherApplication(create_backend_app)
    # waitress keeps HTTP/1.1 connections alive, as DynamoDB does. werkzeug's server
    # (moto's default) closes every connection after one response, and the SDK then
    # pays a TCP connect per request: about a third of its CPU per request.
    server = create_server(_serialised(app), host="127.0.0.1", port=0, threads=4, ident="snaketron-embedded")
    threading.Thread(target=_exit_when_parent_goes, name="parent-watch", daemon=True).start()
    assert isinstance(server, BaseWSGIServer)  # one host: one listening socket
    sys.stdout.write(f"PORT {server.getsockname()[1]}\n")
    sys.stdout.flush()
    server.run()


if __name__ == "__main__":
    main()
