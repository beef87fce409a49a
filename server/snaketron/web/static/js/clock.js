// Clock sync (PROTOCOL.md "Time"): the client measures the offset between its clock
// and the server's UTC milliseconds with ClockSyncRequest/Response, and finds the
// current tick of a game from it. The sample with the smallest round trip wins: its
// midpoint estimate has the smallest error bound (half its round trip).

const MAX_SAMPLES = 16;

export class ClockSync {
  /** @param {() => number} now the local clock in ms (injected for tests) */
  constructor(now = () => Date.now()) {
    this.now = now;
    this.samples = [];
  }

  /** Record one ClockSyncResponse payload: {client_time, server_time}. */
  onResponse({ client_time: clientTime, server_time: serverTime }) {
    const receivedAt = this.now();
    const roundTrip = receivedAt - clientTime;
    if (roundTrip < 0) return; // a response to a request from before a clock jump
    const offset = serverTime - (clientTime + roundTrip / 2);
    this.samples.push({ roundTrip, offset, at: receivedAt });
    if (this.samples.length > MAX_SAMPLES) this.samples.shift();
  }

  get isSynced() {
    return this.samples.length > 0;
  }

  best() {
    return this.samples.reduce((a, b) => (b.roundTrip < a.roundTrip ? b : a), this.samples[0]);
  }

  /** Server time minus local time, in ms (0 before the first sample). */
  get offsetMs() {
    return this.samples.length ? this.best().offset : 0;
  }

  get roundTripMs() {
    return this.samples.length ? this.best().roundTrip : null;
  }

  /** The server's clock now, in UTC ms. */
  serverNow() {
    return this.now() + this.offsetMs;
  }
}

/** The tick a game is in at `nowMs`, and how far into it (0..1), per docs/RULES.md. */
export function tickAt(nowMs, startMs, tickMs) {
  const elapsed = nowMs - startMs;
  const tick = Math.floor(elapsed / tickMs);
  return { tick, fraction: elapsed / tickMs - tick };
}
