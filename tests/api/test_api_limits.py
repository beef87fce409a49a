"""Rate limits, login lockouts, CORS, unknown routes and health over real HTTP."""

import asyncio
import uuid

from aiohttp.test_utils import make_mocked_request

from snaketron.http_api import client_address


def fresh_name() -> str:
    return f"L{uuid.uuid4().hex[:12]}"


def from_address(address: str) -> dict:
    return {"headers": {"X-Forwarded-For": f"203.0.113.250, {address}"}}


async def test_rate_limit_per_address_and_endpoint(start_api_server):
    api = await start_api_server(api_rate_per_min=3, trust_forwarded_for=True)
    check = {"username": fresh_name()}
    for _ in range(3):
        assert (await api.post("/api/auth/check-username", check, **from_address("10.1.0.1")))[0] == 200
    status, body, resp = await api.post("/api/auth/check-username", check, **from_address("10.1.0.1"))
    assert status == 429
    assert body == {"error": "Too many requests, try again later"}
    assert int(resp.headers["Retry-After"]) == 20  # one token per 20 s at 3/min
    # Other addresses and the other endpoints keep their own budgets.
    assert (await api.post("/api/auth/check-username", check, **from_address("10.1.0.2")))[0] == 200
    assert (await api.register(fresh_name(), **from_address("10.1.0.1")))[0] == 200
    # Refill follows the (injected) clock.
    api.clock.now += 20
    assert (await api.post("/api/auth/check-username", check, **from_address("10.1.0.1")))[0] == 200
    assert (await api.post("/api/auth/check-username", check, **from_address("10.1.0.1")))[0] == 429


async def test_login_and_register_are_rate_limited(start_api_server):
    api = await start_api_server(api_rate_per_min=2, login_max_failures=0)
    assert [(await api.login(fresh_name(), "whatever"))[0] for _ in range(3)] == [401, 401, 429]
    assert [(await api.register(fresh_name()))[0] for _ in range(3)] == [200, 200, 429]


async def test_forwarded_for_is_ignored_unless_trusted(start_api_server):
    api = await start_api_server(api_rate_per_min=1)
    check = {"username": fresh_name()}
    assert (await api.post("/api/auth/check-username", check, **from_address("10.2.0.1")))[0] == 200
    # A client cannot buy a fresh budget by claiming another address.
    assert (await api.post("/api/auth/check-username", check, **from_address("10.2.0.2")))[0] == 429


async def test_failed_logins_make_the_address_wait_for_every_account(start_api_server):
    api = await start_api_server(
        login_max_failures=3, login_address_max_failures=3, login_backoff_seconds=60, trust_forwarded_for=True
    )
    names = [fresh_name() for _ in range(4)]
    for name in names:
        await api.register(name, "right-pass")
    # One failure on each of three accounts from one address: the address waits.
    for name in names[:3]:
        assert (await api.login(name, "wrong-pass", **from_address("10.4.0.1")))[0] == 401
    assert (await api.login(names[3], "right-pass", **from_address("10.4.0.1")))[0] == 429
    assert (await api.login(names[3], "right-pass", **from_address("10.4.0.2")))[0] == 200
    api.clock.now += 60
    assert (await api.login(names[3], "right-pass", **from_address("10.4.0.1")))[0] == 200


async def test_unknown_usernames_count_towards_the_wait(start_api_server):
    api = await start_api_server(login_max_failures=2, login_backoff_seconds=60)
    ghost = fresh_name()
    assert [(await api.login(ghost, "x"))[0] for _ in range(3)] == [401, 401, 429]


async def test_success_resets_the_account_count(start_api_server):
    api = await start_api_server(login_max_failures=3, trust_forwarded_for=True)
    name = fresh_name()
    await api.register(name, "right-pass")
    for round_ in range(3):
        address = from_address(f"10.5.{round_}.1")
        assert (await api.login(name, "wrong-pass", **address))[0] == 401
        assert (await api.login(name, "wrong-pass", **address))[0] == 401
        assert (await api.login(name, "right-pass", **address))[0] == 200


async def test_parallel_brute_force_gets_exactly_max_failures_answers(start_api_server):
    api = await start_api_server(login_max_failures=3, api_rate_per_min=0)
    name = fresh_name()
    await api.register(name, "right-pass")
    attempts = [api.login(name, f"guess-{i}") for i in range(20)] + [api.login(name, "right-pass")]
    statuses = [status for status, _, _ in await asyncio.gather(*attempts)]
    # Only three wrong guesses are ever judged; everything after the lock, the right
    # password included, is refused without telling right from wrong.
    assert statuses.count(401) == 3
    assert statuses.count(200) in (0, 1)
    assert statuses.count(429) == 21 - 3 - statuses.count(200)
    if statuses.count(200) == 0:
        assert statuses[-1] == 429


async def test_cors_preflight_and_headers(api):
    async with api.http.options(
        api.url + "/api/auth/login",
        headers={
            "Origin": "https://game.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, authorization",
        },
    ) as resp:
        assert resp.status == 204
        assert resp.headers["Access-Control-Allow-Origin"] == "*"
        assert "POST" in resp.headers["Access-Control-Allow-Methods"]
        assert "authorization" in resp.headers["Access-Control-Allow-Headers"].lower()
    for call in (api.login(fresh_name(), "x"), api.get("/api/health"), api.get("/api/nope")):
        _, _, resp = await call
        assert resp.headers["Access-Control-Allow-Origin"] == "*"


async def test_unknown_api_routes_and_methods_answer_json(api):
    status, body, _ = await api.get("/api/does-not-exist")
    assert (status, body) == (404, {"error": "Not Found"})
    status, body, resp = await api.get("/api/auth/login")
    assert status == 405
    assert body == {"error": "Method Not Allowed"}
    assert "POST" in resp.headers["Allow"]


async def test_health_ok(api):
    status, body, _ = await api.get("/api/health")
    database = {"endpoint": "configured", "state": "ok", "restarts": 0, "dataLostAtMs": None}
    assert (status, body) == (200, {"status": "ok", "database": database})


def test_client_address_keys():
    def addr(remote, xff=None, trust=False):
        headers = {"X-Forwarded-For": xff} if xff else {}
        request = make_mocked_request("GET", "/", headers=headers)
        request = request.clone(remote=remote)
        return client_address(request, trust)

    assert addr("192.0.2.7") == "192.0.2.7"
    assert addr("::ffff:192.0.2.7") == "192.0.2.7"
    assert addr("2001:db8:1:2:3:4:5:6") == addr("2001:db8:1:2:ffff::1") == "2001:db8:1:2::/64"
    assert addr("192.0.2.7", "10.0.0.1, 10.0.0.2") == "192.0.2.7"
    assert addr("192.0.2.7", "10.0.0.1, 10.0.0.2", trust=True) == "10.0.0.2"
    assert addr("192.0.2.7", "not-an-ip", trust=True) == "192.0.2.7"
    assert addr("fe80::1%eth0") == "fe80::/64"
    assert addr(None) == "unknown"
