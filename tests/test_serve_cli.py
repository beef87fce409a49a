"""`snaketron serve` on a fresh machine: the embedded default, where to connect, a clean stop;
and the settings it refuses to start with (issue 17: secure by default)."""

from __future__ import annotations

import re
import subprocess
import sys
import urllib.request

from support.serve_process import default_serve, serve_process, stop_cleanly


def test_serve_starts_on_the_embedded_default_and_stops_cleanly():
    with default_serve() as (process, text):
        assert "data lives in memory only" in text
        assert "DEVELOPMENT mode (embedded endpoint, loopback bind)" in text  # the banner says so
        api = re.search(r"HTTP API\s+(http://\S+)/api", text).group(1)
        assert re.search(r"WebSocket\s+ws://127\.0\.0\.1:\d+/ws", text)
        with urllib.request.urlopen(api + "/api/health", timeout=10) as response:
            assert response.status == 200
        stop_cleanly(process)


def refusal(**settings: str) -> str:
    """Run `snaketron serve` with these settings; it must exit 2 at once with one line."""
    with serve_process(**settings) as process:
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 2, output
    assert output.count("\n") == 1 and "Traceback" not in output, output
    assert "SnakeTron is up" not in output
    return output


def test_serve_refuses_a_public_bind_or_a_real_endpoint_without_strong_secrets():
    strong = "0123456789abcdef0123456789abcdef"
    for settings in (
        {"SNAKETRON_HOST": "0.0.0.0"},
        {"AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:9"},  # LocalStack or DynamoDB: real data
        {"SNAKETRON_HOST": "0.0.0.0", "SNAKETRON_JWT_SECRET": "x", "SNAKETRON_CLUSTER_SECRET": strong},
    ):
        message = refusal(**settings)
        assert "SNAKETRON_JWT_SECRET" in message and "snaketron secret" in message, message
        assert "SNAKETRON_DEV_MODE=1" in message
    assert "SNAKETRON_CLUSTER_SECRET" in refusal(SNAKETRON_HOST="0.0.0.0", SNAKETRON_JWT_SECRET=strong)


def test_serve_refuses_the_embedded_endpoint_when_development_mode_is_off():
    strong = "0123456789abcdef0123456789abcdef"
    message = refusal(SNAKETRON_DEV_MODE="0", SNAKETRON_JWT_SECRET=strong, SNAKETRON_CLUSTER_SECRET=strong)
    assert "embedded" in message and "AWS_ENDPOINT_URL_DYNAMODB" in message


def test_secret_prints_a_fresh_strong_secret():
    from snaketron.config import MIN_SECRET_BYTES, Settings

    made = [
        subprocess.run(
            [sys.executable, "-m", "snaketron.cli", "secret"], capture_output=True, text=True, check=True
        ).stdout.strip()
        for _ in range(2)
    ]
    assert made[0] != made[1]
    assert all(len(s.encode()) >= MIN_SECRET_BYTES and re.fullmatch(r"[A-Za-z0-9_-]+", s) for s in made)
    Settings.from_env(
        {"SNAKETRON_HOST": "0.0.0.0", "SNAKETRON_JWT_SECRET": made[0], "SNAKETRON_CLUSTER_SECRET": made[1]}
    ).check_startup()
