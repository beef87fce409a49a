"""The browser client end to end: headless Chromium (Debian's package, driven by
Playwright) against a started game server on 127.0.0.1, doing what a person does.

- sign up, play a solo game (turning with the arrow keys) until the game-over panel
  shows, play again;
- the leaderboard (game-type tabs, season picker, region filter, the player's own
  row highlighted with their exact rank) and player pages with match histories,
  reached from names on the board, in histories and in the header;
- one browser creates a lobby and changes its settings, a second joins it by code,
  they chat, the host starts, a third browser finds the game in the home screen's
  list of live games and watches it, both snakes move in all three views, and all
  three see the same result.

With SNAKETRON_SCREENSHOTS=1 the run also writes docs/home.png, docs/lobby.png and
docs/game.png, the README's screenshots.
"""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import AsyncIterator

import pytest

from snaketron.leaderboard.recorder import LeaderboardRecorder
from snaketron.leaderboard.seasons import season_at
from support.game_results import duel, now_ms, solo
from support.game_results import player as seat

pytest.importorskip("playwright", reason="the playwright package is missing: pip install -e '.[test]'")

# Both need playwright, checked just above.
from e2e_pages import ClientPage
from playwright.async_api import Browser, expect

pytestmark = pytest.mark.slow

_names = itertools.count(1)

# A solo snake turned towards the wall: the key, and which way the head then moves.
PERPENDICULAR_TURN = {"horizontal": ("ArrowUp", (0, -1)), "vertical": ("ArrowLeft", (-1, 0))}


# The lobby's game: the two snakes start at the ends of the arena, facing each other,
# and meet after about (width - 10) / 2 ticks: some 5 s at this width and tick length.
ARENA_WIDTH = 80
TICK_MS = 150


def unique_name(role: str) -> str:
    return f"{role}{next(_names)}"


@pytest.fixture
async def open_page(browser: Browser, server) -> AsyncIterator:
    """Opens the served client in a new browser context (its own storage and account);
    checks at the end that no page threw and none was told of an error."""
    opened: list[ClientPage] = []

    async def open_one(role: str) -> ClientPage:
        page = await ClientPage.open(browser, f"{server.api_url}/", unique_name(role))
        opened.append(page)
        return page

    yield open_one
    try:
        for page in opened:
            assert page.script_errors == [], f"{page.name}: uncaught script errors"
            assert await page.error_notices() == [], f"{page.name}: error notices shown"
    finally:
        for page in opened:
            await page.close()


async def test_sign_up_and_play_a_solo_game_until_it_ends(open_page):
    alice = await open_page("solo")
    await alice.sign_up()
    await expect(alice.by_test_id("play-solo")).to_be_enabled()
    await alice.screenshot("home")

    await alice.by_test_id("play-solo").click()
    await expect(alice.by_test_id("screen-game")).to_be_visible()
    start = await alice.wait_drawn(1)
    [snake] = start["snakes"]
    assert snake["name"] == alice.name and snake["mine"] and snake["alive"]
    assert start["food"] > 0
    assert (await alice.snake_pixels())[0] > 0, "the snake is not painted on the canvas"

    # Turn towards a wall with the keyboard: the drawn head follows the key.
    head, neck = snake["head"], snake["neck"]
    key, (dx, dy) = PERPENDICULAR_TURN["horizontal" if head["y"] == neck["y"] else "vertical"]
    await alice.page.keyboard.press(key)
    # The original motion is along the other axis: only the turn moves the head this way.
    await alice.page.wait_for_function(
        """([start, dx, dy]) => {
          const head = window.snaketron.screens.game.lastDrawn.view.snakes[0].body[0];
          return (head.x - start.x) * dx + (head.y - start.y) * dy > 0;
        }""",
        arg=[head, dx, dy],
    )

    title, detail = await alice.game_over()
    assert title == "Game over"
    assert re.fullmatch(r"Final length: \d+", detail)
    await expect(alice.by_test_id("game-status")).to_contain_text("Game over at tick")
    first_game = await alice.page.evaluate("() => window.snaketron.session.gameId")

    await alice.by_test_id("play-again").click()
    await expect(alice.by_test_id("game-over")).to_be_hidden()
    await alice.page.wait_for_function(
        "(first) => { const s = window.snaketron.session; return s && s.gameId !== first && s.predictor.hasState; }",
        arg=first_game,
    )
    await alice.by_test_id("leave-game").click()
    await expect(alice.by_test_id("screen-home")).to_be_visible()


