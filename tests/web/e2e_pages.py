"""The browser client as a person uses it, for the end-to-end tests: one `ClientPage`
per browser context (its own localStorage, so its own account), acting through the
page's buttons and forms and reading what it shows.

What the canvas shows is read two ways: the game screen's `lastDrawn` (the view of
the latest frame: snakes' bodies, names, liveness), reached through `window.snaketron`,
and the canvas pixels themselves, counted per snake colour.
"""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, Locator, Page, expect

VIEWPORT = {"width": 1280, "height": 800}
PASSWORD = "secret1"
# Actions and expectations wait at most this long (ms): a stuck page fails in seconds.
TIMEOUT_MS = 15_000

DOCS = Path(__file__).resolve().parents[2] / "docs"
# Set to 1 to rewrite the README's screenshots (docs/*.png) from this run.
SCREENSHOTS = os.environ.get("SNAKETRON_SCREENSHOTS") == "1"

# The live games list has no push: refresh it this often (at most) while waiting.
LIST_REFRESHES = 40
LIST_REFRESH_WAIT_MS = 250

# A lobby code as shown: letters and digits (the server draws 8 of them).
_LOBBY_CODE = re.compile(r"^[A-Z0-9]{4,16}$")

# The snakes of the latest frame: name, head cell, the next corner or tail (the
# heading), alive, whether it is the viewer's.
_DRAWN_SNAKES = """() => {
  const drawn = window.snaketron?.screens.game.lastDrawn;
  if (!drawn) return null;
  return {
    tick: drawn.tick,
    width: drawn.view.width,
    height: drawn.view.height,
    food: drawn.view.food.length,
    snakes: drawn.view.snakes.map((s) => ({
      name: s.name, head: s.body[0], neck: s.body[1] ?? s.body[0], alive: s.isAlive, mine: s.isMine,
    })),
  };
}"""

# True once every snake alive in `before` is drawn with its head on another cell.
_ALL_MOVED = """(before) => {
  const drawn = window.snaketron?.screens.game.lastDrawn;
  if (!drawn || drawn.view.snakes.length !== before.length) return false;
  return before.every((was, id) => {
    const head = drawn.view.snakes[id].body[0];
    return head.x !== was.head.x || head.y !== was.head.y;
  });
}"""

# Canvas pixels painted exactly in each live snake's colour (render.js's palette).
_SNAKE_PIXELS = """async () => {
  const { snakeColour } = await import("./static/js/render.js");
  const canvas = document.getElementById("arena");
  const { data } = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
  const view = window.snaketron.screens.game.lastDrawn.view;
  const rgb = (hex) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  return view.snakes.map((s, id) => {
    const [r, g, b] = rgb(snakeColour(id, s.teamId));
    let count = 0;
    for (let i = 0; i < data.length; i += 4) {
      if (data[i] === r && data[i + 1] === g && data[i + 2] === b) count += 1;
    }
    return count;
  });
}"""


