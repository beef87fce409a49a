"""The replay viewer end to end: headless Chromium against a started server on
127.0.0.1 holding a finished game's replay. A visitor opens the shareable link,
plays, changes the speed, seeks with the timeline and with a marker; a signed-in
player opens the same replay by game id from the home screen. Screenshots the viewer
(docs/replay.png with SNAKETRON_SCREENSHOTS=1).
"""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from snaketron.db.models import GamePlayerRecord, GameRecord
from snaketron.engine import replay_events, type_free_for_all
from snaketron.replays.store import ReplayStore, ReplaySummary
from support.replay_games import Plan, play

pytest.importorskip("playwright", reason="the playwright package is missing: pip install -e '.[test]'")

from e2e_pages import TIMEOUT_MS, VIEWPORT, ClientPage
from playwright.async_api import Browser, expect

pytestmark = pytest.mark.slow

_TICK = "() => window.snaketron.screens.replay.lastDrawn?.tick ?? -1"


async def stored_game(db) -> tuple[int, int, list]:
    """A finished public 3-player game, written as the server leaves it: game id, final tick, markers."""
    game, _, _ = play(Plan(type_free_for_all(3), 3, 0, 2024, (1, 2), (0, 1), 0, None))
    if not game.is_complete:
        game.abandon()
    recording = game.recording()
    assert recording is not None
    start = recording.start_ms or 0
    db.save_game_nowait(
        GameRecord(
            game_id=game.game_id,
            server_id=1,
            game_type=msgspec.to_builtins(game.game_type),
            game_mode="matchmaking",
            status="complete",
            started_at_ms=start,
            ended_at_ms=start + game.tick * game.tick_ms,
            final_tick=game.tick,
        ),
        [GamePlayerRecord(game_id=game.game_id, user_id=u, username=n) for u, n in recording.seats],
    )
    ReplayStore(db, ttl_seconds=3600).save(recording, ReplaySummary(is_private=False, ended_at_ms=start))
    await db.flush()
    markers = [(e.tick, e.event.tag) for e in replay_events(recording) if e.event.tag in ("SnakeDied", "FoodEaten")]
    return game.game_id, game.tick, markers


async def test_a_shared_replay_link_plays_seeks_and_is_opened_by_id(browser: Browser, server, tmp_path: Path) -> None:
    game_id, final_tick, markers = await stored_game(server.db)
    context = await browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(TIMEOUT_MS)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        await page.goto(f"{server.api_url}/replay/{game_id}")
        assert page.url.endswith(f"/?replay={game_id}")
        await expect(page.get_by_test_id("screen-replay")).to_be_visible()
        await expect(page.get_by_test_id("replay-tick")).to_have_text(f"tick 0 / {final_tick}")
        await expect(page.get_by_test_id("replay-players").locator("li")).to_have_count(3)
        drawn = page.get_by_test_id("replay-markers").locator(".marker")
        await expect(drawn).to_have_count(len(markers))
        await expect(page.get_by_test_id("replay-markers").locator(".marker-death")).to_have_count(
            sum(1 for _, tag in markers if tag == "SnakeDied")
        )

        # Play at 4x: the board moves on, then pause holds it.
        await page.get_by_test_id("replay-speed").select_option("4")
        await page.get_by_test_id("replay-play").click()
        await page.wait_for_function(f"() => ({_TICK})() >= 5")
        await page.get_by_test_id("replay-play").click()
        await expect(page.get_by_test_id("replay-play")).to_have_attribute("data-playing", "false")
        held = await page.evaluate(_TICK)
        # Ten more frames drawn while paused (at 4x and 100 ms ticks, ten frames of a running
        # replay move it on by about six ticks): the board stays where it was.
        await page.evaluate(
            "() => new Promise((done) => { let n = 10; const f = () => (--n ? requestAnimationFrame(f) : done()); requestAnimationFrame(f); })"
        )
        assert await page.evaluate(_TICK) == held

        # Seek with the timeline, then with a marker.
        target = final_tick // 2
        await page.get_by_test_id("replay-seek").fill(str(target))
        await page.wait_for_function(f"(t) => ({_TICK})() === t", arg=target)
        await expect(page.get_by_test_id("replay-tick")).to_have_text(f"tick {target} / {final_tick}")
        first_tick = markers[0][0]
        await drawn.first.click()
        await page.wait_for_function(f"(t) => ({_TICK})() === t", arg=first_tick)
        # The end shows the result.
        await page.get_by_test_id("replay-seek").fill(str(final_tick))
        await expect(page.get_by_test_id("replay-status")).to_contain_text("Game over")

        shot = tmp_path / "replay.png"
        await page.screenshot(path=str(shot))
        assert shot.stat().st_size > 5_000
        assert errors == []
    finally:
        await context.close()

    # A signed-in player opens it by id from the home screen; Back returns home.
    player = await ClientPage.open(browser, f"{server.api_url}/", "replayfan")
    try:
        await player.sign_up()
        await player.by_test_id("replay-target").fill(str(game_id))
        await player.by_test_id("open-replay").click()
        await expect(player.by_test_id("screen-replay")).to_be_visible()
        await expect(player.by_test_id("replay-link")).to_have_text(f"{server.api_url}/replay/{game_id}")
        await player.by_test_id("replay-seek").fill(str(final_tick // 2))
        await expect(player.by_test_id("replay-tick")).to_have_text(f"tick {final_tick // 2} / {final_tick}")
        await player.screenshot("replay")
        await player.by_test_id("replay-back").click()
        await expect(player.by_test_id("screen-home")).to_be_visible()
        await player.by_test_id("replay-target").fill("987654")
        await player.by_test_id("open-replay").click()
        await expect(player.by_test_id("notices")).to_contain_text("Game 987654 has no replay to show.")
        assert player.script_errors == []
    finally:
        await player.close()
