"""A rating carried over a season boundary, over real connections: a matched duel in one
season, then the players' first duel of the next starts from the soft reset of their
rating (once: their second duel of that season does not reset again). The server's
clock is moved across the boundary between games; nothing else is switched off."""

from __future__ import annotations

import aiohttp
import pytest
from queueing import played_duel

from snaketron import rating
from snaketron.client import GameClient
from snaketron.db.models import UserRecord
from snaketron.game_server import GameServer
from snaketron.games import wall_clock_ms
from snaketron.leaderboard.listener import LeaderboardUpdater
from snaketron.leaderboard.seasons import Season, season_at, soft_reset

BEFORE_BOUNDARY_MS = 600_000  # game one is played in the last ten minutes of its season


class MovableClock:
    """Wall time shifted to a chosen instant, ticking on at the real pace (games keep
    their tick timing); `move_to` carries the server across a season boundary."""

    def __init__(self, at_ms: int) -> None:
        self.offset_ms = at_ms - wall_clock_ms()

    def __call__(self) -> int:
        return wall_clock_ms() + self.offset_ms

    def move_to(self, at_ms: int) -> None:
        self.offset_ms = at_ms - wall_clock_ms()


@pytest.fixture
def seasons() -> tuple[Season, Season]:
    """The previous season and the current one (the API reads no future season)."""
    current = season_at(wall_clock_ms(), 1)
    return season_at(current.start_ms - 1, 1), current


@pytest.fixture
def clock(seasons) -> MovableClock:
    return MovableClock(seasons[0].end_ms - BEFORE_BOUNDARY_MS)


@pytest.fixture
async def server(start_server, clock) -> GameServer:
    return await start_server(
        clock_ms=clock,
        matcher_interval_ms=250,
        match_poll_ms=100,
        matchmade_start_delay_ms=200,
        # Players rated apart are matched at once (the windows are not what this tests),
        # and the server's own heartbeat stays fresh across the clock's jump.
        match_windows="0:1000",
        heartbeat_seconds=600,
    )


async def play_duel(server: GameServer, ann: GameClient, bob: GameClient) -> tuple[int, GameClient, GameClient]:
    """A matched duel that team 0 loses; the game id, the winner and the loser once the
    result, the ratings and the boards are written."""
    game_id, winner, loser = await played_duel(ann, bob)
    await server.rooms.wait_result(game_id, timeout_s=5)
    updater = next(x for x in server.rooms.listeners if isinstance(x, LeaderboardUpdater))
    await updater.idle()
    return game_id, winner, loser


def expected_after(winner: rating.Skill, loser: rating.Skill) -> tuple[int, int]:
    (won,), (lost,) = rating.rate([[winner], [loser]], [1, 2])
    return rating.mmr_of(won), rating.mmr_of(lost)


def skill(user: UserRecord) -> rating.Skill:
    return rating.skill_of(user.mmr, user.rating_mu, user.rating_sigma)


async def duel_board(server: GameServer, season: Season) -> dict[str, int]:
    params = {"game_type": "duel", "season": season.id}
    async with aiohttp.ClientSession(server.api_url) as http, http.get("/api/leaderboard", params=params) as response:
        body = await response.json()
    assert response.status == 200, body
    return {e["username"]: e["mmr"] for e in body["entries"]}


async def test_the_first_duel_of_a_season_starts_from_the_soft_reset_once(server, players, db, clock, seasons):
    old, new = seasons
    ann, bob = await players.new(), await players.new()

    _, winner, loser = await play_duel(server, ann, bob)
    won, lost = await db.get_user(winner.user_id), await db.get_user(loser.user_id)
    assert won.mmr > 1000 > lost.mmr
    assert won.rating_season == lost.rating_season == old.id

    clock.move_to(new.start_ms + 1_000)
    game_id, winner2, loser2 = await play_duel(server, ann, bob)
    before = {u.user_id: u for u in (won, lost)}
    reset = {uid: soft_reset(skill(u)) for uid, u in before.items()}
    # The reset is a real change here: both moved half way back toward 1000.
    assert rating.mmr_of(reset[winner.user_id]) < won.mmr and rating.mmr_of(reset[loser.user_id]) > lost.mmr
    after = {u.user_id: await db.get_user(u.user_id) for u in (winner2, loser2)}
    assert (after[winner2.user_id].mmr, after[loser2.user_id].mmr) == expected_after(
        reset[winner2.user_id], reset[loser2.user_id]
    )
    assert {u.rating_season for u in after.values()} == {new.id}
    await db.flush()
    rows = {p.user_id: p for p in (await db.get_game(game_id)).players}
    for uid in before:
        # The game's start is the reset rating: the change shown is what the game did.
        assert rows[uid].mmr_before == rating.mmr_of(reset[uid])
        assert rows[uid].mmr_after == after[uid].mmr
    new_board = await duel_board(server, new)
    assert {name: new_board[name] for name in (ann.username, bob.username)} == {
        c.username: after[c.user_id].mmr for c in (ann, bob)
    }
    old_board = await duel_board(server, old)  # the ended season's board stays as it was
    assert (old_board[winner.username], old_board[loser.username]) == (won.mmr, lost.mmr)

    # The second duel of the season starts from the rating the first one left.
    game_id, winner3, loser3 = await play_duel(server, ann, bob)
    final = {u.user_id: await db.get_user(u.user_id) for u in (winner3, loser3)}
    assert (final[winner3.user_id].mmr, final[loser3.user_id].mmr) == expected_after(
        skill(after[winner3.user_id]), skill(after[loser3.user_id])
    )
    await db.flush()
    rows = {p.user_id: p for p in (await db.get_game(game_id)).players}
    assert {uid: r.mmr_before for uid, r in rows.items()} == {uid: u.mmr for uid, u in after.items()}
