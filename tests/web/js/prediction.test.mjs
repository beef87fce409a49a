import assert from "node:assert/strict";
import { test } from "node:test";
import { JS } from "./paths.mjs";
import { gameState, pos, turn } from "./states.mjs";

const { GamePredictor } = await import(`${JS}prediction.js`);
const { describeSim } = await import(`${JS}rules.js`);

const twoSnakes = (extra = {}) =>
  gameState({
    width: 30,
    height: 30,
    snakes: [
      { body: [pos(20, 10), pos(23, 10)], direction: "Left" },
      { body: [pos(5, 20), pos(2, 20)], direction: "Right" },
    ],
    ...extra,
  });

const snapshotEvent = (state, tick = state.tick) => ({
  game_id: 1,
  tick,
  sequence: 1,
  user_id: null,
  event: { Snapshot: { game_state: state } },
});
const scheduled = (command, tick) => ({
  game_id: 1,
  tick,
  sequence: 2,
  user_id: command.command_id_server.user_id,
  event: { CommandScheduled: { command_message: command } },
});
const ownCommand = (tick, direction, seq) => ({
  command_id_client: { tick, user_id: 1, sequence_number: seq },
  command_id_server: null,
  command: { Turn: { snake_id: 0, direction } },
});

test("the prediction runs ahead of the snapshot with the rules", () => {
  const p = new GamePredictor();
  p.onEvent(snapshotEvent(twoSnakes()));
  const sim = p.stateAt(4);
  assert.equal(sim.tick, 4);
  assert.deepEqual(describeSim(sim).snakes[0].body, [pos(16, 10), pos(19, 10)]);
  // Asking for an earlier tick than the snapshot gives the snapshot.
  assert.equal(p.stateAt(-3).tick, 0);
});

test("an own command is predicted at once, then replaced by the server's stamp", () => {
  const p = new GamePredictor();
  p.onEvent(snapshotEvent(twoSnakes()));
  p.addOwnCommand(ownCommand(2, "Up", 1));
  assert.deepEqual(describeSim(p.stateAt(3)).snakes[0].body[0], pos(18, 9));
  // The server scheduled it one tick later than asked (it arrived late).
  const stamped = { ...ownCommand(2, "Up", 1), command_id_server: { tick: 3, user_id: 1, sequence_number: 0 } };
  p.onEvent(scheduled(stamped, 3));
  assert.equal(p.pendingOwnCommands().length, 0);
  assert.deepEqual(describeSim(p.stateAt(4)).snakes[0].body.slice(0, 2), [pos(17, 9), pos(17, 10)]);
});

test("another player's command corrects the prediction when it arrives", () => {
  const p = new GamePredictor();
  p.onEvent(snapshotEvent(twoSnakes()));
  assert.deepEqual(describeSim(p.stateAt(5)).snakes[1].body[0], pos(10, 20));
  p.onEvent(scheduled(turn(2, 1, "Down", 0, 1), 2));
  assert.deepEqual(describeSim(p.stateAt(5)).snakes[1].body[0], pos(6, 24));
});

test("a newer snapshot re-bases the prediction and drops commands it already holds", () => {
  const p = new GamePredictor();
  p.onEvent(snapshotEvent(twoSnakes()));
  const own = ownCommand(12, "Down", 1);
  p.addOwnCommand(own);
  const later = twoSnakes({
    tick: 10,
    snakes: [
      { body: [pos(10, 10), pos(13, 10)], direction: "Left" },
      { body: [pos(15, 20), pos(12, 20)], direction: "Right" },
    ],
    queue: [{ ...own, command_id_server: { tick: 12, user_id: 1, sequence_number: 4 } }],
  });
  p.onEvent(snapshotEvent(later));
  assert.equal(p.pendingOwnCommands().length, 0, "the snapshot's queue confirms the own command");
  const view = describeSim(p.stateAt(14));
  assert.deepEqual(view.snakes[0].body.slice(0, 2), [pos(8, 12), pos(8, 10)]);
  assert.equal(view.tick, 14);
});

test("a server event the prediction did not foresee counts as a correction", () => {
  const p = new GamePredictor();
  p.onEvent(snapshotEvent(twoSnakes()));
  p.stateAt(3);
  p.onEvent({ game_id: 1, tick: 1, sequence: 5, user_id: null, event: { SnakeDied: { snake_id: 1 } } });
  assert.equal(p.mispredictions, 1);
  assert.equal(p.serverTick, 1);
  p.onEvent({ game_id: 1, tick: 2, sequence: 6, user_id: null, event: { StatusUpdated: { status: { Complete: { winning_snake_id: 0 } } } } });
  assert.deepEqual(p.finalStatus, { Complete: { winning_snake_id: 0 } });
});
