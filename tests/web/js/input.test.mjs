import assert from "node:assert/strict";
import { test } from "node:test";
import { JS } from "./paths.mjs";
import { gameState, pos, turn } from "./states.mjs";

const { directionForKey, planTurn } = await import(`${JS}input.js`);
const { simFromState } = await import(`${JS}rules.js`);

test("arrow keys and WASD map to directions", () => {
  assert.equal(directionForKey({ code: "ArrowUp", key: "ArrowUp" }), "Up");
  assert.equal(directionForKey({ code: "KeyA", key: "a" }), "Left");
  assert.equal(directionForKey({ code: "", key: "D" }), "Right");
  assert.equal(directionForKey({ code: "KeyQ", key: "q" }), null);
});

const moving = (queue = []) =>
  simFromState(gameState({ snakes: [{ body: [pos(10, 10), pos(13, 10)], direction: "Left" }], tick: 5, queue }));

test("a useful turn is stamped with the current tick; useless ones are not sent", () => {
  const sim = moving();
  assert.equal(planTurn(sim, { userId: 1, snakeId: 0, direction: "Up", tick: 5 }), 5);
  assert.equal(planTurn(sim, { userId: 1, snakeId: 0, direction: "Left", tick: 5 }), null);
  assert.equal(planTurn(sim, { userId: 1, snakeId: 0, direction: "Right", tick: 5 }), null);
});

test("a quick second turn goes to the next tick instead of being lost", () => {
  const sim = moving([turn(1, 5, "Up")]);
  // Right would be refused at tick 5 (opposite of the last step, Left); at 6 it is a turn.
  assert.equal(planTurn(sim, { userId: 1, snakeId: 0, direction: "Right", tick: 5 }), 6);
  assert.equal(planTurn(sim, { userId: 1, snakeId: 0, direction: "Up", tick: 5 }), null);
  assert.equal(planTurn(sim, { userId: 1, snakeId: 0, direction: "Down", tick: 5 }), null);
  const far = moving([turn(1, 8, "Up")]);
  assert.equal(planTurn(far, { userId: 1, snakeId: 0, direction: "Left", tick: 5 }), null, "too far ahead");
});
