"""The readable (console) log of a block, as `snaketron serve` writes it by default."""

from __future__ import annotations

import contextlib
import io
import logging
import sys
from collections.abc import Iterator

import pytest
import structlog

from snaketron.logs import configure_logging


@contextlib.contextmanager
def console_log(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """Log to a string in the console format for the block; logging as it was after."""
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        configure_logging("info", json=False)
        yield stream
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        structlog.reset_defaults()