@dataclasses.dataclass
class ClientPage:
    page: Page
    name: str
    # Uncaught exceptions in the page's scripts: a test ends by asserting there were none.
    script_errors: list[str] = dataclasses.field(default_factory=list)

    @classmethod
    async def open(cls, browser: Browser, url: str, name: str) -> ClientPage:
        context = await browser.new_context(viewport=VIEWPORT)
        context.set_default_timeout(TIMEOUT_MS)
        page = await context.new_page()
        client = cls(page, name)
        page.on("pageerror", lambda error: client.script_errors.append(str(error)))
        await page.goto(url)
        await expect(client.by_test_id("screen-auth")).to_be_visible()
        return client

    def by_test_id(self, test_id: str) -> Locator:
        return self.page.get_by_test_id(test_id)

    async def close(self) -> None:
        await self.page.context.close()

    # --- accounts ----------------------------------------------------------------------
    async def sign_up(self) -> None:
        await self.page.get_by_role("tab", name="Sign up").click()
        await self.by_test_id("auth-username").fill(self.name)
        await self.by_test_id("auth-password").fill(PASSWORD)
        await expect(self.by_test_id("auth-submit")).to_have_text("Create account")
        await self.by_test_id("auth-submit").click()
        await expect(self.by_test_id("screen-home")).to_be_visible()
        await expect(self.by_test_id("who")).to_contain_text(self.name)
        await self.wait_online()

    async def wait_online(self) -> None:
        await expect(self.by_test_id("connection")).to_have_attribute("data-state", "ready")

    # --- lobby -------------------------------------------------------------------------
    async def create_lobby(self) -> str:
        await self.by_test_id("create-lobby").click()
        await expect(self.by_test_id("screen-lobby")).to_be_visible()
        code = self.by_test_id("lobby-code")
        await expect(code).to_have_text(_LOBBY_CODE)
        return await code.inner_text()

    async def join_lobby(self, code: str) -> None:
        await self.by_test_id("join-code").fill(code)
        await self.by_test_id("join-lobby").click()
        await expect(self.by_test_id("screen-lobby")).to_be_visible()

    async def watch(self, target: str) -> None:
        await self.by_test_id("spectate-target").fill(target)
        await self.by_test_id("spectate").click()
        await expect(self.by_test_id("screen-game")).to_be_visible()

    async def watch_from_list(self, game_id: int) -> str:
        """Refreshes the home screen's live games until `game_id` is listed (its record
        is written just after the game starts), then clicks its Watch button. The item's text."""
        item = self.by_test_id("live-games").locator(f'li[data-game-id="{game_id}"]')
        for _ in range(LIST_REFRESHES):
            await self.page.click("#refresh-games")
            try:
                await expect(item).to_be_visible(timeout=LIST_REFRESH_WAIT_MS)
                break
            except AssertionError:
                continue
        await expect(item).to_be_visible()
        text = await item.inner_text()
        await item.get_by_role("button", name="Watch").click()
        await expect(self.by_test_id("screen-game")).to_be_visible()
        return text

    def lobby_members(self) -> Locator:
        return self.by_test_id("lobby-members").locator("li")

    # --- the game ----------------------------------------------------------------------
    async def drawn(self) -> dict[str, Any]:
        """The latest frame's snakes (None before the first frame)."""
        return await self.page.evaluate(_DRAWN_SNAKES)

    async def wait_drawn(self, snakes: int) -> dict[str, Any]:
        """The latest frame, once it shows `snakes` snakes."""
        await self.page.wait_for_function(
            "(n) => window.snaketron?.screens.game.lastDrawn?.view.snakes.length === n", arg=snakes
        )
        return await self.drawn()

    async def wait_all_moved(self, before: dict[str, Any]) -> dict[str, Any]:
        """Waits until every snake of `before` is drawn elsewhere; the frame then."""
        await self.page.wait_for_function(_ALL_MOVED, arg=before["snakes"])
        return await self.drawn()

    async def snake_pixels(self) -> list[int]:
        return await self.page.evaluate(_SNAKE_PIXELS)

    async def game_over(self) -> tuple[str, str]:
        """Waits for the game-over panel; its title and detail."""
        panel = self.by_test_id("game-over")
        await expect(panel).to_be_visible()
        return await self.page.inner_text("#game-over-title"), await self.page.inner_text("#game-over-detail")

    # --- leaderboard and player pages ----------------------------------------------------
    async def user_id(self) -> int:
        return await self.page.evaluate("() => window.snaketron.user.id")

    async def open_leaderboard(self) -> None:
        await self.by_test_id("nav-leaderboard").click()
        await expect(self.by_test_id("screen-leaderboard")).to_be_visible()

    def board_rows(self) -> Locator:
        return self.by_test_id("board-rows").locator("tr")

    async def open_profile_from(self, container: Locator, name: str) -> None:
        await container.get_by_role("button", name=name, exact=True).first.click()
        await expect(self.by_test_id("screen-profile")).to_be_visible()
        await expect(self.by_test_id("profile-name")).to_have_text(name)

    # --- what the person is told ---------------------------------------------------------
    async def error_notices(self) -> list[str]:
        return await self.by_test_id("notices").locator('[data-kind="error"]').all_inner_texts()

    async def screenshot(self, name: str) -> None:
        """docs/<name>.png, when SNAKETRON_SCREENSHOTS=1 (ordinary runs leave docs/ alone)."""
        if not SCREENSHOTS:
            return
        # Passing notices would hide part of the screen in the picture.
        await self.page.evaluate("() => document.getElementById('notices').replaceChildren()")
        DOCS.mkdir(exist_ok=True)
        await self.page.screenshot(path=str(DOCS / f"{name}.png"))
