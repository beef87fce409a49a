"""`snaketron serve` on a fresh machine: the embedded default, where to connect, a clean stop."""

from __future__ import annotations

import re
import signal
import urllib.request

from support.default_serve import default_serve


def test_serve_starts_on_the_embedded_default_and_stops_cleanly():
    with default_serve() as (process, text):
        assert "data lives in memory only" in text
        api = re.search(r"HTTP API\s+(http://\S+)/api", text).group(1)
        assert re.search(r"WebSocket\s+ws://127\.0\.0\.1:\d+/ws", text)
        with urllib.request.urlopen(api + "/api/health", timeout=10) as response:
            assert response.status == 200
        process.send_signal(signal.SIGTERM)
        rest, _ = process.communicate(timeout=30)
        assert process.returncode == 0, rest
        assert "server stopped" in rest
