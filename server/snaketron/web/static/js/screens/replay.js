// The replay viewer: the arena drawn from a replay's timeline, play/pause, speed
// (0.5x-4x), a timeline to seek to any tick with markers at deaths and food eaten.

import { byId, el } from "../dom.js";
import { describeGameType, readStatus } from "../protocol.js";
import { ArenaRenderer, snakeColour } from "../render.js";
import { ReplayClock, REPLAY_SPEEDS } from "../replay.js";
import { buildView } from "./game.js";

export class ReplayScreen {
  /** @param actions {{back()}} */
  constructor(actions) {
    this.root = byId("screen-replay");
    this.renderer = new ArenaRenderer(byId("replay-arena"));
    this.timeline = null;
    this.clock = null;
    this.frameRequest = null;
    this.lastFrameAt = null;
    this.lastDrawn = null; // {tick, view}: what the canvas shows, for tests and debugging
    const speed = byId("replay-speed");
    for (const value of REPLAY_SPEEDS) {
      speed.append(el("option", { value: String(value), selected: value === 1 }, `${value}x`));
    }
    speed.addEventListener("change", () => {
      if (this.clock) this.clock.speed = Number(speed.value);
    });
    byId("replay-play").addEventListener("click", () => this.togglePlay());
    byId("replay-seek").addEventListener("input", (event) => this.seek(Number(event.target.value)));
    byId("replay-back").addEventListener("click", () => actions.back());
  }

  /** @param timeline the result of buildTimeline */
  show(timeline) {
    this.timeline = timeline;
    this.clock = new ReplayClock(timeline.finalTick);
    this.clock.speed = Number(byId("replay-speed").value) || 1;
    this.root.hidden = false;
    byId("replay-title").textContent = `Replay of game ${timeline.gameId}`;
    byId("replay-type").textContent = describeGameType(timeline.gameType);
    byId("replay-link").textContent = new URL(`replay/${timeline.gameId}`, document.baseURI).href;
    const seek = byId("replay-seek");
    seek.max = String(timeline.finalTick);
    seek.value = "0";
    this.renderMarkers();
    this.renderPlayers();
    this.lastFrameAt = null;
    if (!this.frameRequest) this.frameRequest = requestAnimationFrame((t) => this.frame(t));
  }

  hide() {
    this.root.hidden = true;
    this.timeline = null;
    if (this.frameRequest) cancelAnimationFrame(this.frameRequest);
    this.frameRequest = null;
  }

  togglePlay() {
    if (!this.clock) return;
    if (this.clock.playing) this.clock.playing = false;
    else this.clock.play();
    this.lastFrameAt = null;
  }

  seek(tick) {
    if (!this.clock) return;
    this.clock.seek(tick);
  }

  renderMarkers() {
    const { markers, finalTick, names } = this.timeline;
    const box = byId("replay-markers");
    box.replaceChildren(
      ...markers.map((m) =>
        el("button", {
          type: "button",
          class: `marker marker-${m.kind}`,
          title: `${m.kind === "death" ? "died" : "ate"}: ${names[m.snakeId] ?? `snake ${m.snakeId}`}, tick ${m.tick}`,
          "aria-label": `${m.kind} at tick ${m.tick}`,
          dataset: { tick: m.tick, kind: m.kind },
          style: { left: `${finalTick ? (100 * m.tick) / finalTick : 0}%` },
          onclick: () => this.seek(m.tick),
        }),
      ),
    );
    const deaths = markers.filter((m) => m.kind === "death").length;
    const food = markers.length - deaths;
    byId("replay-marker-legend").textContent = `${deaths} death${deaths === 1 ? "" : "s"}, ${food} food eaten`;
  }

  renderPlayers() {
    const { names, frames } = this.timeline;
    const first = frames[0];
    byId("replay-players").replaceChildren(
      ...names.map((name, id) =>
        el(
          "li",
          {},
          el("span", { class: "swatch", style: { background: snakeColour(id, first.snakes[id]?.teamId ?? null) } }),
          name ?? `snake ${id}`,
        ),
      ),
    );
  }

  frame(now) {
    this.frameRequest = requestAnimationFrame((t) => this.frame(t));
    const timeline = this.timeline;
    if (!timeline) return;
    const clock = this.clock;
    if (this.lastFrameAt !== null) clock.advance(now - this.lastFrameAt, timeline.tickMs);
    this.lastFrameAt = now;
    const tick = clock.tick;
    const prev = timeline.frames[tick];
    const next = timeline.frames[Math.min(tick + 1, timeline.finalTick)];
    const wrap = byId("replay-wrap");
    this.renderer.resize(prev.width, prev.height, wrap.clientWidth || 640, Math.max(300, globalThis.innerHeight - 220));
    const view = buildView(prev, next, { names: timeline.names, mySnakeId: null });
    this.renderer.draw(view, clock.playing ? clock.fraction : 0);
    this.lastDrawn = { tick, view };
    byId("replay-play").textContent = clock.playing ? "Pause" : "Play";
    byId("replay-play").dataset.playing = String(clock.playing);
    const seek = byId("replay-seek");
    if (document.activeElement !== seek || clock.playing) seek.value = String(tick);
    byId("replay-tick").textContent = `tick ${tick} / ${timeline.finalTick}`;
    byId("replay-status").textContent = this.statusText(tick);
  }

  statusText(tick) {
    const { finalTick, finalStatus, names } = this.timeline;
    if (tick < finalTick || !finalStatus) return "";
    const { winningSnakeId } = readStatus(finalStatus);
    if (winningSnakeId === null || winningSnakeId === undefined) return "Game over: no winner.";
    return `Game over: ${names[winningSnakeId] ?? `snake ${winningSnakeId}`} wins.`;
  }
}
