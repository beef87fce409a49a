// The screens' pure parts (what they compute from states and forms) and the renderer
// drawing on a recording 2D context: no DOM needed.

import assert from "node:assert/strict";
import { test } from "node:test";
import { JS } from "./paths.mjs";
import { gameState, pos } from "./states.mjs";

const game = await import(`${JS}screens/game.js`);
const lobby = await import(`${JS}screens/lobby.js`);
const home = await import(`${JS}screens/home.js`);
const auth = await import(`${JS}screens/auth.js`);
const render = await import(`${JS}render.js`);
const { simFromState, computeTick, cloneSim } = await import(`${JS}rules.js`);

test("usernames are checked like the server does", () => {
  assert.equal(auth.usernameProblem("ann"), null);
  assert.equal(auth.usernameProblem("a_b-c9"), null);
  assert.match(auth.usernameProblem("ab"), /3 to 20/);
  assert.match(auth.usernameProblem("_ann"), /not at the start or end/);
  assert.match(auth.usernameProblem("an n"), /letters, digits/);
});

test("home: game type choices and what to watch", () => {
  assert.deepEqual(home.gameTypeFromChoice("ffa:10"), { FreeForAll: { max_players: 10 } });
  assert.deepEqual(home.gameTypeFromChoice("team:1"), { TeamMatch: { per_team: 1 } });
  assert.deepEqual(home.spectateTarget(" 42 "), { gameId: 42, gameCode: null });
  assert.deepEqual(home.spectateTarget("K7Q2"), { gameId: 0, gameCode: "K7Q2" });
});

test("lobby: the form becomes settings, and only changes are sent", () => {
  const settings = lobby.settingsFromForm({
    game_mode: "ffa",
    max_players: "6",
    arena_width: "50",
    arena_height: "40",
    tick_duration_ms: "100",
    snake_start_length: "4",
    food_spawn_rate: "3",
    is_private: true,
    allow_spectators: false,
  });
  assert.deepEqual(settings.game_mode, { FreeForAll: { max_players: 6 } });
  assert.equal(settings.arena_width, 50);
  const current = { ...settings, arena_width: 40, allow_spectators: true };
  assert.deepEqual(lobby.changedSettings(current, settings), { arena_width: 50, allow_spectators: false });
  assert.equal(lobby.settingsFromForm({ game_mode: "duel", max_players: "2" }).game_mode, "Duel");
});

test("game: names by snake and the outcome told to each viewer", () => {
  const state = gameState({ snakes: [{ body: [pos(1, 1), pos(1, 3)], direction: "Up" }, { body: [pos(5, 5), pos(5, 7)], direction: "Up" }] });
  const names = game.namesBySnake(state);
  assert.deepEqual(names, ["p1", "p2"]);
  assert.equal(game.describeOutcome({ winningSnakeId: 0, mySnakeId: 0, names }).title, "You win!");
  assert.equal(game.describeOutcome({ winningSnakeId: 0, mySnakeId: 1, names }).title, "You lose");
  assert.equal(game.describeOutcome({ winningSnakeId: null, mySnakeId: 1, names }).title, "Draw");
  assert.equal(game.describeOutcome({ winningSnakeId: 1, mySnakeId: null, names }).title, "p2 wins");
  assert.equal(game.describeOutcome({ isSolo: true, myLength: 9 }).detail, "Final length: 9");
  const teams = [0, 1, 0, 1];
  assert.equal(game.describeOutcome({ winningSnakeId: 2, mySnakeId: 0, names, teams }).title, "Your team wins!");
  assert.equal(game.describeOutcome({ winningSnakeId: 2, mySnakeId: 1, names, teams }).title, "You lose");
});

test("between ticks the head and tail glide; a turn keeps its corner", () => {
  const prev = [pos(5, 5), pos(8, 5)];
  const next = [pos(5, 4), pos(5, 5), pos(7, 5)];
  assert.deepEqual(render.interpolatedBody(prev, next, 0.5), [pos(5, 4.5), pos(5, 5), pos(7, 5), pos(7.5, 5)]);
  // Growing: the tail stays, nothing is appended.
  assert.deepEqual(render.interpolatedBody([pos(5, 5), pos(8, 5)], [pos(4, 5), pos(8, 5)], 0.25), [pos(4.75, 5), pos(8, 5)]);
  assert.notEqual(render.snakeColour(0, null), render.snakeColour(1, null));
  assert.notEqual(render.snakeColour(0, 0), render.snakeColour(1, 1));
});

function recordingCanvas() {
  const calls = [];
  const ctx = new Proxy(
    { calls },
    {
      get(target, key) {
        if (key in target) return target[key];
        return (...args) => calls.push([key, ...args]);
      },
      set(target, key, value) {
        calls.push([`set ${String(key)}`, value]);
        return true;
      },
    },
  );
  return { canvas: { getContext: () => ctx, style: {}, width: 0, height: 0 }, calls };
}

test("the renderer draws team zones with walls open only at the goal", () => {
  const state = gameState({
    width: 60,
    height: 40,
    zones: { end_zone_depth: 10, goal_width: 9 },
    gameType: { TeamMatch: { per_team: 1 } },
    snakes: [
      { body: [pos(15, 20), pos(12, 20)], direction: "Right", team_id: 0 },
      { body: [pos(44, 20), pos(47, 20)], direction: "Left", team_id: 1 },
    ],
    food: [pos(30, 3)],
  });
  const prev = simFromState(state);
  const next = cloneSim(prev);
  computeTick(next);
  const { canvas, calls } = recordingCanvas();
  const renderer = new render.ArenaRenderer(canvas);
  renderer.resize(60, 40, 600, 400);
  assert.equal(renderer.cell, 10);
  assert.equal(canvas.style.width, "600px");
  renderer.draw(game.buildView(prev, next, { names: ["a", "b"], mySnakeId: 0 }), 0.5);
  const rects = calls.filter((c) => c[0] === "fillRect").map((c) => c.slice(1));
  // Wall column x=9: rows 0..15 and 25..39 closed; the goal 16..24 open (tinted).
  assert.deepEqual(rects.find((r) => r[0] === 90 && r[1] === 0), [90, 0, 10, 160]);
  assert.deepEqual(rects.find((r) => r[0] === 90 && r[1] === 250), [90, 250, 10, 150]);
  assert.deepEqual(rects.find((r) => r[0] === 90 && r[1] === 160), [90, 160, 10, 90]);
  const names = calls.filter((c) => c[0] === "fillText").map((c) => c[1]);
  assert.ok(names.includes("a") && names.includes("b"));
});