async def test_a_lobby_joined_by_code_played_by_two_and_watched_by_a_third(open_page):
    host, guest, watcher = await asyncio.gather(open_page("host"), open_page("guest"), open_page("watch"))
    await asyncio.gather(host.sign_up(), guest.sign_up(), watcher.sign_up())

    code = await host.create_lobby()
    # Public, so it is listed for watchers; wide and slower, so the snakes move for a few
    # seconds before they meet.
    await host.page.fill('#lobby-settings [name="arena_width"]', str(ARENA_WIDTH))
    await host.page.fill('#lobby-settings [name="tick_duration_ms"]', str(TICK_MS))
    await host.page.uncheck('#lobby-settings [name="is_private"]')
    await host.by_test_id("lobby-apply").click()
    await expect(host.page.locator("#lobby-settings-note")).to_have_text("Settings updated.")

    await guest.join_lobby(code)
    await expect(guest.by_test_id("lobby-code")).to_have_text(code)
    await expect(guest.page.locator('#lobby-settings [name="arena_width"]')).to_have_value(str(ARENA_WIDTH))
    await expect(guest.page.locator('#lobby-settings [name="is_private"]')).not_to_be_checked()
    await expect(guest.page.locator('#lobby-settings [name="tick_duration_ms"]')).to_have_value(str(TICK_MS))
    await expect(guest.by_test_id("lobby-start")).to_be_hidden()  # only the host starts
    for player in (host, guest):
        await expect(player.lobby_members()).to_have_count(2)
        await expect(player.lobby_members().first).to_contain_text(host.name)
        await expect(player.lobby_members().last).to_contain_text(guest.name)

    await guest.page.fill("#lobby-chat-text", "ready when you are")
    await guest.page.press("#lobby-chat-text", "Enter")
    await expect(host.page.locator("#lobby-chat li")).to_have_text([f"{guest.name}: ready when you are"])
    await host.screenshot("lobby")

    await host.by_test_id("lobby-start").click()
    for player in (host, guest):
        await expect(player.by_test_id("screen-game")).to_be_visible()
    # The third browser finds the started game in the home screen's list and watches it.
    game_id = await host.page.evaluate("() => window.snaketron.session.gameId")
    listed = await watcher.watch_from_list(game_id)
    assert f"#{game_id}" in listed and "Custom" in listed
    await expect(watcher.page.locator("#game-title")).to_contain_text("Watching")

    # Both snakes move in every view: each head is drawn on a new cell.
    views = (host, guest, watcher)
    for view in views:
        before = await view.wait_drawn(2)
        assert before["width"] == ARENA_WIDTH
        after = await view.wait_all_moved(before)
        assert [s["name"] for s in after["snakes"]] == [host.name, guest.name]
        mine = [s["name"] for s in after["snakes"] if s["mine"]]
        assert mine == ([] if view is watcher else [view.name])
        pixels = await view.snake_pixels()
        assert all(count > 0 for count in pixels), f"{view.name}: snakes missing on the canvas: {pixels}"
    # The picture for the README: the snakes well on their way.
    await host.page.wait_for_function("() => window.snaketron.screens.game.lastDrawn.tick >= 20")
    await host.screenshot("game")

    # Nobody steers: the snakes run into each other, and all three see one result.
    watched, _ = await watcher.game_over()
    host_title, _ = await host.game_over()
    guest_title, _ = await guest.game_over()
    if watched == "Draw":
        assert (host_title, guest_title) == ("Draw", "Draw")
    elif watched == f"{host.name} wins":
        assert (host_title, guest_title) == ("You win!", "You lose")
    else:
        assert watched == f"{guest.name} wins"
        assert (host_title, guest_title) == ("You lose", "You win!")


