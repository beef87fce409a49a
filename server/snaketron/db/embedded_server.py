"""The child process behind `EmbeddedEndpoint`: moto's DynamoDB on a loopback socket.

Run as `python -m snaketron.db.embedded_server --fd N`: it serves on the listening
socket N that the parent opened and handed down (the parent keeps it, so a restarted
child serves on the same port, and requests sent meanwhile wait in its backlog),
prints `READY` on stdout, and serves until its stdin closes, which happens when the
parent exits or dies: the endpoint never outlives the server that started it, and it
ignores Ctrl-C so that the server can still write its last items (status offline,
the batch writer's flush) after one.

moto's backends are not safe under concurrent requests (moto locks only the creation
of backends, not their data: a transaction's condition check and its writes can
interleave with another request's, and a read can iterate a table another request
changes), so one lock makes every request atomic, the way DynamoDB's own conditional
writes and transactions are. Connections are kept alive (waitress) and requests run
one at a time. `embedded_moto` says what else is changed in moto, and why.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any

READY = "READY"


def _serialised(app: Callable[..., Iterable[bytes]]) -> Callable[..., list[bytes]]:
    lock = threading.Lock()

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        with lock:
            # Drain the body inside the lock so the response is complete when it is released.
            return list(app(environ, start_response))

    return wsgi


def _exit_when_parent_goes() -> None:
    try:
        while sys.stdin.buffer.read(4096):
            pass
    finally:
        os._exit(0)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="The embedded DynamoDB endpoint (started by EmbeddedEndpoint).")
    parser.add_argument("--fd", type=int, required=True, help="listening socket inherited from the parent")
    args = parser.parse_args(argv)
    # Ctrl-C in a terminal reaches the whole process group: the parent must get to
    # flush its last writes first, so only the parent's say (stdin closing) stops us.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # In memory only, no outbound calls, quiet.
    os.environ.setdefault("MOTO_CALL_RESET_API", "false")
    logging.basicConfig(level=logging.ERROR)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)

    from moto.moto_server.werkzeug_app import create_backend_app
    from waitress.server import create_server

    from snaketron.db import embedded_moto

    embedded_moto.install()
    listener = socket.socket(fileno=args.fd)
    # Every request is DynamoDB's: moto's dispatcher would look the service up per
    # request (scanning its modules on disk each time), about a tenth of a GetItem.
    app = create_backend_app("dynamodb")
    # moto turns Flask's debug mode on, whose request helpers cost every request; its
    # errors are DynamoDB answers either way.
    app.debug = False
    # waitress keeps HTTP/1.1 connections alive, as DynamoDB does. werkzeug's server
    # (moto's default) closes every connection after one response, and the SDK then
    # pays a TCP connect per request: about a third of its CPU per request.
    server = create_server(_serialised(app), sockets=[listener], threads=4, ident="snaketron-embedded")
    threading.Thread(target=_exit_when_parent_goes, name="parent-watch", daemon=True).start()
    sys.stdout.write(f"{READY}\n")
    sys.stdout.flush()
    server.run()


if __name__ == "__main__":
    main()
