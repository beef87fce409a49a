"""`snaketron serve` on a fresh machine: the embedded default, where to connect, a clean stop."""

from __future__ import annotations

import re
import urllib.request

from support.serve_process import serve_process, stop_cleanly


def test_serve_starts_on_the_embedded_default_and_stops_cleanly():
    with serve_process() as process:
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
        stop_cleanly(process)
