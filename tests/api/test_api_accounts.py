"""Register, login, check-username and me over real HTTP against the embedded DynamoDB."""

import asyncio
import time
import uuid

import bcrypt
import jwt

from snaketron.auth import PasswordHasher


def fresh_name(prefix: str = "u") -> str:
    return f"{prefix}{uuid.uuid4().hex[:12]}"


async def test_register_then_me_then_login(api):
    name = fresh_name("Reg")
    status, body, _ = await api.register(name, "secret1")
    assert status == 200
    assert set(body) == {"token", "user"}
    user = body["user"]
    assert user["username"] == name
    assert user["mmr"] == 1000
    assert isinstance(user["id"], int)
    claims = api.tokens.verify(body["token"])
    assert (claims.user_id, claims.username) == (user["id"], name)

    status, me, _ = await api.get("/api/auth/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert status == 200
    assert me == user

    status, body, _ = await api.login(name, "secret1")
    assert status == 200
    assert body["user"] == user
    assert api.tokens.verify(body["token"]).user_id == user["id"]

    # Names are looked up regardless of letter case; the display case is kept.
    status, body, _ = await api.login(name.upper(), "secret1")
    assert status == 200
    assert body["user"]["username"] == name


async def test_stored_hash_is_argon2id(api):
    name = fresh_name()
    _, body, _ = await api.register(name)
    stored = await api.db.get_user(body["user"]["id"])
    assert stored.password_hash.startswith("$argon2id$")
    assert "secret1" not in stored.password_hash


async def test_register_taken_name_any_case_is_409(api):
    name = fresh_name("Taken")
    assert (await api.register(name))[0] == 200
    for variant in (name, name.lower(), name.upper()):
        status, body, _ = await api.register(variant, "another1")
        assert status == 409, variant
        assert body == {"error": "Username already taken"}


async def test_register_invalid_input_is_400(api):
    cases = [
        {"username": "ab", "password": "secret1"},
        {"username": "_leading", "password": "secret1"},
        {"username": "has space", "password": "secret1"},
        {"username": "x" * 21, "password": "secret1"},
        {"username": fresh_name(), "password": "short"},
        {"username": fresh_name()},
        {"password": "secret1"},
        {"username": 123, "password": "secret1"},
        {"username": fresh_name(), "password": None},
        ["not", "an", "object"],
        "string",
        None,
    ]
    for body in cases:
        status, answer, _ = await api.post("/api/auth/register", data=_json_bytes(body))
        assert status == 400, body
        assert set(answer) == {"error"} and answer["error"], body


async def test_register_error_text_names_the_rules(api):
    status, body, _ = await api.register("-a", "123")
    assert status == 400
    assert "at least 3" in body["error"]
    assert "Password must be at least 6" in body["error"]


async def test_malformed_bodies_are_400_never_500(api):
    bodies = [
        b"",
        b"{",
        b"{'username': 'single quotes'}",
        b"\xff\xfe\x00garbage",
        b'{"username": "\\ud800abc", "password": "secret1"}',
        b'{"username": "ok_name", "password": "secret1", "x": ' + b"[" * 5000 + b"]" * 5000 + b"}",
        b'{"username": ' + b"[" * 5000 + b"]" * 5000 + b', "password": "x"}',
        b"1e999999",
    ]
    for path in ("/api/auth/register", "/api/auth/login", "/api/auth/check-username"):
        for raw in bodies:
            status, answer, _ = await api.post(path, data=raw)
            assert status == 400, (path, raw[:40])
            assert "error" in answer


async def test_huge_bodies_are_refused_with_413(start_api_server):
    api = await start_api_server(api_max_body_bytes=1024)
    big = b'{"username": "' + b"a" * 5000 + b'", "password": "secret1"}'
    status, answer, _ = await api.post("/api/auth/register", data=big)
    assert status == 413
    assert "larger than 1024" in answer["error"]

    async def chunked():  # no Content-Length: the limit must hold while streaming
        for _ in range(100):
            yield b"a" * 1000

    status, answer, _ = await api.post("/api/auth/login", data=chunked())
    assert status == 413
    # The server is fine afterwards.
    assert (await api.register(fresh_name()))[0] == 200


async def test_login_wrong_password_and_unknown_user_are_401(api):
    name = fresh_name()
    await api.register(name, "secret1")
    for username, password in ((name, "wrong-pass"), (fresh_name(), "secret1"), ("", "secret1"), ("x" * 300, "p")):
        status, body, _ = await api.login(username, password)
        assert status == 401, username
        assert body == {"error": "Invalid username or password"}


async def test_check_username(api):
    name = fresh_name("Chk")
    status, body, _ = await api.post("/api/auth/check-username", {"username": name})
    assert (status, body) == (200, {"available": True, "errors": []})
    await api.register(name)
    status, body, _ = await api.post("/api/auth/check-username", {"username": name.swapcase()})
    assert status == 200
    assert body["available"] is False
    status, body, _ = await api.post("/api/auth/check-username", {"username": "-x"})
    assert status == 200
    assert body["available"] is False
    assert len(body["errors"]) == 2


async def test_me_refuses_bad_tokens_with_401(api):
    _, body, _ = await api.register(fresh_name())
    good = body["token"]
    user_id = body["user"]["id"]
    now = int(time.time())
    claims = {"sub": str(user_id), "username": "x", "iat": now, "exp": now + 60}
    header, payload, _sig = good.split(".")
    unsigned = jwt.encode(claims, None, algorithm="none")
    bad_headers = [
        {},
        {"Authorization": good},  # no scheme
        {"Authorization": f"Basic {good}"},
        {"Authorization": "Bearer "},
        {"Authorization": "Bearer not.a.jwt"},
        {"Authorization": f"Bearer {unsigned}"},
        {"Authorization": f"Bearer {jwt.encode(claims, 'wrong-secret-wrong-secret-wrong!!', algorithm='HS256')}"},
        {"Authorization": f"Bearer {api.tokens.issue(user_id, 'x', now_s=now - 10 * 86400)}"},
        {"Authorization": f"Bearer {header}.{payload}."},  # signature stripped
    ]
    for headers in bad_headers:
        status, answer, _ = await api.get("/api/auth/me", headers=headers)
        assert status == 401, headers
        assert answer["error"]
    status, _, _ = await api.get("/api/auth/me", headers={"Authorization": f"bearer {good}"})
    assert status == 200


async def test_me_for_a_user_that_does_not_exist_is_404(api):
    token = api.tokens.issue(987_654_321_012, "ghost")
    status, body, _ = await api.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert status == 404
    assert body == {"error": "User not found"}


async def test_legacy_bcrypt_account_logs_in_and_is_upgraded(api):
    name = fresh_name("Legacy")
    legacy_hash = bcrypt.hashpw(b"old-password", bcrypt.gensalt(4)).decode().replace("$2b$", "$2y$", 1)
    user = await api.db.create_user(name, legacy_hash, mmr=1234, now_ms=int(time.time() * 1000))

    status, body, _ = await api.login(name, "wrong-password")
    assert status == 401
    assert (await api.db.get_user(user.user_id)).password_hash == legacy_hash

    status, body, _ = await api.login(name, "old-password")
    assert status == 200
    assert body["user"] == {"id": user.user_id, "username": name, "mmr": 1234}
    upgraded = (await api.db.get_user(user.user_id)).password_hash
    assert upgraded.startswith("$argon2id$")
    # The by-name copy was upgraded too: login reads it.
    assert (await api.db.get_user_by_username(name)).password_hash == upgraded
    assert (await api.login(name, "old-password"))[0] == 200
    assert (await api.login(name, "wrong-password"))[0] == 401


async def test_argon2_hash_of_an_older_cost_is_upgraded(api):
    name = fresh_name()
    older = PasswordHasher(time_cost=3, memory_kib=16)
    try:
        user = await api.db.create_user(name, older.hash_sync("pw-123456"), now_ms=0)
    finally:
        older.close()
    assert (await api.login(name, "pw-123456"))[0] == 200
    assert "m=8,t=1,p=1" in (await api.db.get_user(user.user_id)).password_hash


async def test_concurrent_registrations_of_one_name(start_api_server):
    api = await start_api_server(api_rate_per_min=0)
    base = fresh_name("Race")
    variants = [base.upper() if i % 3 == 0 else base.lower() if i % 3 == 1 else base for i in range(50)]
    results = await asyncio.gather(*(api.register(v, "secret1") for v in variants))
    statuses = sorted(status for status, _, _ in results)
    assert statuses == [200] + [409] * 49


def _json_bytes(body) -> bytes:
    import json

    return json.dumps(body).encode()
