"""Running again, after an interruption, as a dry run, or against the wrong target."""

from __future__ import annotations

import asyncio

import psycopg
import pytest
from migration_runs import Legacy, migrate, scan_all, snapshot

from snaketron.db.codec import to_item
from snaketron.db.dynamo import DynamoDatabase
from snaketron.migrate.report import EntityCounts
from snaketron.migrate.runner import MigrationRefused
from support.postgres import PostgresCluster, SeedSpec, seed_legacy_data


class Interrupted(Exception):
    pass


class InterruptAfter:
    """A progress sink that stops the run once `phase` has passed `rows` rows: the
    same as the process dying there, except that the test goes on."""

    def __init__(self, phase: str, rows: int) -> None:
        self.phase, self.rows, self.seen = phase, rows, 0

    def start_phase(self, phase: str, *, total: int, completed: int) -> None:
        pass

    def advance(self, phase: str, rows: int) -> None:
        if phase == self.phase:
            self.seen += rows
            if self.seen >= self.rows:
                raise Interrupted(f"{phase} after {self.seen} rows")

    def finish_phase(self, phase: str) -> None:
        pass


async def test_a_second_run_changes_nothing_and_a_restart_rewrites_the_same(
    legacy_small: Legacy, target: DynamoDatabase
) -> None:
    first = await migrate(legacy_small.dsn, target, verify=False)
    assert first.written.users == legacy_small.seed.counts["users"]
    before = await snapshot(target)

    second = await migrate(legacy_small.dsn, target)
    assert second.ok, second.verification
    assert second.written == EntityCounts()  # nothing sent
    assert await snapshot(target) == before
    assert second.renamed == first.renamed

    # --restart forgets the checkpoints and writes every item again: same keys, same content.
    third = await migrate(legacy_small.dsn, target, restart=True, verify=False)
    assert third.written == first.written
    assert await snapshot(target) == before


async def test_an_interrupted_run_resumed_ends_with_exact_counts(legacy_small: Legacy, target: DynamoDatabase) -> None:
    seed = legacy_small.seed
    # Stop in the middle of the players, past a few checkpoints (every 100 rows).
    with pytest.raises(Interrupted):
        await migrate(legacy_small.dsn, target, progress=InterruptAfter("players", 345))
    await target.flush()
    players_so_far = sum(1 for i in await scan_all(target, target.tables.main) if str(i["sk"]).startswith("PLAYER#"))
    assert 300 <= players_so_far < seed.counts["game_players"]

    resumed = await migrate(legacy_small.dsn, target)
    game_id, user_id = map(int, resumed.resumed_from["players"].split("/"))
    assert game_id > 0 and user_id > 0
    assert resumed.written.users == 0 and resumed.written.games == 0  # finished phases are not redone
    assert resumed.written.players < seed.counts["game_players"]
    v = resumed.verification
    assert v is not None and v.ok, v
    assert v.target.players == seed.counts["game_players"]
    assert v.target.users == v.target.usernames == seed.counts["users"]
    assert v.target.games == seed.counts["games"]
    assert v.target.spectators == seed.counts["game_spectators"]
    assert v.target.lobbies == v.target.game_codes == seed.counts["live_lobbies"]


async def test_a_dry_run_writes_nothing_but_maps_everything(legacy_small: Legacy, target: DynamoDatabase) -> None:
    report = await migrate(legacy_small.dsn, target, dry_run=True)
    assert report.dry_run and report.verification is None
    assert report.written.users == legacy_small.seed.counts["users"]
    assert report.written.players == legacy_small.seed.counts["game_players"]
    assert len(report.renamed) == sum(len(ids) - 1 for ids in legacy_small.seed.case_groups.values())
    for table in (target.tables.main, target.tables.usernames, target.tables.game_codes):
        assert await scan_all(target, table) == []


async def test_a_target_with_accounts_of_a_running_server_is_refused(
    legacy_small: Legacy, target: DynamoDatabase
) -> None:
    await target.create_user("early_bird", "$argon2id$fake", now_ms=1)
    with pytest.raises(MigrationRefused, match="collide"):
        await migrate(legacy_small.dsn, target)
    assert len(await scan_all(target, target.tables.usernames)) == 1


async def test_verification_finds_changed_and_missing_items(legacy_small: Legacy, target: DynamoDatabase) -> None:
    report = await migrate(legacy_small.dsn, target, verify=False)
    assert report.written.players > 0
    # Damage the target behind the migration's back: every user's MMR, and one player.
    items = await scan_all(target, target.tables.main)
    damage = [
        await target.writer.put(target.tables.main, to_item({**item, "mmr": item["mmr"] + 1}))
        for item in items
        if str(item["pk"]).startswith("USER#")
    ]
    player = next(i for i in items if str(i["sk"]).startswith("PLAYER#"))
    damage.append(await target.writer.delete(target.tables.main, to_item({"pk": player["pk"], "sk": player["sk"]})))
    await asyncio.gather(*damage)
    checked = await migrate(legacy_small.dsn, target, verify_only=True)
    assert not checked.ok
    mismatches = checked.verification.mismatches  # type: ignore[union-attr]
    assert {(m.entity, m.field) for m in mismatches} >= {("user", "mmr"), ("players", "count")}
    assert checked.written.users == 0  # verification only: nothing written


async def test_changed_legacy_names_stop_a_resume(pg_cluster: PostgresCluster, target: DynamoDatabase) -> None:
    dsn = pg_cluster.create_database("legacy_changing")
    seed_legacy_data(dsn, SeedSpec(users=300, games=50, lobbies=4))
    await migrate(dsn, target, verify=False)
    with psycopg.connect(dsn) as conn:
        # A newer account whose name equals an existing one but for case: it must be renamed,
        # and with it the plan the first run wrote.
        conn.execute(
            "INSERT INTO users (username, password_hash, mmr, created_at)"
            " SELECT upper(username), 'x', 1, now() FROM users WHERE username LIKE 'player%' ORDER BY id LIMIT 1"
        )
    with pytest.raises(MigrationRefused, match="--restart"):
        await migrate(dsn, target)
    # Starting over with the new plan is allowed and ends verified.
    report = await migrate(dsn, target, restart=True)
    assert report.ok, report.verification
    assert any(r.old_username.startswith("PLAYER") for r in report.renamed)
