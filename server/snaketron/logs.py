"""Structured logging: readable in a terminal, one JSON object per line when asked."""

from __future__ import annotations

import logging
import sys

import structlog
from aiohttp.http_exceptions import HttpProcessingError


def configure_logging(level: str = "info", json: bool = False) -> None:
    """Route structlog and the standard library's logging through one renderer."""
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        numeric = logging.INFO
    # Tracebacks without the frames' local variables: they hold user records (password
    # hashes), passwords being checked and request bytes, which a log must not keep.
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer()
        if json
        else structlog.dev.ConsoleRenderer(
            colors=sys.stderr.isatty(),
            exception_formatter=structlog.dev.RichTracebackFormatter(
                show_locals=False, color_system="truecolor" if sys.stderr.isatty() else None
            ),
        )
    )
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(numeric)
    # Third-party chatter that says nothing an operator needs at info level.
    for noisy in ("botocore", "aiobotocore", "websockets", "aiohttp.access", "urllib3", "werkzeug"):
        logging.getLogger(noisy).setLevel(max(numeric, logging.WARNING))
    server_log = logging.getLogger("aiohttp.server")
    if not any(isinstance(f, ClientGarbageFilter) for f in server_log.filters):
        server_log.addFilter(ClientGarbageFilter())


class ClientGarbageFilter(logging.Filter):
    """aiohttp logs a malformed request (a request line or header past its limits, bad
    syntax) at error level with a traceback, though it is the client's doing and
    answered 400: anyone could fill the log with 2.6 KB of traceback per request.
    Such a record becomes a one-line warning."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, HttpProcessingError) and record.levelno > logging.WARNING:
            record.msg = f"{record.getMessage()}: {type(exc).__name__} {exc.code}"
            record.args = ()
            record.exc_info = None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    return structlog.get_logger(name)
