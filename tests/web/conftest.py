"""Fixtures of the browser tests: one headless Chromium per module."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from support.browser import BrowserUnavailable, chromium


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Any]:
    try:
        async with chromium() as launched:
            yield launched
    except BrowserUnavailable as exc:
        pytest.skip(f"no headless Chromium: {exc}")
