import assert from "node:assert/strict";
import { test } from "node:test";
import { JS } from "./paths.mjs";
import { gameState, pos, turn } from "./states.mjs";

const R = await import(`${JS}rules.js`);

const step = (state) => {
  const sim = R.simFromState(state);
  const events = R.computeTick(sim);
  return { sim, events, view: R.describeSim(sim) };
};

test("bodies expand to every cell and compress back to head, bends, tail", () => {
  const body = [pos(5, 5), pos(5, 3), pos(8, 3)];
  const cells = R.expandBody(body);
  assert.equal(cells.length, 6);
  assert.deepEqual(cells[1], pos(5, 4));
  assert.deepEqual(R.compressBody(cells), body);
  // A one-cell body repeats its head (the server's form).
  assert.deepEqual(R.compressBody(R.expandBody([pos(1, 1), pos(1, 1)])), [pos(1, 1), pos(1, 1)]);
});

test("a snake moves one cell; its tail follows", () => {
  const { view, events } = step(gameState({ snakes: [{ body: [pos(10, 10), pos(13, 10)], direction: "Left" }] }));
  assert.deepEqual(view.snakes[0].body, [pos(9, 10), pos(12, 10)]);
  assert.deepEqual(events, []);
  assert.equal(view.tick, 1);
});

test("a turn applies and bends the body", () => {
  const state = gameState({
    snakes: [{ body: [pos(10, 10), pos(13, 10)], direction: "Left" }],
    queue: [turn(1, 0, "Up")],
  });
  const { view, events } = step(state);
  assert.deepEqual(events, [{ SnakeTurned: { snake_id: 0, direction: "Up" } }]);
  assert.deepEqual(view.snakes[0].body, [pos(10, 9), pos(10, 10), pos(12, 10)]);
});

test("two turns in one tick cannot reverse a snake (judged on the last step)", () => {
  const state = gameState({
    snakes: [{ body: [pos(10, 10), pos(13, 10)], direction: "Left" }],
    queue: [turn(1, 0, "Up", 1), turn(1, 0, "Right", 2)],
  });
  const { view, events } = step(state);
  assert.deepEqual(events, [{ SnakeTurned: { snake_id: 0, direction: "Up" } }]);
  assert.equal(view.snakes[0].direction, "Up");
});

test("a turn for a later tick waits for it; commands run in (tick, user, sequence) order", () => {
  const sim = R.simFromState(
    gameState({
      snakes: [{ body: [pos(10, 10), pos(13, 10)], direction: "Left" }],
      queue: [turn(1, 1, "Down", 2), turn(1, 1, "Up", 1)],
    }),
  );
  assert.deepEqual(R.computeTick(sim), []);
  // Up, then Down: Down is not opposite to the last step (Left), so it applies too.
  assert.deepEqual(R.computeTick(sim), [
    { SnakeTurned: { snake_id: 0, direction: "Up" } },
    { SnakeTurned: { snake_id: 0, direction: "Down" } },
  ]);
  assert.equal(sim.queue.length, 0);
});

test("pending food makes the snake grow by keeping its tail", () => {
  const { view } = step(gameState({ snakes: [{ body: [pos(10, 10), pos(12, 10)], direction: "Left", food: 2 }] }));
  assert.deepEqual(view.snakes[0].body, [pos(9, 10), pos(12, 10)]);
  assert.equal(view.snakes[0].food, 1);
});

test("leaving the arena kills; the dead snake keeps its body from before the move", () => {
  const state = gameState({
    snakes: [
      { body: [pos(0, 5), pos(3, 5)], direction: "Left" },
      { body: [pos(10, 10), pos(13, 10)], direction: "Left" },
    ],
  });
  const { view, events } = step(state);
  assert.deepEqual(events, [{ SnakeDied: { snake_id: 0 } }, { StatusUpdated: { status: { Complete: { winning_snake_id: 1 } } } }]);
  assert.deepEqual(view.snakes[0].body, [pos(0, 5), pos(3, 5)]);
  assert.equal(view.snakes[0].is_alive, false);
});

test("running into its own body kills", () => {
  // A hook: head at (5,5) moving Down into its own body at (5,6).
  const body = [pos(5, 5), pos(6, 5), pos(6, 6), pos(4, 6)];
  const { events } = step(
    gameState({
      snakes: [{ body, direction: "Down" }, { body: [pos(15, 15), pos(18, 15)], direction: "Left" }],
    }),
  );
  assert.deepEqual(events[0], { SnakeDied: { snake_id: 0 } });
});

