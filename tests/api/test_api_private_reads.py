"""An attacker's review of the read endpoints of issues 20 and 21, over real HTTP
against the embedded endpoint: revoked tokens, token error texts, private games in
public histories, and offsets that force long reads (RELIABILITY.md, "Attacks on
leaderboards, profiles and replays")."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import time

import msgspec
from test_api_replays import DAY_S, duel_plan, finished_game, store_finished

from snaketron.engine import SOLO
from snaketron.leaderboard.recorder import LeaderboardRecorder
from snaketron.replays.api import MAX_REPLAY_TICKS, REPLAYS_SENT_AT_ONCE
from snaketron.replays.store import ReplayStore, ReplaySummary
from support.accounts import account
from support.game_results import duel, now_ms, player, result, solo
from support.replay_games import Plan, circling_game


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_revoked_token_opens_no_private_game_and_no_rank(api) -> None:
    # Before: the new routes checked the token's signature only, so a token ended by
    # logout-all or a password change still opened its owner's private games.
    game, _ = await finished_game(api.db, Plan(SOLO, 1, 0, 8, (2,), (0,), 0, None), private=False, mode="solo")
    await account(api.db, 100, "bot0")
    old = api.tokens.issue(100, "bot0")
    status, _, _ = await api.get(f"/api/games/{game.game_id}", headers=bearer(old))
    assert status == 200
    status, _, _ = await api.post("/api/auth/logout-all", headers=bearer(old))
    assert status == 204
    for path in (f"/api/games/{game.game_id}", f"/api/games/{game.game_id}/replay", "/api/leaderboard/me"):
        status, body, _ = await api.get(path, headers=bearer(old))
        assert (status, body) == (401, {"error": "invalid token"}), path
    fresh = api.tokens.issue(100, "bot0", generation=1)  # what logging in again hands out
    started = time.perf_counter()
    status, body, _ = await api.get(f"/api/games/{game.game_id}/replay", headers=bearer(fresh))
    assert status == 200 and body["game_id"] == game.game_id
    print(f"owner's replay with a fresh token: {1000 * (time.perf_counter() - started):.0f} ms")


async def test_token_errors_on_the_new_routes_say_invalid_token_only(api) -> None:
    # Before: "Invalid token: undecodable: DecodeError" (issue 17 asks for nothing more
    # than "invalid token").
    _, alice, _ = await api.register("alice")
    for path in ("/api/leaderboard/me", "/api/games/7", "/api/players/alice/games"):
        status, body, _ = await api.get(path, headers=bearer("garbage"))
        assert (status, body) == (401, {"error": "invalid token"}), path
    status, _, _ = await api.get("/api/leaderboard/me", headers=bearer(alice["token"]))
    assert status == 200


async def test_private_games_stay_out_of_other_peoples_view_of_a_history(api) -> None:
    # Before: every game was listed to anyone, with its players' names: who played
    # whom in a private lobby, and every solo game (both hidden as summaries/replays).
    _, alice, _ = await api.register("alice")
    _, bob, _ = await api.register("bob")
    _, carol, _ = await api.register("carol")
    a, b, c = alice["user"]["id"], bob["user"]["id"], carol["user"]["id"]
    rec = LeaderboardRecorder(api.db.client, api.db.tables.main, season_months=1)
    start = now_ms()
    public = duel(player(a, 1, username="alice"), player(b, 2, username="bob"), end_ms=start, game_id=700_001)
    lobby = dataclasses.replace(
        result("duel", [player(a, 1, username="alice"), player(c, 2, username="carol")], end_ms=start + 1),
        game_id=700_002,
        kind="custom",
        rated=False,
        is_private=True,
    )
    await rec.record(public)
    await rec.record(lobby)
    await rec.record(solo(a, 12, end_ms=start + 2))

    def ids(page) -> list[int]:
        return [g["gameId"] for g in page["games"]]

    status, page, _ = await api.get("/api/players/alice/games")
    assert status == 200 and ids(page) == [700_001]
    _, page, _ = await api.get("/api/players/alice/games", headers=bearer(bob["token"]))
    assert ids(page) == [700_001]
    _, page, _ = await api.get("/api/players/alice/games", headers=bearer(alice["token"]))
    assert len(page["games"]) == 3 and ids(page)[1:] == [700_002, 700_001]
    _, page, _ = await api.get("/api/players/carol/games", headers=bearer(carol["token"]))
    assert ids(page) == [700_002]
    _, page, _ = await api.get("/api/players/carol/games")
    assert page["games"] == []


async def test_an_offset_past_the_browsable_top_is_refused_before_any_read(api) -> None:
    # Before: offset up to 10,000,000; inside one crowded rating bucket the page read
    # every entry before it (offset 10,000: 7.5 s of the embedded endpoint, 19,900: 503).
    status, body, _ = await api.get("/api/leaderboard", params={"game_type": "solo", "offset": "1001"})
    assert status == 400 and "offset must be an integer from 0 to 1000" in body["error"]
    status, body, _ = await api.get("/api/leaderboard", params={"game_type": "solo", "offset": "1000"})
    assert status == 200 and body["entries"] == []


async def test_a_replay_too_long_to_serve_whole_is_refused_before_re_simulation(api) -> None:
    # Before: any length was re-simulated and sent whole, ~950 bytes of memory a tick
    # (a day-long game: ~800 MB a request). The stored recording says how long it was.
    game, _ = await finished_game(api.db, duel_plan(21), private=False)
    recording = game.recording()
    assert recording is not None
    ReplayStore(api.db, ttl_seconds=DAY_S).save(
        msgspec.structs.replace(recording, final_tick=MAX_REPLAY_TICKS + 1),
        ReplaySummary(is_private=False, ended_at_ms=0),
    )
    await api.db.flush()
    status, body, _ = await api.get(f"/api/games/{game.game_id}/replay")
    assert status == 409 and f"at most {MAX_REPLAY_TICKS}" in body["error"]
    status, summary, _ = await api.get(f"/api/games/{game.game_id}")
    assert status == 200 and summary["replay_available"] is True


async def test_the_last_representable_season_is_a_400_not_a_500(api) -> None:
    # Before: season=9999-12 ended in year 10000, past datetime: 500 on both routes.
    _, alice, _ = await api.register("alice")
    for path in ("/api/leaderboard", "/api/leaderboard/me"):
        for season in ("9999-12", "9998-12"):
            status, body, _ = await api.get(path, params={"season": season}, headers=bearer(alice["token"]))
            assert status == 400 and "season must be" in body["error"], (path, season)
    status, _, _ = await api.get("/api/leaderboard", params={"season": "2026-12"})
    assert status == 200


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


async def test_clients_that_never_read_a_long_replay_cost_one_copy_and_are_dropped(start_api_server) -> None:
    # Before: each request built and held its own whole body until the client read it;
    # 60 unread requests for one 15-minute game grew `snaketron serve` by 880 MB.
    api = await start_api_server(http_idle_timeout_seconds=1.0)
    game = circling_game(30_000)
    await store_finished(api.db, game, private=False, mode="custom")
    async with api.http.get(f"{api.url}/api/games/{game.game_id}/replay") as response:
        assert response.status == 200
        body = await response.read()
    assert msgspec.json.decode(body)["final_tick"] == game.tick
    host, port = api.url.removeprefix("http://").split(":")
    before = rss_bytes()
    stalled = []
    for _ in range(REPLAYS_SENT_AT_ONCE):
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(f"GET /api/games/{game.game_id}/replay HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        await writer.drain()
        stalled.append((reader, writer))
        await reader.readuntil(b"\r\n\r\n")  # the head came; the body waits for us to read
    status, answer, response = await api.get(f"/api/games/{game.game_id}/replay")
    assert status == 503 and "Retry-After" in response.headers, answer
    grown = rss_bytes() - before
    print(f"{len(body)} B a replay; {len(stalled)} unread requests grew the process by {grown / 2**20:.1f} MB")
    assert grown < 3 * len(body)

    # A stalled client holds its slot at most the idle timeout: then it is dropped
    # and the next request is served (nothing to await but the answers changing).
    async def served() -> None:
        # No event says "the server dropped a client"; only its answers show it.
        while (await api.get(f"/api/games/{game.game_id}/replay"))[0] == 503:  # noqa: ASYNC110
            await asyncio.sleep(0.2)

    await asyncio.wait_for(served(), 10)
    for reader, writer in stalled:
        received = 0
        with contextlib.suppress(ConnectionError):
            while chunk := await reader.read(2**16):
                received += len(chunk)
        assert received < len(body)  # cut off, not sent whole
        writer.close()
