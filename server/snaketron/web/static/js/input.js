// Keyboard input: arrow keys and WASD to directions, and when to stamp a turn.
//
// The rules ignore a turn opposite to the last step, so two quick presses inside one
// tick (Up then Left while moving Right) would lose the second. The client instead
// stamps a follow-up turn for the tick after the previous one, like a player expects.

import { OPPOSITE, effectiveId } from "./rules.js";
import { variantOf } from "./protocol.js";

const KEY_DIRECTIONS = Object.freeze({
  ArrowUp: "Up",
  ArrowDown: "Down",
  ArrowLeft: "Left",
  ArrowRight: "Right",
  KeyW: "Up",
  KeyS: "Down",
  KeyA: "Left",
  KeyD: "Right",
});
const LETTER_DIRECTIONS = Object.freeze({ w: "Up", s: "Down", a: "Left", d: "Right" });

// Turns buffered ahead of the current tick at most (the server clamps far-ahead ticks).
const MAX_TICKS_AHEAD = 3;

/** The direction a key event asks for, or null. */
export function directionForKey(event) {
  return KEY_DIRECTIONS[event.code] ?? KEY_DIRECTIONS[event.key] ?? LETTER_DIRECTIONS[event.key?.toLowerCase()] ?? null;
}

/**
 * The tick to stamp a turn with, or null when the turn would change nothing.
 * @param sim the predicted sim at `tick` (its queue holds the commands not yet run)
 */
export function planTurn(sim, { userId, snakeId, direction, tick }) {
  const snake = sim.snakes[snakeId];
  if (!snake || !snake.isAlive) return null;
  const own = sim.queue
    .filter((c) => effectiveId(c).user_id === userId && variantOf(c.command)[0] === "Turn")
    .sort((a, b) => effectiveId(a).tick - effectiveId(b).tick);
  if (own.length === 0) {
    if (direction === snake.direction || direction === OPPOSITE[snake.lastStep]) return null;
    return tick;
  }
  const last = own[own.length - 1];
  const lastDirection = variantOf(last.command)[1].direction;
  if (direction === lastDirection || direction === OPPOSITE[lastDirection]) return null;
  const stamp = Math.max(tick, effectiveId(last).tick + 1);
  return stamp - tick > MAX_TICKS_AHEAD ? null : stamp;
}