async def test_leaderboard_and_player_pages(open_page, server):
    ann, ben = await asyncio.gather(open_page("board"), open_page("board"))
    await asyncio.gather(ann.sign_up(), ben.sign_up())
    ann_id, ben_id = await ann.user_id(), await ben.user_id()
    # Games as the finish path records them: ann beats ben, then ben beats a third player.
    recorder = LeaderboardRecorder(server.db.client, server.db.tables.main, season_months=server.settings.season_months)
    region = server.settings.region
    start = now_ms()
    await recorder.record(
        duel(
            seat(ann_id, 1, mmr_after=1016, username=ann.name),
            seat(ben_id, 2, mmr_after=984, username=ben.name),
            region=region,
            end_ms=start,
        )
    )
    await recorder.record(
        duel(
            seat(ben_id, 1, mmr_after=1001, username=ben.name),
            seat(990_001, 2, mmr_after=900, username="third"),
            region=region,
            end_ms=start + 1,
        )
    )

    await ben.open_leaderboard()
    rows = ben.board_rows()
    await expect(rows).to_have_count(3)
    await expect(rows.nth(0)).to_contain_text(ann.name)
    await expect(rows.nth(1)).to_contain_text(ben.name)
    await expect(rows.nth(1)).to_have_class("me")  # ben's own row
    await expect(ben.by_test_id("board-mine")).to_have_text("Your rank: #2 · rating 1001 · 1 W / 1 L (50%)")
    await expect(ben.by_test_id("board-season")).to_have_value(season_at(now_ms(), server.settings.season_months).id)

    await ben.page.get_by_role("tab", name="Solo").click()
    await expect(rows).to_have_count(0)
    await expect(ben.by_test_id("board-mine")).to_have_text("You are not on this board yet.")
    await ben.page.get_by_role("tab", name="Duel").click()
    await ben.by_test_id("board-region").fill("nowhere")
    await ben.by_test_id("board-region-apply").click()
    await expect(rows).to_have_count(0)
    await ben.by_test_id("board-region").fill(region)
    await ben.by_test_id("board-region-apply").click()
    await expect(rows).to_have_count(3)

    # ann's solo game is private: her own page lists it, nobody else's view does.
    await recorder.record(solo(ann_id, 9, region=region, end_ms=start + 2))

    # A name on the board opens that player's page, with their games, newest first.
    await ben.open_profile_from(ben.by_test_id("board-rows"), ann.name)
    games = ben.by_test_id("profile-games").locator("li")
    await expect(games).to_have_count(1)
    await expect(games.nth(0)).to_contain_text("place 1")
    await expect(games.nth(0)).to_contain_text("+16")
    await expect(ben.by_test_id("profile-stats").locator('li[data-type="duel"]')).to_contain_text("1 W / 0 L")
    # ... and a name in a game of the history opens theirs.
    await ben.open_profile_from(ben.by_test_id("profile-games"), ben.name)
    await expect(games).to_have_count(2)
    await expect(games.nth(0)).to_contain_text("third")

    # The header's name is the way to one's own page.
    await ann.by_test_id("who").click()
    await expect(ann.by_test_id("profile-name")).to_have_text(ann.name)
    await expect(ann.by_test_id("profile-games").locator("li")).to_have_count(2)


async def test_markup_in_a_carried_over_name_is_shown_as_text(open_page, server):
    # Registration allows only letters, digits, _ and -, but accounts carried over
    # by `snaketron migrate` keep their old names: one with markup must show as text
    # on the board, in histories and on the player page, and run nothing.
    legacy = '<img src=x onerror="window.__xss=1">'
    ben = await open_page("xss")
    await ben.sign_up()
    ben_id = await ben.user_id()
    recorder = LeaderboardRecorder(server.db.client, server.db.tables.main, season_months=server.settings.season_months)
    await recorder.record(
        duel(
            seat(990_777, 1, mmr_after=1300, username=legacy),
            seat(ben_id, 2, mmr_after=990, username=ben.name),
            region="xss-region",
            end_ms=now_ms(),
        )
    )
    await ben.open_leaderboard()
    await ben.by_test_id("board-region").fill("xss-region")
    await ben.by_test_id("board-region-apply").click()
    rows = ben.board_rows()
    await expect(rows).to_have_count(2)
    await expect(rows.nth(0)).to_contain_text(legacy)
    await ben.open_profile_from(ben.by_test_id("board-rows"), ben.name)
    await expect(ben.by_test_id("profile-games").locator("li").nth(0)).to_contain_text(legacy)
    await ben.by_test_id("profile-games").get_by_role("button", name=legacy, exact=True).first.click()
    await expect(ben.by_test_id("profile-note")).to_contain_text(legacy)  # no such account: its name as text
    assert await ben.page.locator("img").count() == 0
    assert await ben.page.evaluate("window.__xss") is None
