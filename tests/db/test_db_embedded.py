"""The embedded endpoint: a child process that never outlives its parent."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

from snaketron.db import open_database
from snaketron.db.embedded import EmbeddedEndpoint
from support.dynamo_settings import make_settings

ORPHAN_SCRIPT = """
import os, signal, sys
from snaketron.db.embedded import EmbeddedEndpoint
endpoint = EmbeddedEndpoint()
endpoint.start()
print("CHILD", endpoint._process.pid, flush=True)
sys.stdin.readline()
os.kill(os.getpid(), signal.SIGKILL)  # die without any clean-up
"""


def alive(pid: int) -> bool:
    """True while `pid` runs (a zombie waiting for its reaper counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state not in ("Z", "X")


async def wait_gone(pid: int, timeout_s: float = 15.0) -> bool:
    # Nothing to await for a process that is not our child: look at /proc until it is gone.
    deadline = time.monotonic() + timeout_s
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


async def test_child_exits_when_its_parent_is_killed():
    parent = await asyncio.create_subprocess_exec(
        sys.executable, "-c", ORPHAN_SCRIPT, stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    line = b""
    while not line.startswith(b"CHILD "):  # (log lines may come first)
        line = await parent.stdout.readline()
        assert line, "the parent died before starting the endpoint"
    child_pid = int(line.split()[1])
    assert alive(child_pid)
    parent.stdin.write(b"die\n")
    await parent.stdin.drain()
    await parent.wait()
    assert await wait_gone(child_pid), "the embedded endpoint outlived its parent"


async def test_start_answer_and_stop():
    endpoint = EmbeddedEndpoint()
    url = await asyncio.to_thread(endpoint.start)
    assert url.startswith("http://127.0.0.1:") and endpoint.running
    pid = endpoint._process.pid
    await asyncio.to_thread(endpoint.stop)
    assert not endpoint.running
    assert await wait_gone(pid, timeout_s=5)


async def test_open_database_starts_the_embedded_endpoint_when_none_is_configured(capsys):
    settings = make_settings("", "embedded", embedded_db=True, create_tables=True, log_level="info")
    assert settings.effective_dynamodb_endpoint == ""
    before = set(_children())  # the session's endpoint is a child of ours too
    async with open_database(settings) as db:
        user = await db.create_user("Zed", "h", now_ms=1)
        assert (await db.get_user_by_username("zed")).user_id == user.user_id
        url = db.client.endpoint_url
        (pid,) = [p for p in set(_children()) - before if "snaketron.db.embedded_server" in _cmdline(p)]
    assert url.startswith("http://127.0.0.1:")
    assert await wait_gone(pid, timeout_s=5)
    assert "in memory only" in capsys.readouterr().out + capsys.readouterr().err


def _children() -> list[int]:
    me = str(os.getpid())
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "stat").read_text().rsplit(")", 1)[1].split()[1] == me:
                    found.append(int(entry.name))
            except (FileNotFoundError, IndexError, ProcessLookupError):
                continue
    return found


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except FileNotFoundError:
        return ""
