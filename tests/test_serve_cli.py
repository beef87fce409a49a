"""`snaketron serve` on a fresh machine: the embedded default, where to connect, a clean stop."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import urllib.request


def test_serve_starts_on_the_embedded_default_and_stops_cleanly():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SNAKETRON_", "DYNAMODB_"))}
    env.update(SNAKETRON_WS_PORT="0", SNAKETRON_API_PORT="0")
    process = subprocess.Popen(
        [sys.executable, "-m", "snaketron.cli", "serve"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        text=True,
    )
    try:
        seen = []
        for line in process.stdout:
            seen.append(line)
            if "Press Ctrl-C" in line or len(seen) > 200:
                break
        text = "".join(seen)
        assert "data lives in memory only" in text
        api = re.search(r"HTTP API\s+(http://\S+)/api", text).group(1)
        assert re.search(r"WebSocket\s+ws://127\.0\.0\.1:\d+/ws", text)
        with urllib.request.urlopen(api + "/api/health", timeout=10) as response:
            assert response.status == 200
        process.send_signal(signal.SIGTERM)
        rest, _ = process.communicate(timeout=30)
        assert process.returncode == 0, rest
        assert "server stopped" in rest
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
