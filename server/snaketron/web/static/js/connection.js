// The WebSocket to the game server: authenticate with the token, keep the clock in
// sync, and reconnect after a drop (the app then rejoins its game). One JSON text
// frame per message (PROTOCOL.md "Transport").

import { ClientMessage, decodeServerMessage, encodeClientMessage } from "./protocol.js";

const RECONNECT_DELAYS_MS = [300, 1000, 2000, 4000, 8000];
const CLOCK_SYNC_BURST = 5;
const CLOCK_SYNC_BURST_GAP_MS = 120;
const CLOCK_SYNC_PERIOD_MS = 10_000;
const POLICY_VIOLATION = 1008;

/**
 * States: "connecting" -> "authenticating" -> "ready"; after a drop "reconnecting";
 * "rejected" when the server refused the token (no retry); "closed" after stop().
 */
export class ServerConnection {
  constructor({ url, token, clock, onMessage, onState, WebSocketImpl, timers }) {
    this.url = url;
    this.token = token;
    this.clock = clock;
    this.onMessage = onMessage;
    this.onState = onState;
    this.WebSocketImpl = WebSocketImpl ?? globalThis.WebSocket;
    this.timers = timers ?? globalThis;
    this.socket = null;
    this.state = "closed";
    this.attempt = 0;
    this.wasReady = false;
    this.stopped = true;
    this.lastDenial = null;
    this.pendingTimers = new Set();
  }

  start() {
    this.stopped = false;
    this.open();
  }

  stop() {
    this.stopped = true;
    for (const id of this.pendingTimers) this.timers.clearTimeout(id);
    this.pendingTimers.clear();
    if (this.socket) this.socket.close(1000, "bye");
    this.socket = null;
    this.setState("closed");
  }

  /** Send one client message; false when the socket is not open (the caller may retry). */
  send(message) {
    if (!this.socket || this.socket.readyState !== 1) return false;
    this.socket.send(encodeClientMessage(message));
    return true;
  }

  get isReady() {
    return this.state === "ready";
  }

  // --- internals ---------------------------------------------------------------

  setState(state, detail = {}) {
    this.state = state;
    this.onState?.(state, detail);
  }

  later(ms, fn) {
    const id = this.timers.setTimeout(() => {
      this.pendingTimers.delete(id);
      fn();
    }, ms);
    this.pendingTimers.add(id);
  }

  open() {
    this.setState(this.wasReady ? "reconnecting" : "connecting", { attempt: this.attempt });
    let socket;
    try {
      socket = new this.WebSocketImpl(this.url);
    } catch (err) {
      this.scheduleReconnect(`cannot open ${this.url}: ${err.message}`);
      return;
    }
    this.socket = socket;
    this.lastDenial = null;
    socket.onopen = () => {
      if (socket !== this.socket) return;
      this.setState("authenticating");
      this.send(ClientMessage.token(this.token));
      this.syncClock(CLOCK_SYNC_BURST);
    };
    socket.onmessage = (event) => {
      if (socket !== this.socket) return;
      this.receive(event.data);
    };
    socket.onclose = (event) => {
      if (socket !== this.socket) return;
      this.socket = null;
      this.closed(event.code, event.reason);
    };
    socket.onerror = () => {
      // A close event always follows; reconnecting is decided there.
    };
  }

  receive(data) {
    if (typeof data !== "string") return; // the protocol only has text frames
    let message;
    try {
      message = decodeServerMessage(data);
    } catch (err) {
      this.onMessage?.({ type: "ClientProtocolError", value: { message: err.message } });
      return;
    }
    if (message.type === "ClockSyncResponse") this.clock.onResponse(message.value);
    if (message.type === "AccessDenied" && this.state === "authenticating") this.lastDenial = message.value.reason;
    if (message.type === "Authenticated") {
      const reconnected = this.wasReady;
      this.wasReady = true;
      this.attempt = 0;
      this.setState("ready", { reconnected, user: message.value });
    }
    this.onMessage?.(message);
  }

  closed(code, reason) {
    if (this.stopped) return;
    if (code === POLICY_VIOLATION && this.state === "authenticating") {
      // The token was refused: retrying with the same token cannot help.
      this.stopped = true;
      this.setState("rejected", { reason: this.lastDenial || reason || "the server refused the token" });
      return;
    }
    this.scheduleReconnect(reason || `connection closed (${code})`);
  }

  scheduleReconnect(why) {
    const base = RECONNECT_DELAYS_MS[Math.min(this.attempt, RECONNECT_DELAYS_MS.length - 1)];
    const delay = base / 2 + Math.random() * (base / 2); // jitter: clients do not return in lockstep
    this.attempt += 1;
    this.setState("reconnecting", { attempt: this.attempt, why, delayMs: delay });
    this.later(delay, () => {
      if (!this.stopped) this.open();
    });
  }

  syncClock(count) {
    const socket = this.socket;
    const ask = (left) => {
      if (this.stopped || socket !== this.socket) return;
      this.send(ClientMessage.clockSyncRequest(this.clock.now()));
      if (left > 1) this.later(CLOCK_SYNC_BURST_GAP_MS, () => ask(left - 1));
      else this.later(CLOCK_SYNC_PERIOD_MS, () => ask(1));
    };
    ask(count);
  }
}
