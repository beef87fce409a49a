"""The browser client is served by the HTTP API app: the page, every module it loads,
and the WebSocket URL it must connect to. Real HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from yarl import URL

from snaketron.config import Settings
from snaketron.web_client import STATIC_ROOT, WEB_ROOT, add_web_routes
from support.log_capture import console_log

IMPORT = re.compile(r"""(?:^|\n)\s*(?:import|export)\s[^;]*?\sfrom\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']""")
ASSET = re.compile(r"""(?:src|href)=["']([^"']+)["']""")
EXTERNAL_URL = re.compile(r"""\b(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}""", re.IGNORECASE)


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


@pytest.fixture
async def web_server() -> AsyncIterator[Callable]:
    runners: list[web.AppRunner] = []

    async def start(settings: Settings, **kwargs) -> str:
        app = web.Application()
        add_web_routes(app, settings, **kwargs)
        runner, base = await serve(app)
        runners.append(runner)
        return base

    yield start
    for runner in runners:
        await runner.cleanup()


async def fetch(url: str | URL, **kwargs) -> tuple[int, dict, bytes]:
    async with aiohttp.ClientSession() as session, session.get(url, **kwargs) as response:
        return response.status, dict(response.headers), await response.read()


async def test_index_is_the_page_with_module_entry_and_a_strict_policy(web_server):
    base = await web_server(Settings(ws_port=8123))
    status, headers, body = await fetch(f"{base}/")
    assert status == 200
    assert headers["Content-Type"].startswith("text/html")
    assert b'<script type="module" src="static/js/main.js"></script>' in body
    policy = headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "connect-src 'self' ws://127.0.0.1:8123/ws" in policy
    assert (WEB_ROOT / "index.html").read_bytes() == body


async def test_client_config_derives_the_ws_url_from_the_host_the_browser_used(web_server):
    base = await web_server(Settings(ws_port=8123))
    status, headers, body = await fetch(f"{base}/client-config.json")
    assert status == 200
    assert headers["Content-Type"].startswith("application/json")
    assert body == b'{"ws_url":"ws://127.0.0.1:8123/ws","api_url":""}'
    # Reached under another name (a LAN address, a hostname): the WebSocket follows it.
    _, _, body = await fetch(f"{base}/client-config.json", headers={"Host": "snakes.test:3001"})
    assert body == b'{"ws_url":"ws://snakes.test:8123/ws","api_url":""}'
    _, _, body = await fetch(f"{base}/client-config.json", headers={"Host": "[::1]:3001"})
    assert body == b'{"ws_url":"ws://[::1]:8123/ws","api_url":""}'


async def test_client_config_prefers_the_public_urls_and_the_bound_port(web_server):
    public = Settings(public_ws_url="wss://play.example.org/ws", public_api_url="https://api.example.org")
    base = await web_server(public)
    _, headers, body = await fetch(f"{base}/client-config.json")
    assert body == b'{"ws_url":"wss://play.example.org/ws","api_url":"https://api.example.org"}'
    _, headers, _ = await fetch(f"{base}/")
    assert "connect-src 'self' wss://play.example.org/ws https://api.example.org" in headers["Content-Security-Policy"]

    # A server bound on port 0 tells the routes its real port, even after they were added.
    bound = {"port": 0}
    base = await web_server(dataclasses.replace(Settings(), ws_port=0), ws_port=lambda: bound["port"])
    bound["port"] = 45678
    _, _, body = await fetch(f"{base}/client-config.json")
    assert body == b'{"ws_url":"ws://127.0.0.1:45678/ws","api_url":""}'


# Host headers a browser never sends: a port out of range or not a number, and names
# no URL may hold. Each used to be a 500 with ~12 KB of traceback at error level.
BAD_HOSTS = ("x:99999", "x:abc", "x:1:2", "a b", 'evil"><script>', "x/y")


