"""ReplayStore against the embedded DynamoDB endpoint: save, read back, pieces, TTL."""

from __future__ import annotations

import msgspec
import pytest

from snaketron.db.codec import from_item, to_item
from snaketron.engine import SOLO, replay_events, type_free_for_all, type_team_match
from snaketron.replays.codec import ReplayCorrupt, decode_recording, encode_recording
from snaketron.replays.store import ReplayStore, ReplaySummary
from snaketron.rooms.result import GameResult
from support.replay_games import Plan, play

NOW_MS = 1_800_000_000_000
DAY_S = 86_400


class Clock:
    def __init__(self) -> None:
        self.ms = NOW_MS

    def __call__(self) -> int:
        return self.ms


def duel(seed: int = 1, max_ticks: int = 400):
    game, live, _ = play(Plan(type_team_match(1), 2, 0, seed, (1, 2), (0, 4, -1), 0, None), max_ticks)
    recording = game.recording()
    assert recording is not None
    return recording, live


async def test_a_saved_replay_reads_back_and_replays_the_game(db) -> None:
    clock = Clock()
    store = ReplayStore(db, ttl_seconds=30 * DAY_S, clock_ms=clock)
    recording, live = duel()
    await store.save(recording, ReplaySummary(is_private=False, ended_at_ms=NOW_MS))
    stored = await store.load(recording.game_id)
    assert stored is not None
    assert stored.chunks == 1
    assert stored.user_ids == [100, 101]
    assert not stored.is_private
    assert stored.recording() == recording
    assert msgspec.json.encode(replay_events(stored.recording())[1:]) == msgspec.json.encode(live)


async def test_the_item_carries_its_ttl_and_an_expired_replay_is_gone(db) -> None:
    clock = Clock()
    store = ReplayStore(db, ttl_seconds=30 * DAY_S, clock_ms=clock)
    recording, _ = duel(seed=2)
    await store.save(recording, ReplaySummary(is_private=True, ended_at_ms=NOW_MS))
    raw = await db.client.call(
        "get_item", TableName=db.tables.main, Key=to_item({"pk": f"GAME#{recording.game_id}", "sk": "REPLAY#000"})
    )
    assert from_item(raw["Item"])["ttl"] == NOW_MS // 1000 + 30 * DAY_S
    clock.ms = NOW_MS + (30 * DAY_S - 1) * 1000
    assert await store.load(recording.game_id) is not None
    clock.ms = NOW_MS + 30 * DAY_S * 1000  # DynamoDB has not deleted it yet: reads must not see it
    assert await store.load(recording.game_id) is None


async def test_a_long_game_is_stored_in_pieces_and_read_whole(db) -> None:
    game, live, _ = play(Plan(type_free_for_all(6), 6, 0, 77, (1,), (0, 3, 7, -2), 2, None), max_ticks=3000)
    recording = game.recording()
    assert recording is not None
    size = len(encode_recording(recording))
    store = ReplayStore(db, ttl_seconds=DAY_S, clock_ms=Clock(), chunk_bytes=size // 4 + 1)
    await store.save(recording, ReplaySummary(is_private=False, ended_at_ms=NOW_MS))
    stored = await store.load(recording.game_id)
    assert stored is not None
    assert stored.chunks == 4
    assert stored.size_bytes == size
    assert msgspec.json.encode(replay_events(stored.recording())[1:]) == msgspec.json.encode(live)


async def test_a_replay_missing_a_piece_is_not_there(db) -> None:
    recording, _ = duel(seed=3)
    size = len(encode_recording(recording))
    store = ReplayStore(db, ttl_seconds=DAY_S, clock_ms=Clock(), chunk_bytes=size // 2 + 1)
    await store.save(recording, ReplaySummary(is_private=False, ended_at_ms=NOW_MS))
    await db.client.call(
        "delete_item", TableName=db.tables.main, Key=to_item({"pk": f"GAME#{recording.game_id}", "sk": "REPLAY#001"})
    )
    assert await store.load(recording.game_id) is None


async def test_an_unknown_game_has_no_replay(db) -> None:
    store = ReplayStore(db, ttl_seconds=DAY_S, clock_ms=Clock())
    assert await store.load_game(424242) == (None, None)


def test_damaged_bytes_are_refused_clearly() -> None:
    recording, _ = duel(seed=4, max_ticks=50)
    data = encode_recording(recording)
    with pytest.raises(ReplayCorrupt, match="format"):
        decode_recording(b"\x09" + data[1:])
    with pytest.raises(ReplayCorrupt):
        decode_recording(data[: len(data) // 2])


def test_a_solo_or_private_result_makes_a_private_replay() -> None:
    def result(kind: str, is_private: bool) -> GameResult:
        return GameResult(
            game_id=1,
            kind=kind,
            game_type=SOLO,
            rated=False,
            is_private=is_private,
            region="local",
            server_id=1,
            start_ms=0,
            end_ms=5_000,
            end_tick=50,
            winner_user_id=None,
            abandoned=False,
            players=(),
            spectator_ids=(),
        )

    assert ReplaySummary.of_result(result("solo", False)) == ReplaySummary(is_private=True, ended_at_ms=5_000)
    assert ReplaySummary.of_result(result("custom", True)).is_private
    assert not ReplaySummary.of_result(result("matchmaking", False)).is_private
