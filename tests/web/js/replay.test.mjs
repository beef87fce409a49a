// The replay viewer's pieces under node: the playback clock, and the app opening a
// replay from a shared link, by id, and from the game-over panel.

import assert from "node:assert/strict";
import { test } from "node:test";
import { MemoryStorage, recordedUi } from "./fakes.mjs";
import { JS } from "./paths.mjs";
import { gameState, pos } from "./states.mjs";

const { App } = await import(`${JS}app.js`);
const { ApiError } = await import(`${JS}api.js`);
const { ReplayClock, buildTimeline } = await import(`${JS}replay.js`);

const event = (tick, sequence, body) => ({ game_id: 9, tick, sequence, user_id: null, event: body });

/** A solo game of three ticks: the snake moves left, dies in tick 2. */
function replayBody() {
  const laidOut = gameState({
    snakes: [{ body: [pos(10, 10), pos(13, 10)], direction: "Left" }],
    status: "Stopped",
  });
  const started = { ...laidOut, status: { Started: { server_id: 1 } } };
  return {
    game_id: 9,
    rules_version: 1,
    tick_duration_ms: 100,
    final_tick: 3,
    events: [
      event(0, 0, { Snapshot: { game_state: laidOut } }),
      event(0, 1, { StatusUpdated: { status: { Started: { server_id: 1 } } } }),
      event(0, 2, { Snapshot: { game_state: started } }),
      event(1, 3, { FoodEaten: { snake_id: 0, position: pos(8, 10) } }),
      event(2, 4, { SnakeDied: { snake_id: 0 } }),
      event(2, 5, { StatusUpdated: { status: { Complete: { winning_snake_id: null } } } }),
    ],
  };
}

test("the timeline has a board per tick, the markers and the names", () => {
  const timeline = buildTimeline(replayBody());
  assert.equal(timeline.frames.length, 4);
  assert.deepEqual(
    timeline.frames.map((f) => f.snakes[0].cells[0].x),
    [10, 9, 8, 7],
  );
  assert.deepEqual(timeline.markers, [
    { tick: 1, kind: "food", snakeId: 0 },
    { tick: 2, kind: "death", snakeId: 0 },
  ]);
  assert.deepEqual(timeline.names, ["p1"]);
  assert.deepEqual(timeline.finalStatus, { Complete: { winning_snake_id: null } });
  assert.throws(() => buildTimeline({ ...replayBody(), events: [] }), /Snapshot/);
});

test("the clock plays at its speed, stops at the end, seeks within bounds", () => {
  const clock = new ReplayClock(100);
  clock.advance(1000, 100);
  assert.equal(clock.tick, 0, "paused: time does not move it");
  clock.play();
  clock.speed = 0.5;
  clock.advance(1000, 100);
  assert.equal(clock.tick, 5);
  clock.speed = 4;
  clock.advance(250, 100);
  assert.equal(clock.tick, 15);
  clock.advance(100_000, 100);
  assert.equal(clock.tick, 100);
  assert.equal(clock.playing, false, "it stops at the end");
  clock.play();
  assert.equal(clock.tick, 0, "play at the end starts again");
  clock.seek(-3);
  assert.equal(clock.tick, 0);
  clock.seek(42.7);
  assert.equal(clock.tick, 42);
  clock.seek(1e9);
  assert.equal(clock.tick, 100);
});

function appWith(api, { initialReplay = null } = {}) {
  const { log, notices, deps } = recordedUi();
  const app = new App({ ...deps, api, wsUrl: "ws://127.0.0.1:8080/ws", storage: new MemoryStorage(), initialReplay });
  const shown = () => log.filter((e) => e[1] === "show").map((e) => e[0]);
  return { app, notices, shown };
}

test("a shared link opens the viewer without an account", async () => {
  const asked = [];
  const api = {
    async replay(gameId, token) {
      asked.push([gameId, token]);
      return replayBody();
    },
  };
  const { app, shown, notices } = appWith(api, { initialReplay: 9 });
  await app.start();
  assert.deepEqual(shown(), ["auth", "replay"]);
  assert.deepEqual(asked, [[9, null]]);
  assert.deepEqual(notices, []);
  app.closeReplay();
  assert.equal(shown().at(-1), "auth", "back, nobody signed in: the sign-in screen");
});

test("a visitor without an account is told a private replay needs its player", async () => {
  const api = {
    async replay() {
      throw new ApiError(404, "Game not found");
    },
  };
  const { app, notices } = appWith(api, { initialReplay: 12 });
  await app.start();
  assert.deepEqual(notices, [
    ["error", "No replay", "Game 12 has no replay to show. If it was private, sign in as one of its players."],
  ]);
});

test("no replay is told, and the game-over panel stays; a replay leaves the game", async () => {
  let available = false;
  const api = {
    async replay() {
      if (!available) throw new ApiError(404, "No replay of this game");
      return replayBody();
    },
  };
  const { app, shown, notices } = appWith(api);
  const sent = [];
  app.send = (message) => sent.push(message);
  app.token = "jwt-ann"; // a player who just played is signed in
  app.session = { gameId: 9 };
  await app.watchReplay();
  assert.deepEqual(notices, [["error", "No replay", "Game 9 has no replay to show."]]);
  assert.equal(app.session.gameId, 9);
  assert.deepEqual(sent, []);

  available = true;
  await app.watchReplay();
  assert.deepEqual(shown(), ["replay"]);
  assert.equal(app.session, null);
  assert.deepEqual(sent, ["LeaveGame"]);
});
