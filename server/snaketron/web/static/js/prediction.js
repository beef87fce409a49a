// Client-side prediction: the server's committed state runs 5 ticks behind real time,
// so the client shows the state it predicts for "now" by running the same rules
// (rules.js) from the latest Snapshot with every command it knows of: the server's
// scheduled commands (CommandScheduled) and its own commands not yet confirmed.
//
// Correction is by construction: whenever the server tells something new (a Snapshot,
// a command, an event that disagrees), the prediction is recomputed from the
// snapshot. Snapshots come every 10 ticks, so a recomputation is ~15-20 cheap ticks.

import { variantOf } from "./protocol.js";
import { advanceTo, cloneSim, compareCommands, computeTick, simFromState } from "./rules.js";

const sameId = (a, b) => a.tick === b.tick && a.user_id === b.user_id && a.sequence_number === b.sequence_number;

// An own command the server never confirms (lost, or refused) stops counting after this.
const UNCONFIRMED_TTL_TICKS = 30;

export class GamePredictor {
  constructor() {
    this.snapshot = null; // the latest wire GameState
    this.base = null; // Sim of the snapshot
    this.scheduled = []; // commands the server scheduled after the snapshot
    this.unconfirmed = []; // own commands sent, not yet seen in a CommandScheduled
    this.cache = null; // {sim, events} advanced from base, reused while nothing changes
    this.serverTick = -1; // highest tick of an event the server has committed
    this.finalStatus = null; // the server's Complete status, once sent
    this.mispredictions = 0;
    this.predictedEvents = new Map(); // tick -> event keys predicted for it (to check)
  }

  get hasState() {
    return this.base !== null;
  }

  /** Feed one GameEventMessage (already decoded). */
  onEvent(message) {
    const [tag, payload] = variantOf(message.event);
    switch (tag) {
      case "Snapshot":
        this.onSnapshot(payload.game_state);
        break;
      case "CommandScheduled":
        this.onCommandScheduled(payload.command_message);
        break;
      case "StatusUpdated": {
        const [kind] = variantOf(payload.status);
        if (kind === "Complete") this.finalStatus = payload.status;
        this.checkPrediction(message.tick, tag, payload);
        break;
      }
      default:
        this.checkPrediction(message.tick, tag, payload);
    }
    if (tag !== "CommandScheduled" && tag !== "Snapshot") this.serverTick = Math.max(this.serverTick, message.tick);
  }

  onSnapshot(gameState) {
    this.snapshot = gameState;
    this.base = simFromState(gameState);
    this.scheduled = [];
    const queued = gameState.command_queue.queue;
    this.unconfirmed = this.unconfirmed.filter(
      (own) => !queued.some((c) => sameId(c.command_id_client, own.command_id_client)),
    );
    this.serverTick = Math.max(this.serverTick, gameState.tick - 1);
    const [kind] = variantOf(gameState.status);
    if (kind === "Complete") this.finalStatus = gameState.status;
    this.invalidate();
  }

  onCommandScheduled(commandMessage) {
    this.unconfirmed = this.unconfirmed.filter(
      (own) => !sameId(own.command_id_client, commandMessage.command_id_client),
    );
    this.scheduled.push(commandMessage);
    this.invalidate();
  }

  /** An own command just sent: predicted at its client tick until the server confirms it. */
  addOwnCommand(commandMessage) {
    this.unconfirmed.push(commandMessage);
    this.invalidate();
  }

  /** Own commands still waiting for the server (for the input buffer). */
  pendingOwnCommands() {
    return this.unconfirmed.slice();
  }

  invalidate() {
    this.cache = null;
    // Predictions made before this news are stale: only check the recomputed ones.
    this.predictedEvents.clear();
  }

  /** A server event for a tick we predicted: a disagreement means we missed something. */
  checkPrediction(tick, tag, payload) {
    const predicted = this.predictedEvents.get(tick);
    if (predicted && !predicted.has(eventKey(tag, payload))) {
      this.mispredictions += 1;
      this.invalidate();
    }
  }

  /**
   * The predicted sim at `tick` (ticks before `tick` computed). Never earlier than the
   * snapshot; stops advancing once the game is no longer Started.
   */
  stateAt(tick) {
    if (!this.base) return null;
    const wanted = Math.max(tick, this.base.tick);
    if (!this.cache || this.cache.sim.tick > wanted) this.cache = { sim: this.rebuildBase() };
    const sim = this.cache.sim;
    for (const { tick: t, events } of advanceTo(sim, wanted)) this.rememberPrediction(t, events);
    return sim;
  }

  /** The sim one tick after `sim` (for drawing between ticks), without touching the cache. */
  stepAfter(sim) {
    const next = cloneSim(sim);
    computeTick(next);
    return next;
  }

  rebuildBase() {
    const sim = cloneSim(this.base);
    const floor = sim.tick;
    const own = this.unconfirmed
      .filter((c) => c.command_id_client.tick >= floor - UNCONFIRMED_TTL_TICKS)
      // An own command stamped for a tick the server already computed will run at the
      // next computed tick: predict it there.
      .map((c) =>
        c.command_id_client.tick >= floor
          ? c
          : { ...c, command_id_server: { ...c.command_id_client, tick: floor } },
      );
    this.unconfirmed = this.unconfirmed.filter((c) => c.command_id_client.tick >= floor - UNCONFIRMED_TTL_TICKS);
    sim.queue = sim.queue.concat(this.scheduled, own).sort(compareCommands);
    return sim;
  }

  rememberPrediction(tick, events) {
    const keys = new Set(events.map((e) => eventKey(...variantOf(e))));
    this.predictedEvents.set(tick, keys);
    if (this.predictedEvents.size > 64) {
      const oldest = this.predictedEvents.keys().next().value;
      this.predictedEvents.delete(oldest);
    }
  }
}

function eventKey(tag, payload) {
  return `${tag}:${JSON.stringify(payload)}`;
}
