"""`snaketron serve` refusing to start says why in one line that names the setting or
option to change, exits 2 and shows no traceback (unless --debug or debug logging)."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys

import pytest

from support.dynamo_settings import unique_prefix
from support.serve_process import default_env

SERVE_TIMEOUT_S = 90


def serve(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "snaketron.cli", *args, "serve"],
        env=default_env(**env),
        capture_output=True,
        text=True,
        timeout=SERVE_TIMEOUT_S,
    )


def assert_refused(done: subprocess.CompletedProcess[str], *names: str) -> str:
    """Exit 2, no traceback, and a last line that names every one of `names`."""
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("snaketron: "), done.stderr
    for name in names:
        assert name in last, last
    return last


@pytest.fixture
def endpoint_env(dynamo_endpoint: str) -> dict[str, str]:
    """The test endpoint, with tables of a fresh prefix created at start-up."""
    return {
        "AWS_ENDPOINT_URL_DYNAMODB": dynamo_endpoint,
        "SNAKETRON_DEV_MODE": "1",  # an explicit endpoint is production by default; secrets are not tested here
        "DYNAMODB_TABLE_PREFIX": unique_prefix(),
        "SNAKETRON_ARGON2_MEMORY_KIB": "64",
    }


async def test_a_port_in_use_names_the_setting_and_option(endpoint_env):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        done = await asyncio.to_thread(serve, {**endpoint_env, "SNAKETRON_API_PORT": port})
        last = assert_refused(done, "SNAKETRON_API_PORT", "--api-port", port)
        assert "in use" in last
        # Asked for, the traceback is there (and the same line ends it).
        debug = await asyncio.to_thread(serve, {**endpoint_env, "SNAKETRON_WS_PORT": port}, "--debug")
    assert debug.returncode == 2
    assert "Traceback" in debug.stderr and "SNAKETRON_WS_PORT" in debug.stderr.strip().splitlines()[-1]


async def test_an_unreachable_endpoint_names_the_endpoint_setting():
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{closed.getsockname()[1]}"  # bound, never listening: refused
        done = await asyncio.to_thread(
            serve, {"AWS_ENDPOINT_URL_DYNAMODB": url, "SNAKETRON_DEV_MODE": "1", "SNAKETRON_DB_DEADLINE_MS": "500"}
        )
    last = assert_refused(done, "AWS_ENDPOINT_URL_DYNAMODB", url)
    assert "not reachable" in last


async def test_missing_tables_with_creation_off_name_the_ways_out(endpoint_env):
    done = await asyncio.to_thread(serve, {**endpoint_env, "SNAKETRON_CREATE_TABLES": "0"})
    assert_refused(done, "SNAKETRON_CREATE_TABLES", "snaketron tables create", endpoint_env["DYNAMODB_TABLE_PREFIX"])


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"SNAKETRON_API_PORT": "abc"}, ("SNAKETRON_API_PORT", "'abc'", "whole number")),
        ({"SNAKETRON_WS_PORT": "70000"}, ("SNAKETRON_WS_PORT", "--ws-port", "65535")),
        ({"SNAKETRON_DEV_MODE": "maybe"}, ("SNAKETRON_DEV_MODE", "'maybe'")),
        ({"SNAKETRON_LOG_LEVEL": "loud"}, ("SNAKETRON_LOG_LEVEL", "debug, info")),
    ],
)
def test_a_bad_setting_value_names_the_variable(env, names):
    assert_refused(serve(env), *names)


def test_debug_log_level_shows_the_traceback_too():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        done = serve({"SNAKETRON_WS_PORT": str(taken.getsockname()[1]), "SNAKETRON_LOG_LEVEL": "debug"})
    assert done.returncode == 2
    assert "Traceback" in done.stderr
