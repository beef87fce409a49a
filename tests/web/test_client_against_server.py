"""The browser client's code against a real `snaketron serve` on 127.0.0.1.

The client's App (connection, protocol, prediction; the DOM screens replaced by
recorders) runs under node with its built-in WebSocket and plays what issue 10 asks:
sign up, a solo game to its end, a lobby created by one player and joined by code by
another, settings, start, turns crossing between players, a spectator by code, a
dropped connection that rejoins, the end seen by everyone, a quick match, and an
AccessDenied shown with its reason. The headless-browser tests add the DOM on top.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

NODE = shutil.which("node")
DRIVER = Path(__file__).parent / "js" / "live_client.mjs"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(NODE is None, reason="node is not installed: the client's code cannot run"),
    pytest.mark.skipif(
        importlib.util.find_spec("snaketron.game_server") is None,
        reason="snaketron.game_server is not in this tree yet: there is no server to play against",
    ),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def node_has_websocket() -> bool:
    probe = subprocess.run(
        [NODE, "--experimental-websocket", "-e", "process.exit(typeof WebSocket === 'function' ? 0 : 1)"],
        capture_output=True,
        timeout=30,
        check=False,
    )
    return probe.returncode == 0


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, str]]:
    api_port, ws_port = free_port(), free_port()
    env = {
        **os.environ,
        "SNAKETRON_HOST": "127.0.0.1",
        "SNAKETRON_API_PORT": str(api_port),
        "SNAKETRON_WS_PORT": str(ws_port),
        "SNAKETRON_DEV_MODE": "1",
        "SNAKETRON_LOG_LEVEL": "warning",
        # Games still running at the end need not be waited for.
        "SNAKETRON_DRAIN_GRACE_SECONDS": "1",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "snaketron.cli", "serve"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    api = f"http://127.0.0.1:{api_port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                pytest.fail(f"the server exited early:\n{process.stdout.read()}")
            try:
                with urllib.request.urlopen(f"{api}/api/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("the server did not become healthy within 60 s")
            time.sleep(0.2)
        with urllib.request.urlopen(f"{api}/client-config.json", timeout=5) as response:
            ws_url = json.load(response)["ws_url"]
        yield api, ws_url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_the_client_plays_every_flow_against_the_server(server):
    if not node_has_websocket():
        pytest.skip("this node has no WebSocket (node 20.10+ with --experimental-websocket, or 22+)")
    api, ws_url = server
    result = subprocess.run(
        [NODE, "--experimental-websocket", "--no-warnings", str(DRIVER), api, ws_url],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["ok"], f"{report.get('failure')}\nsteps done: {report['steps']}\nnotices: {report['notices']}"
    facts = report["facts"]

    # Solo: the game ran to its end and the client's prediction agreed with the server.
    assert facts["soloFinal"] == {"kind": "Complete", "winningSnakeId": None}
    assert facts["soloPredictedStatus"] == facts["soloFinal"]
    assert facts["soloMispredictions"] == 0
    assert facts["soloCommandsSent"] >= 3
    assert facts["soloTurnsConfirmed"] == facts["soloCommandsSent"]

    # Lobby, spectator, reconnect.
    assert facts["lobbyMembersSeenByBob"] == 2
    assert facts["headsMoved"] == [True, True]
    assert facts["spectatorRole"] == "spectator"
    assert facts["spectatorGameId"] == facts["playerGameId"] == facts["rejoinedGameId"]
    finals = facts["customFinal"]
    assert all(final["kind"] == "Complete" for final in finals)
    assert finals[0] == finals[1] == finals[2]

    # Quick match (placed together), or where the server has no matcher, a refusal that
    # leaves the queue screen; then an AccessDenied with its reason.
    if facts["matchmaking"] == "available":
        assert facts["matchGameIds"][0] == facts["matchGameIds"][1]
        assert facts["matchStartsInMs"] > 0  # the countdown before a matchmade game
    else:
        assert facts["screenAfterRefusal"] == "home"
    for notices in report["notices"]:
        assert sum(title == "Connection lost" for _, title, _ in notices) <= 1
    kind, title, reason = facts["deniedNotice"]
    assert kind == "error" and title == "Access denied: Join lobby" and reason
