// The game and spectator view: the arena on a canvas drawn every animation frame from
// the predicted state, the scoreboard and status, the countdown before a delayed
// start, keyboard turns, and the game-over panel.

import { tickAt } from "../clock.js";
import { byId, el } from "../dom.js";
import { directionForKey } from "../input.js";
import { describeGameType, readStatus, variantOf } from "../protocol.js";
import { ArenaRenderer, snakeColour } from "../render.js";
import { compressBody } from "../rules.js";

// Spectators cannot be predicted for (they send nothing): they watch the state the
// server has just committed, which never needs correcting. The server computes tick T
// once real time reaches tick T+6 (docs/RULES.md "Time, lag and commands").
export const SPECTATOR_LAG_TICKS = 6;

/** Names by snake id, from a GameState's players and usernames. */
export function namesBySnake(gameState) {
  const names = [];
  for (const { user_id: userId, snake_id: snakeId } of Object.values(gameState.players)) {
    names[snakeId] = gameState.usernames?.[String(userId)] ?? `player ${userId}`;
  }
  return names;
}

/** The drawable view between `prev` and `next` sims (bodies compressed for lines). */
export function buildView(prev, next, { names, mySnakeId }) {
  return {
    width: next.width,
    height: next.height,
    zones: next.zones,
    food: next.food,
    snakes: next.snakes.map((s, id) => ({
      body: compressBody(s.cells),
      prevBody: prev.snakes[id] ? compressBody(prev.snakes[id].cells) : null,
      isAlive: s.isAlive,
      teamId: s.teamId,
      name: names[id] ?? null,
      isMine: id === mySnakeId,
    })),
  };
}

/**
 * The game-over headline for the person watching or playing.
 * @param teams team id by snake id (null entries outside team games)
 */
export function describeOutcome({ winningSnakeId, mySnakeId, names, isSolo, myLength, teams = [] }) {
  if (isSolo) return { title: "Game over", detail: `Final length: ${myLength ?? "?"}` };
  if (winningSnakeId === null || winningSnakeId === undefined) return { title: "Draw", detail: "No snake survived." };
  const winner = names[winningSnakeId] ?? `snake ${winningSnakeId}`;
  const winningTeam = teams[winningSnakeId] ?? null;
  const teamText = winningTeam === null ? "" : `Team ${winningTeam + 1} wins. `;
  if (mySnakeId === null || mySnakeId === undefined) {
    return { title: winningTeam === null ? `${winner} wins` : `Team ${winningTeam + 1} wins`, detail: `${teamText}${winner} decided it.` };
  }
  if (winningSnakeId === mySnakeId) return { title: "You win!", detail: teamText || "Last snake standing." };
  if (winningTeam !== null && teams[mySnakeId] === winningTeam) {
    return { title: "Your team wins!", detail: `${winner} decided it.` };
  }
  return { title: "You lose", detail: winningTeam === null ? `${winner} wins.` : `${teamText}${winner} decided it.` };
}

export class GameScreen {
  /** @param actions {{turn(direction), leave(), playAgain(), home(), watchReplay()}} */
  constructor(actions) {
    this.actions = actions;
    this.root = byId("screen-game");
    this.renderer = new ArenaRenderer(byId("arena"));
    this.session = null;
    this.frameRequest = null;
    this.lastScoreTick = null;
    this.lastDrawn = null; // {tick, view} of the latest frame drawn
    byId("leave-game").addEventListener("click", () => actions.leave());
    byId("play-again").addEventListener("click", () => actions.playAgain());
    byId("back-home").addEventListener("click", () => actions.home());
    byId("watch-replay").addEventListener("click", () => actions.watchReplay());
    globalThis.addEventListener("keydown", (event) => this.onKey(event));
  }

  /** @param session {{predictor, clock, role, kind, myUserId, gameType}} */
  show(session) {
    this.session = session;
    this.root.hidden = false;
    this.lastScoreTick = null;
    this.lastDrawn = null;
    byId("game-over").hidden = true;
    byId("game-help").hidden = session.role === "spectator";
    byId("leave-game").textContent = session.role === "spectator" ? "Stop watching" : "Leave game";
    if (!this.frameRequest) this.frameRequest = requestAnimationFrame(() => this.frame());
  }

  hide() {
    this.root.hidden = true;
    this.session = null;
    if (this.frameRequest) cancelAnimationFrame(this.frameRequest);
    this.frameRequest = null;
  }

  onKey(event) {
    if (!this.session || this.root.hidden || this.session.role !== "player") return;
    if (event.target instanceof HTMLInputElement) return;
    const direction = directionForKey(event);
    if (!direction) return;
    event.preventDefault(); // arrows would scroll the page
    if (!event.repeat) this.actions.turn(direction);
  }

