"""Password hashing (argon2id, legacy bcrypt), tokens, and the username/password rules."""

import base64
import json
import time

import bcrypt
import jwt
import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from snaketron.auth import InvalidToken, PasswordHasher, TokenIssuer, validate_password, validate_username
from snaketron.config import Settings

SECRET = "test-secret-that-is-long-enough-for-hs256"


@pytest.fixture(scope="module")
def hasher():
    h = PasswordHasher(time_cost=1, memory_kib=8, parallelism=1)
    yield h
    h.close()


async def test_argon2id_round_trip(hasher):
    stored = await hasher.hash("correct horse")
    assert stored.startswith("$argon2id$")
    assert await hasher.verify("correct horse", stored) == (True, False)
    assert await hasher.verify("wrong horse", stored) == (False, False)


@pytest.mark.parametrize("prefix", ["$2a$", "$2b$", "$2y$"])
async def test_legacy_bcrypt_verifies_and_asks_for_rehash(hasher, prefix):
    stored = prefix + bcrypt.hashpw(b"hunter22", bcrypt.gensalt(4)).decode()[4:]
    assert await hasher.verify("hunter22", stored) == (True, True)
    assert await hasher.verify("hunter23", stored) == (False, False)


async def test_legacy_bcrypt_long_password_truncated_like_the_old_server(hasher):
    long_pw = "é" * 50  # 100 UTF-8 bytes; bcrypt saw the first 72
    stored = bcrypt.hashpw(long_pw.encode()[:72], bcrypt.gensalt(4)).decode()
    assert (await hasher.verify(long_pw, stored)).ok


async def test_other_argon2_costs_need_rehash():
    cheap = PasswordHasher(time_cost=1, memory_kib=8)
    dearer = PasswordHasher(time_cost=2, memory_kib=16)
    try:
        stored = await cheap.hash("pw123456")
        assert await dearer.verify("pw123456", stored) == (True, True)
    finally:
        cheap.close()
        dearer.close()


@pytest.mark.parametrize("stored", ["", "plaintext", "$argon2id$garbage", "$2b$04$short", "$1$md5crypt"])
async def test_unreadable_hashes_never_verify(hasher, stored):
    assert await hasher.verify("anything", stored) == (False, False)


async def test_lone_surrogate_password_is_refused_not_crashing(hasher):
    stored = await hasher.hash("abcdef")
    assert await hasher.verify("\ud800abc", stored) == (False, False)
    assert validate_password("\ud800abcdef")


async def test_unknown_user_path_spends_a_verification(hasher):
    await hasher.verify_unknown_user("whatever")  # must not raise
    assert hasher._dummy_hash is not None


def test_hasher_from_settings_uses_configured_cost():
    h = PasswordHasher.from_settings(Settings.from_env({}, argon2_time_cost=1, argon2_memory_kib=64))
    stored = h.hash_sync("abcdef")
    assert "m=64,t=1,p=1" in stored


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("bob", True),
        ("Alice_99", True),
        ("a-b_c", True),
        ("x" * 20, True),
        ("ab", False),
        ("x" * 21, False),
        ("_bob", False),
        ("bob-", False),
        ("bo b", False),
        ("bøb", False),
        ("bob!", False),
        ("", False),
    ],
)
def test_username_rules(name, ok):
    assert (validate_username(name) == []) is ok


def test_username_errors_say_what_is_wrong():
    errors = validate_username("_a")
    assert any("at least 3" in e for e in errors)
    assert any("start or end" in e for e in errors)


def test_password_rules():
    too_short = ["Password must be at least 6 characters, not counting spaces"]
    assert validate_password("123456") == []
    assert validate_password("12345") == too_short
    # Characters that do not show are not a password: spaces, tabs, NULs.
    for blank in (" " * 12, "\t" * 8, "\x00" * 10, "ab cd  e\u3000"):
        assert validate_password(blank) == too_short, repr(blank)
    assert validate_password("  a b c d e f  ") == []


# --- tokens -----------------------------------------------------------------------


def _b64(obj) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


def test_token_round_trip():
    issuer = TokenIssuer(SECRET, 3600)
    token = issuer.issue(42, "Alice")
    claims = issuer.verify(token)
    assert (claims.user_id, claims.username) == (42, "Alice")
    payload = jwt.decode(token, SECRET, algorithms=["HS256"])
    assert payload["sub"] == "42"
    assert payload["exp"] - payload["iat"] == 3600
    assert jwt.get_unverified_header(token)["alg"] == "HS256"


def test_alg_none_is_refused():
    issuer = TokenIssuer(SECRET, 3600)
    now = int(time.time())
    token = (
        _b64({"alg": "none", "typ": "JWT"})
        + "."
        + _b64({"sub": "1", "username": "a", "iat": now, "exp": now + 60})
        + "."
    )
    with pytest.raises(InvalidToken):
        issuer.verify(token)


@pytest.mark.filterwarnings("ignore::jwt.InsecureKeyLengthWarning")
def test_other_algorithm_is_refused():
    issuer = TokenIssuer(SECRET, 3600)
    now = int(time.time())
    token = jwt.encode({"sub": "1", "username": "a", "iat": now, "exp": now + 60}, SECRET, algorithm="HS512")
    with pytest.raises(InvalidToken, match="algorithm"):
        issuer.verify(token)


def test_wrong_secret_is_refused():
    token = TokenIssuer("another-secret-another-secret-123", 3600).issue(1, "a")
    with pytest.raises(InvalidToken, match="signature"):
        TokenIssuer(SECRET, 3600).verify(token)


def test_changed_sub_is_refused():
    issuer = TokenIssuer(SECRET, 3600)
    header, payload, signature = issuer.issue(1, "alice").split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = "2"
    with pytest.raises(InvalidToken, match="signature"):
        issuer.verify(f"{header}.{_b64(claims)}.{signature}")


def test_expired_token_is_refused():
    issuer = TokenIssuer(SECRET, 3600)
    token = issuer.issue(1, "a", now_s=time.time() - 3600 - 60)
    with pytest.raises(InvalidToken, match="expired"):
        issuer.verify(token)


@pytest.mark.parametrize("sub", ["abc", "-1", "1.5", "", " 1", "٣", 7])
def test_sub_must_be_an_integer_string(sub):
    now = int(time.time())
    token = jwt.encode({"sub": sub, "username": "a", "iat": now, "exp": now + 60}, SECRET, algorithm="HS256")
    with pytest.raises(InvalidToken):
        TokenIssuer(SECRET, 3600).verify(token)


@pytest.mark.parametrize("missing", ["sub", "username", "iat", "exp"])
def test_required_claims(missing):
    now = int(time.time())
    claims = {"sub": "1", "username": "a", "iat": now, "exp": now + 60}
    del claims[missing]
    token = jwt.encode(claims, SECRET, algorithm="HS256")
    with pytest.raises(InvalidToken):
        TokenIssuer(SECRET, 3600).verify(token)


@pytest.mark.parametrize("token", ["", "a.b", "a.b.c", "x" * 5000, "\ud800.a.b", "é.é.é", None, 12])
def test_garbage_tokens_are_refused(token):
    with pytest.raises(InvalidToken):
        TokenIssuer(SECRET, 3600).verify(token)


def test_issuer_needs_a_secret():
    with pytest.raises(ValueError):
        TokenIssuer("", 3600)


@hypothesis_settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=300), st.lists(st.text(max_size=60), min_size=3, max_size=3).map(".".join)))
def test_random_tokens_only_ever_raise_invalid_token(token):
    with pytest.raises(InvalidToken):
        TokenIssuer(SECRET, 3600).verify(token)
