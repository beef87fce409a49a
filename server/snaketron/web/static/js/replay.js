// A replay as a timeline the viewer can play and seek: the board at every tick,
// computed once from the server's replay stream (GET /api/games/<id>/replay).
//
// The stream is what a spectator received: the opening Snapshot, then every event
// with its tick. The board between snapshots is computed with the same rules the
// client predicts with (rules.js) from the scheduled commands, and every Snapshot in
// the stream (one each 10 ticks) resets it to the server's own state, so the board
// shown is the server's. Deaths and food eaten are the markers of the timeline.

import { variantOf } from "./protocol.js";
import { cloneSim, computeTick, simFromState } from "./rules.js";

/** Names by snake id, from a GameState's players and usernames. */
function namesOf(gameState) {
  const names = [];
  for (const { user_id: userId, snake_id: snakeId } of Object.values(gameState.players)) {
    names[snakeId] = gameState.usernames?.[String(userId)] ?? `player ${userId}`;
  }
  return names;
}

/**
 * @param replay {{game_id, final_tick, tick_duration_ms, events}}
 * @returns {{gameId, gameType, names, tickMs, finalTick, frames, markers, finalStatus}}
 *   frames[t]: the board before tick t is computed (frames[finalTick]: the end);
 *   markers: [{tick, kind: "death"|"food", snakeId}] at the tick they happened in.
 */
export function buildTimeline(replay) {
  const events = replay.events;
  const opening = events[0]?.event?.Snapshot?.game_state;
  if (!opening) throw new Error("the replay does not begin with a Snapshot");
  let sim = simFromState(opening);
  const frames = [cloneSim(sim)];
  const markers = [];
  let finalStatus = null;
  const keep = () => {
    frames[sim.tick] = cloneSim(sim);
  };
  const advanceTo = (tick) => {
    while (sim.tick < tick && variantOf(sim.status)[0] === "Started") {
      computeTick(sim);
      keep();
    }
  };
  const finalTick = Math.max(replay.final_tick, 0);
  for (const message of events.slice(1)) {
    const [tag, payload] = variantOf(message.event);
    // The end comes last: a tick that completes the game carries its own number (the
    // board after it is the final one), an abandon the number of the tick not computed.
    const ending = tag === "StatusUpdated" && variantOf(payload.status)[0] === "Complete";
    advanceTo(ending ? finalTick : message.tick);
    if (tag === "Snapshot") {
      sim = simFromState(payload.game_state);
      keep();
    } else if (tag === "CommandScheduled") {
      sim.queue.push(payload.command_message);
    } else if (tag === "StatusUpdated") {
      sim.status = structuredClone(payload.status);
      if (variantOf(payload.status)[0] === "Complete") finalStatus = payload.status;
    } else if (tag === "SnakeDied") {
      markers.push({ tick: message.tick, kind: "death", snakeId: payload.snake_id });
    } else if (tag === "FoodEaten") {
      markers.push({ tick: message.tick, kind: "food", snakeId: payload.snake_id });
    }
  }
  advanceTo(finalTick);
  // A finished game's board stays as it ended; ticks with no board of their own
  // (before the first snapshot after a start) show the one before.
  for (let t = 0; t <= finalTick; t++) if (!frames[t]) frames[t] = frames[t - 1] ?? frames[0];
  frames.length = finalTick + 1;
  return {
    gameId: replay.game_id,
    gameType: opening.game_type,
    names: namesOf(opening),
    tickMs: replay.tick_duration_ms || opening.properties.tick_duration_ms,
    finalTick,
    frames,
    markers,
    finalStatus,
  };
}

/** Playback position: a tick and the fraction of the way to the next. */
export class ReplayClock {
  constructor(finalTick) {
    this.finalTick = finalTick;
    this.position = 0; // in ticks, fractional
    this.speed = 1;
    this.playing = false;
  }

  /** Move on by `elapsedMs` of real time at `tickMs` per tick; stops at the end. */
  advance(elapsedMs, tickMs) {
    if (!this.playing) return;
    this.position = Math.min(this.finalTick, this.position + (elapsedMs / tickMs) * this.speed);
    if (this.position >= this.finalTick) this.playing = false;
  }

  seek(tick) {
    this.position = Math.min(Math.max(0, Math.trunc(tick)), this.finalTick);
  }

  play() {
    if (this.position >= this.finalTick) this.position = 0; // play again from the start
    this.playing = true;
  }

  get tick() {
    return Math.floor(this.position);
  }

  get fraction() {
    return this.position - Math.floor(this.position);
  }
}

export const REPLAY_SPEEDS = Object.freeze([0.5, 1, 2, 4]);