async def raw_get(port: int, path: str, host: str) -> tuple[int, bytes]:
    """One request with exactly this Host header (an HTTP client library would check it)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        head, _, body = (await reader.read()).partition(b"\r\n\r\n")
    finally:
        writer.close()
    return int(head.split(b" ", 2)[1]), body


async def test_a_malformed_host_header_is_a_400_and_one_warning_line(server, monkeypatch):
    """On the server `snaketron serve` runs: the page and its config read the Host
    header to tell the browser where the WebSocket is."""
    with console_log(monkeypatch) as stream:
        for host in BAD_HOSTS:
            for path in ("/", "/client-config.json"):
                status, body = await raw_get(server.api_port, path, host)
                assert (status, body) == (400, b"Bad Request: the Host header is not a valid host[:port]"), (host, path)
        # A well-formed name (not the server's own) is still followed, as before.
        status, body = await raw_get(server.api_port, "/client-config.json", "snakes.test:3001")
        assert status == 200 and f"ws://snakes.test:{server.ws_port}/ws".encode() in body
    log = stream.getvalue()
    assert "Traceback" not in log and "error" not in log, log[:2000]
    warnings = [line for line in log.splitlines() if "bad Host header" in line]
    assert len(warnings) == 2 * len(BAD_HOSTS) and all("warning" in line for line in warnings), log[:2000]
    assert len(log.splitlines()) <= len(warnings) + 2, log[:2000]  # nothing else per request
    print(f"{len(log) / len(warnings):.0f} bytes of log per malformed Host header")


def local_references(path: Path, text: str) -> list[str]:
    if path.suffix == ".html":
        return ASSET.findall(text)
    if path.suffix == ".js":
        return [a or b for a, b in IMPORT.findall(text)]
    return []


async def test_every_asset_the_page_loads_is_served_with_the_right_type(web_server):
    """Crawl from index.html through every ES module import: nothing missing, nothing
    external (no CDN), JavaScript served as JavaScript (browsers refuse modules otherwise)."""
    base = await web_server(Settings())
    seen: dict[str, str] = {}
    queue = [(URL(f"{base}/"), WEB_ROOT / "index.html")]
    while queue:
        url, path = queue.pop()
        if str(url) in seen:
            continue
        status, headers, body = await fetch(url)
        assert status == 200, f"{url} -> {status}"
        seen[str(url)] = headers["Content-Type"]
        text = body.decode()
        # An XML namespace is a name, not something the browser fetches.
        assert not EXTERNAL_URL.search(re.sub(r'xmlns="[^"]*"', "", text)), f"{url} refers to an external URL"
        for reference in local_references(path, text):
            target = url.join(URL(reference))
            assert target.host == "127.0.0.1", f"{url}: {reference} is not served by this server"
            queue.append((target, STATIC_ROOT / Path(target.path).relative_to("/static")))
    types = {url.rsplit("/", 1)[-1]: kind for url, kind in seen.items()}
    assert types["main.js"].startswith("text/javascript") or types["main.js"].startswith("application/javascript")
    assert all("javascript" in kind for name, kind in types.items() if name.endswith(".js"))
    assert types["style.css"].startswith("text/css")
    # The page really loads the whole client: the rules, the prediction, the screens.
    loaded = set(types)
    assert {"rules.js", "prediction.js", "protocol.js", "connection.js", "render.js", "game.js", "lobby.js"} <= loaded
    # ...and every module on disk is reachable (no dead file shipped).
    on_disk = {p.name for p in (STATIC_ROOT / "js").rglob("*.js")}
    assert on_disk <= loaded


async def test_paths_outside_the_static_folder_are_not_served(web_server):
    base = await web_server(Settings())
    for raw in ("/static/../web_client.py", "/static/%2e%2e/web_client.py", "/static/js/../../../config.py"):
        status, _, body = await fetch(URL(f"{base}{raw}", encoded=True))
        assert status in (403, 404), raw
        assert b"Settings" not in body
    status, _, _ = await fetch(f"{base}/static/js/missing.js")
    assert status == 404
    status, headers, _ = await fetch(f"{base}/static/js/rules.js")
    assert status == 200
    assert headers["Cache-Control"] == "no-cache"
    assert headers["X-Content-Type-Options"] == "nosniff"


async def test_the_page_is_served_next_to_the_account_api(settings, db):
    """On the real API app: the page, its config and /api/* side by side."""
    from snaketron.auth import PasswordHasher, TokenIssuer
    from snaketron.http_api import create_api_app, start_api

    settings = dataclasses.replace(settings, ws_port=8999)
    app = create_api_app(
        settings, db, TokenIssuer(settings.effective_jwt_secret(), 60), PasswordHasher(time_cost=1, memory_kib=8)
    )
    add_web_routes(app, settings)
    runner, port = await start_api(app, "127.0.0.1", 0)
    try:
        base = f"http://127.0.0.1:{port}"
        status, _, body = await fetch(f"{base}/")
        assert status == 200 and b"SnakeTron" in body
        _, _, body = await fetch(f"{base}/client-config.json")
        assert body == b'{"ws_url":"ws://127.0.0.1:8999/ws","api_url":""}'
        status, _, _ = await fetch(f"{base}/api/health")
        assert status == 200
        status, _, body = await fetch(f"{base}/api/nothing-here")
        assert status == 404 and body.startswith(b"{")
    finally:
        await runner.cleanup()


def test_every_element_the_scripts_look_up_is_in_the_page():
    """The screens find their elements by id: a renamed id would only fail in a browser."""
    page_ids = set(re.findall(r'\sid="([^"]+)"', (WEB_ROOT / "index.html").read_text()))
    looked_up = set()
    for script in (STATIC_ROOT / "js").rglob("*.js"):
        looked_up |= set(re.findall(r'byId\("([^"]+)"\)', script.read_text()))
    assert looked_up, "no lookups found: the pattern no longer matches the scripts"
    assert looked_up - page_ids == set()
    # Every form control the lobby settings read is in the settings form.
    form = re.search(r'<form id="lobby-settings".*?</form>', (WEB_ROOT / "index.html").read_text(), re.S).group(0)
    names = set(re.findall(r'name="([^"]+)"', form))
    assert names == {
        "game_mode",
        "max_players",
        "arena_width",
        "arena_height",
        "tick_duration_ms",
        "snake_start_length",
        "food_spawn_rate",
        "is_private",
        "allow_spectators",
    }
