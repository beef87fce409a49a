"""Headless Chromium for the end-to-end tests: Debian's `chromium` package driven by
Playwright (never a browser build downloaded by Playwright: the machine's network
reaches package registries only).

`ensure_chromium()` returns the browser's path, installing the package when it is
missing and this process may (root with apt-get): `apt-get update` once, then
`apt-get install -y chromium`. One attempt per machine: an flock serialises parallel
test sessions, and a marker file remembers a failed attempt so later runs skip at
once with its reason instead of retrying a slow install. `BrowserUnavailable` says
why the browser cannot be had; the tests turn it into a skip.

`chromium()` launches it headless with the flags a closed network needs (without
them Chromium waits on refused connections to update and sync services). Playwright
starts every launch on a new, empty profile directory of its own (it refuses a
`--user-data-dir` argument and passes its fresh temporary one), so no state leaks
between runs.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import os
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.async_api import Browser

CHROMIUM = Path("/usr/bin/chromium")

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)

_STATE_DIR = Path(tempfile.gettempdir())
INSTALL_LOCK = _STATE_DIR / "snaketron-chromium-install.lock"
# Holds the reason of a failed install: present means "already tried on this machine".
INSTALL_FAILED_MARKER = _STATE_DIR / "snaketron-chromium-install.failed"

# apt can take minutes on a cold cache; another apt (or a parallel session's) may hold
# dpkg's lock for a while, so wait for it instead of failing at once.
APT_TIMEOUT_S = 900
APT_LOCK_WAIT_S = 300


class BrowserUnavailable(Exception):
    """Chromium or Playwright cannot be had on this machine; the message says why."""


def _run_apt(*args: str) -> None:
    command = ["apt-get", "-o", f"DPkg::Lock::Timeout={APT_LOCK_WAIT_S}", *args]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    try:
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=APT_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired as exc:
        raise BrowserUnavailable(f"`{' '.join(command)}` did not finish within {APT_TIMEOUT_S} s") from exc
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-3:]
        raise BrowserUnavailable(f"`{' '.join(command)}` failed ({result.returncode}): {' / '.join(tail)}")


def _install_chromium() -> None:
    _run_apt("update")
    _run_apt("install", "-y", "chromium")
    if not CHROMIUM.exists():
        raise BrowserUnavailable(f"`apt-get install chromium` succeeded but {CHROMIUM} is still missing")


def ensure_chromium() -> Path:
    """The path of Debian's Chromium, installed first if missing (once per machine)."""
    if importlib.util.find_spec("playwright") is None:
        raise BrowserUnavailable("the playwright package is missing: pip install -e '.[test]'")
    if CHROMIUM.exists():
        return CHROMIUM
    # Not an install attempt (nothing to remember): this process cannot install.
    if os.geteuid() != 0:
        raise BrowserUnavailable(f"{CHROMIUM} is missing and installing it needs root: run `apt-get install chromium`")
    if shutil.which("apt-get") is None:
        raise BrowserUnavailable(f"{CHROMIUM} is missing and there is no apt-get to install Debian's chromium")
    with open(INSTALL_LOCK, "a") as lock:
        # Blocks while another session installs; afterwards its result is visible.
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if CHROMIUM.exists():
                return CHROMIUM
            if INSTALL_FAILED_MARKER.exists():
                reason = INSTALL_FAILED_MARKER.read_text().strip()
                raise BrowserUnavailable(
                    f"installing chromium already failed on this machine ({reason}); "
                    f"delete {INSTALL_FAILED_MARKER} to try again"
                )
            try:
                _install_chromium()
            except BrowserUnavailable as exc:
                INSTALL_FAILED_MARKER.write_text(str(exc))
                raise
            return CHROMIUM
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@contextlib.asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    """A headless Chromium for the duration of the block (raises BrowserUnavailable)."""
    executable = ensure_chromium()
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(executable), headless=True, args=list(CHROMIUM_FLAGS)
        )
        try:
            yield browser
        finally:
            await browser.close()