  frame() {
    this.frameRequest = requestAnimationFrame(() => this.frame());
    const session = this.session;
    if (!session) return;
    const predictor = session.predictor;
    if (!predictor.hasState) {
      byId("game-status").textContent = "Joining…";
      return;
    }
    const snapshot = predictor.snapshot;
    const tickMs = snapshot.properties.tick_duration_ms;
    const now = session.clock.serverNow();
    let { tick, fraction } = tickAt(now, snapshot.start_ms, tickMs);
    if (session.role === "spectator") tick -= SPECTATOR_LAG_TICKS;
    const prev = predictor.stateAt(tick);
    const status = readStatus(prev.status);
    if (status.kind !== "Started" || prev.tick !== tick) fraction = 0; // not moving: no glide
    const next = predictor.stepAfter(prev);
    const names = namesBySnake(snapshot);
    const mySnakeId = session.mySnakeId();
    const wrap = byId("arena-wrap");
    this.renderer.resize(prev.width, prev.height, wrap.clientWidth || 640, Math.max(300, globalThis.innerHeight - 140));
    const view = buildView(prev, next, { names, mySnakeId });
    this.renderer.draw(view, Math.min(Math.max(fraction, 0), 1));
    // What the canvas shows, readable from outside (the end-to-end tests, debugging):
    // pixels alone cannot say which snake is where.
    this.lastDrawn = { tick: prev.tick, view };

    const countdown = byId("countdown");
    const untilStart = snapshot.start_ms - now;
    countdown.hidden = !(status.kind === "Started" && untilStart > 0);
    if (!countdown.hidden) countdown.textContent = String(Math.ceil(untilStart / 1000));

    if (this.lastScoreTick !== prev.tick) {
      this.lastScoreTick = prev.tick;
      this.renderScoreboard(prev, names, mySnakeId);
      this.renderStatus(prev, snapshot, untilStart);
    }
    this.renderNet(session);
    if (predictor.finalStatus && byId("game-over").hidden) this.showGameOver(prev, names, mySnakeId);
  }

  renderScoreboard(sim, names, mySnakeId) {
    const board = byId("scoreboard");
    board.replaceChildren(
      ...sim.snakes.map((s, id) =>
        el(
          "li",
          { class: [s.isAlive ? "" : "dead", id === mySnakeId ? "me" : ""].join(" ").trim() || null },
          el("span", { class: "swatch", style: { background: snakeColour(id, s.teamId) } }),
          names[id] ?? `snake ${id}`,
          s.teamId !== null && s.teamId !== undefined ? ` (team ${s.teamId + 1})` : "",
          ` — ${s.cells.length}`,
        ),
      ),
    );
  }

  renderStatus(sim, snapshot, untilStart) {
    const session = this.session;
    byId("game-title").textContent =
      (session.role === "spectator" ? "Watching: " : "") + describeGameType(snapshot.game_type);
    const status = readStatus(sim.status);
    const alive = sim.snakes.filter((s) => s.isAlive).length;
    let text;
    if (status.kind === "Stopped") text = "Waiting for the game to start…";
    else if (status.kind === "Complete") text = `Game over at tick ${sim.tick}`;
    else if (untilStart > 0) text = "Get ready…";
    else text = `Tick ${sim.tick} · ${alive} alive`;
    const mine = session.mySnakeId();
    if (status.kind === "Started" && mine !== null && sim.snakes[mine] && !sim.snakes[mine].isAlive) {
      text += " · you crashed";
    }
    byId("game-status").textContent = text;
  }

  renderNet(session) {
    const p = session.predictor;
    const rtt = session.clock.roundTripMs;
    byId("game-net").textContent =
      `rtt ${rtt === null ? "?" : Math.round(rtt)} ms · server tick ${p.serverTick}` +
      (p.mispredictions ? ` · corrections ${p.mispredictions}` : "");
  }

  showGameOver(sim, names, mySnakeId) {
    const session = this.session;
    const { winningSnakeId } = readStatus(session.predictor.finalStatus);
    const [typeTag, typePayload] = variantOf(session.predictor.snapshot.game_type);
    const isSolo =
      typeTag === "Solo" || (typeTag === "Custom" && variantOf(typePayload.settings.game_mode)[0] === "Solo");
    const myLength = mySnakeId !== null ? sim.snakes[mySnakeId]?.cells.length : undefined;
    const outcome = describeOutcome({
      winningSnakeId,
      mySnakeId: session.role === "player" ? mySnakeId : null,
      names,
      isSolo,
      myLength,
      teams: sim.snakes.map((s) => s.teamId ?? null),
    });
    byId("game-over-title").textContent = outcome.title;
    byId("game-over-detail").textContent = outcome.detail;
    byId("game-over-rating").textContent = session.kind === "match" ? "Rating: updating…" : "";
    byId("play-again").hidden = session.role !== "player" || session.kind === "custom";
    byId("game-over").hidden = false;
    session.onGameOver?.();
  }

  /** The rating change of a matchmade game, once /api/auth/me shows it. */
  showRating(before, after) {
    const node = byId("game-over-rating");
    if (before === null || after === null) {
      node.textContent = "Rating: not available.";
      return;
    }
    const delta = Math.round(after - before);
    node.textContent = `Rating: ${Math.round(before)} → ${Math.round(after)} (${delta >= 0 ? "+" : ""}${delta})`;
  }
}