test("moving into the cell the tail just left is safe", () => {
  // A 2x2 loop: the head follows the tail.
  const body = [pos(5, 5), pos(5, 6), pos(6, 6), pos(6, 5)];
  const { events, view } = step(
    gameState({ snakes: [{ body, direction: "Right" }, { body: [pos(15, 15), pos(18, 15)], direction: "Left" }] }),
  );
  assert.deepEqual(events, []);
  assert.deepEqual(view.snakes[0].body[0], pos(6, 5));
});

test("head-on meetings and head swaps kill both", () => {
  // Snake 1's head two cells ahead of snake 0's (they meet) or one cell (they swap).
  for (const gap of [2, 1]) {
    const { events } = step(
      gameState({
        snakes: [
          { body: [pos(5, 5), pos(2, 5)], direction: "Right" },
          { body: [pos(5 + gap, 5), pos(8 + gap, 5)], direction: "Left" },
          { body: [pos(15, 15), pos(18, 15)], direction: "Left" },
        ],
      }),
    );
    assert.deepEqual(events.slice(0, 2), [{ SnakeDied: { snake_id: 0 } }, { SnakeDied: { snake_id: 1 } }], `gap ${gap}`);
  }
});

test("a dead snake is no obstacle", () => {
  const { events } = step(
    gameState({
      snakes: [
        { body: [pos(5, 5), pos(2, 5)], direction: "Right" },
        { body: [pos(6, 3), pos(6, 8)], direction: "Up", is_alive: false },
        { body: [pos(15, 15), pos(18, 15)], direction: "Left" },
      ],
    }),
  );
  assert.deepEqual(events, []);
});

test("food is eaten by a live head and one spawn is attempted", async () => {
  const { events, view } = step(
    gameState({
      snakes: [{ body: [pos(5, 5), pos(8, 5)], direction: "Left" }, { body: [pos(15, 15), pos(18, 15)], direction: "Left" }],
      food: [pos(4, 5), pos(0, 0)],
      foodTarget: 2,
      rng: 12345,
    }),
  );
  assert.deepEqual(events[0], { FoodEaten: { snake_id: 0, position: pos(4, 5) } });
  assert.equal(view.snakes[0].food, 1);
  // The spawn drew two numbers: x then y.
  const rng = new (await import(`${JS}rng.js`)).Xorshift64(12345n);
  const x = rng.nextU16() % 20;
  const y = rng.nextU16() % 20;
  assert.deepEqual(events[1], { FoodSpawned: { position: pos(x, y) } });
  assert.equal(view.rng_state, rng.state.toString());
});

// A duel on the 60x40 team board, team 0's snake heading right at row `y` next to
// the wall column x=50 (its goal opening is rows 16..24).
const duelTowardsWall = (y) =>
  step(
    gameState({
      width: 60,
      height: 40,
      zones: { end_zone_depth: 10, goal_width: 9 },
      gameType: { TeamMatch: { per_team: 1 } },
      snakes: [
        { body: [pos(49, y), pos(46, y)], direction: "Right", team_id: 0 },
        { body: [pos(30, 30), pos(33, 30)], direction: "Left", team_id: 1 },
      ],
    }),
  );

test("team walls kill outside the goal opening, and the goal ends the game", () => {
  assert.deepEqual(duelTowardsWall(5).events[0], { SnakeDied: { snake_id: 0 } });
  assert.deepEqual(duelTowardsWall(15).events[0], { SnakeDied: { snake_id: 0 } });
  assert.deepEqual(duelTowardsWall(16).events, [{ StatusUpdated: { status: { Complete: { winning_snake_id: 0 } } } }]);
  assert.deepEqual(duelTowardsWall(24).events, [{ StatusUpdated: { status: { Complete: { winning_snake_id: 0 } } } }]);
  assert.deepEqual(duelTowardsWall(25).events[0], { SnakeDied: { snake_id: 0 } });
});

test("solo games end when the snake dies, with no winner", () => {
  const { events } = step(gameState({ gameType: "Solo", snakes: [{ body: [pos(0, 5), pos(3, 5)], direction: "Left" }] }));
  assert.deepEqual(events, [{ SnakeDied: { snake_id: 0 } }, { StatusUpdated: { status: { Complete: { winning_snake_id: null } } } }]);
});

test("a game that is not Started does not advance", () => {
  const sim = R.simFromState(gameState({ status: "Stopped", snakes: [{ body: [pos(5, 5), pos(8, 5)], direction: "Left" }] }));
  assert.deepEqual(R.advanceTo(sim, 10), []);
  assert.equal(sim.tick, 0);
});
