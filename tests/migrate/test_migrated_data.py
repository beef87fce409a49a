"""What a migrated deployment looks like to the new server: logins, ids, names, lobbies."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import AsyncIterator

import aiohttp
import psycopg
import pytest
from migration_runs import Migrated

from snaketron.auth import PasswordHasher, TokenIssuer, validate_username
from snaketron.db.errors import NotFound, UsernameTaken
from snaketron.http_api import create_api_app, start_api


@pytest.fixture
async def api_url(migrated: Migrated) -> AsyncIterator[str]:
    hasher = PasswordHasher(time_cost=1, memory_kib=8, parallelism=1)  # cheap: cost is not under test
    app = create_api_app(migrated.settings, migrated.db, TokenIssuer("migration-test-secret-0123456789", 3600), hasher)
    runner, port = await start_api(app, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()
        hasher.close()


def test_migration_verified_every_entity(migrated: Migrated) -> None:
    report, seed = migrated.report, migrated.legacy.seed
    assert report.ok, report.verification
    assert report.verification is not None and report.verification.sampled > 0
    written = report.written
    assert (written.users, written.usernames) == (seed.counts["users"], seed.counts["users"])
    assert written.games == seed.counts["games"]
    assert written.players == seed.counts["game_players"]
    assert written.spectators == seed.counts["game_spectators"]
    assert written.lobbies == written.game_codes == seed.counts["live_lobbies"]


async def test_migrated_user_logs_in_over_http_with_old_password_and_mmr(migrated: Migrated, api_url: str) -> None:
    renamed = {r.user_id: r.new_username for r in migrated.report.renamed}
    accounts = migrated.legacy.seed.accounts
    # A plain account, the oldest of a case group (keeps its name) and a renamed one.
    plain = next(a for a in accounts if a.username.startswith("player"))
    keeper = next(a for a in accounts if a.username == "alice")
    moved = next(a for a in accounts if a.username == "ALICE")
    # A name today's rules refuse (a space): kept, and login still finds it.
    spaced = next(a for a in accounts if a.username == "Sir Lancelot")
    logins = ((plain, plain.username), (keeper, "alice"), (moved, renamed[moved.user_id]), (spaced, "Sir Lancelot"))
    async with aiohttp.ClientSession() as http:
        for account, name in logins:
            async with http.post(
                f"{api_url}/api/auth/login", json={"username": name, "password": account.password}
            ) as resp:
                body = await resp.json()
                assert resp.status == 200, (name, body)
            assert body["user"] == {"id": account.user_id, "username": name, "mmr": account.mmr}
            headers = {"Authorization": f"Bearer {body['token']}"}
            async with http.get(f"{api_url}/api/auth/me", headers=headers) as resp:
                assert await resp.json() == {"id": account.user_id, "username": name, "mmr": account.mmr}
        # The old spelling of a renamed account now leads to the account that kept the name.
        async with http.post(
            f"{api_url}/api/auth/login", json={"username": "ALICE", "password": moved.password}
        ) as resp:
            body = await resp.json()
            assert resp.status == 401 or body["user"]["id"] == keeper.user_id


async def test_new_registrations_after_migration_get_fresh_ids(migrated: Migrated) -> None:
    seed, db = migrated.legacy.seed, migrated.db
    fresh = await db.create_user("newcomer", "$argon2id$fake", now_ms=int(time.time() * 1000))
    assert fresh.user_id > seed.max_ids["user"]
    assert await db.next_id("game") > seed.max_ids["game"]
    assert await db.next_id("server") > seed.max_ids["server"]
    # Legacy names are claimed, in any letter case.
    legacy_name = next(a.username for a in seed.accounts if a.username.startswith("player"))
    with pytest.raises(UsernameTaken):
        await db.create_user(legacy_name.upper(), "$argon2id$fake", now_ms=int(time.time() * 1000))


def test_case_collisions_keep_the_oldest_and_rename_the_rest_validly(migrated: Migrated) -> None:
    report, seed = migrated.report, migrated.legacy.seed
    renamed = {r.user_id: r for r in report.renamed}
    for ids in seed.case_groups.values():
        keeper, *others = ids  # seeded oldest first
        assert keeper not in renamed
        assert all(renamed[i].name_kept_by_user_id == keeper for i in others)
    assert len(renamed) == sum(len(ids) - 1 for ids in seed.case_groups.values())
    new_names = [r.new_username for r in report.renamed]
    assert all(validate_username(n) == [] for n in new_names)
    assert len({n.lower() for n in new_names}) == len(new_names)
    by_old = {r.old_username: r.new_username for r in report.renamed}
    # "Alice_2" is a real legacy account, so the renames skip it; long names are shortened.
    assert by_old["Alice"] == "Alice_3" and by_old["ALICE"] == "ALICE_4"
    assert by_old["twentycharactersname"] == "twentycharactersna_2"
    assert by_old["sir lancelot"] == "sir_lancelot_2"
    # Names today's rules refuse are kept and reported, not silently changed.
    assert {n.username for n in report.nonconforming_names} == {"Sir Lancelot", "x"}


async def test_renamed_accounts_are_stored_under_their_new_names(migrated: Migrated) -> None:
    for rename in migrated.report.renamed:
        user = await migrated.db.get_user_by_username(rename.new_username)
        assert (user.user_id, user.username) == (rename.user_id, rename.new_username)
        keeper = await migrated.db.get_user_by_username(rename.old_username)
        assert keeper.user_id == rename.name_kept_by_user_id


async def test_only_live_lobbies_arrive_with_their_codes_and_ttl(migrated: Migrated) -> None:
    seed, db = migrated.legacy.seed, migrated.db
    now_ms = int(time.time() * 1000)
    with psycopg.connect(migrated.legacy.dsn) as conn:
        expires = dict(conn.execute("SELECT game_code, expires_at FROM custom_game_lobbies").fetchall())
    for code in seed.live_lobby_codes:
        lobby = await db.get_lobby(code, now_ms=now_ms)
        # Legacy timestamps are UTC wall-clock times.
        assert lobby.expires_at_ms // 1000 == int(expires[code].replace(tzinfo=dt.UTC).timestamp())
        claim = await db.get_game_code(code, now_ms=now_ms)
        assert claim["gameId"] == lobby.game_id
    for code in seed.expired_lobby_codes:
        with pytest.raises(NotFound):
            await db.get_lobby(code, now_ms=now_ms)
        with pytest.raises(NotFound):
            await db.get_game_code(code, now_ms=now_ms)


async def test_game_statuses_are_mapped(migrated: Migrated) -> None:
    with psycopg.connect(migrated.legacy.dsn) as conn:
        firsts = conn.execute("SELECT DISTINCT ON (status) status, id FROM games ORDER BY status, id").fetchall()
    expected = {"waiting": "waiting", "active": "abandoned", "finished": "complete", "abandoned": "abandoned"}
    assert {status for status, _ in firsts} == set(expected)
    for status, game_id in firsts:
        game = await migrated.db.get_game(game_id)
        assert game.game.status == expected[status]
        assert game.players, f"game {game_id} lost its players"
