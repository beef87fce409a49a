"""`snaketron serve` on the embedded default outlives its endpoint's process: kill the
endpoint, and the server says so at error level, restarts it with its tables, says the
data is lost, and registers players again; /api/health tells the story."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from support.serve_process import serve_process, stop_cleanly


def request(url: str, body: dict[str, Any] | None = None, token: str = "") -> tuple[int, dict[str, Any]]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data, headers=headers), timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def endpoint_children(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = (entry / "stat").read_text().rsplit(")", 1)[1].split()[1]
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        if ppid == str(parent) and "snaketron.db.embedded_server" in cmdline:
            found.append(int(entry.name))
    return found


def read_until(process: subprocess.Popen[str], marker: str, seen: list[str]) -> str:
    """The server's output up to the first line containing `marker` (it ends the wait)."""
    assert process.stdout is not None
    for line in process.stdout:
        seen.append(line)
        if marker in line:
            return line
    raise AssertionError(f"the server ended without saying {marker!r}:\n{''.join(seen)}")


AFTER = ("early0", "late1", "late2", "late3")


def test_a_killed_endpoint_is_restarted_with_its_tables_and_the_loss_is_told():
    with serve_process(SNAKETRON_ID_BLOCK_SIZE="3") as process:
        watch_the_endpoint_die_and_come_back(process)


def watch_the_endpoint_die_and_come_back(process: subprocess.Popen[str]) -> None:
    seen: list[str] = []
    read_until(process, "Press Ctrl-C", seen)
    api = re.search(r"HTTP API\s+(http://\S+/api)", "".join(seen)).group(1)
    status, health = request(api + "/health")
    assert (status, health["database"]) == (
        200,
        {"endpoint": "embedded", "state": "ok", "restarts": 0, "dataLostAtMs": None},
    )
    before = [request(api + "/auth/register", {"username": f"early{i}", "password": "secret-pw-1"}) for i in range(4)]
    assert [status for status, _ in before] == [200] * 4
    highest_id = max(body["user"]["id"] for _, body in before)

    (child,) = endpoint_children(process.pid)
    os.kill(child, signal.SIGKILL)

    died = read_until(process, "embedded dynamodb died", seen)
    assert "error" in died and str(child) in died
    lost = read_until(process, "all data it held in memory was lost", seen)
    assert "error" in lost

    # The same name again: the old account is gone with the endpoint's memory.
    after = [request(api + "/auth/register", {"username": n, "password": "secret-pw-1"}) for n in AFTER]
    assert [status for status, _ in after] == [200] * len(AFTER), after
    # Ids go on above the lost ones, past the block in hand (3 ids): an old token
    # names no new account.
    assert min(body["user"]["id"] for _, body in after) > highest_id
    for _, body in before:
        assert request(api + "/auth/me", token=body["token"])[0] == 404
    status, login = request(api + "/auth/login", {"username": "early0", "password": "secret-pw-1"})
    assert status == 200 and login["user"]["id"] == after[0][1]["user"]["id"]

    status, health = request(api + "/health")
    assert status == 200 and health["status"] == "ok"
    database = health["database"]
    assert (database["endpoint"], database["state"], database["restarts"]) == ("embedded", "ok", 1)
    assert database["dataLostAtMs"] > 0
    (new_child,) = endpoint_children(process.pid)
    assert new_child != child

    stop_cleanly(process)
