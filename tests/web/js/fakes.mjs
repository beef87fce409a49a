// Stand-ins for the browser's WebSocket and timers, so the client's protocol
// conversations run under node exactly as written, with time under the test's control.

export class FakeTimers {
  constructor() {
    this.now = 0;
    this.pending = [];
    this.nextId = 1;
  }

  setTimeout(fn, ms) {
    const id = this.nextId++;
    this.pending.push({ id, at: this.now + ms, fn });
    return id;
  }

  clearTimeout(id) {
    this.pending = this.pending.filter((t) => t.id !== id);
  }

  /** Run every timer due within `ms`, in time order. */
  advance(ms) {
    const end = this.now + ms;
    for (;;) {
      this.pending.sort((a, b) => a.at - b.at);
      const next = this.pending[0];
      if (!next || next.at > end) break;
      this.pending.shift();
      this.now = next.at;
      next.fn();
    }
    this.now = end;
  }
}

export class FakeSocket {
  static instances = [];

  constructor(url) {
    this.url = url;
    this.sent = [];
    this.readyState = 0;
    FakeSocket.instances.push(this);
  }

  static latest() {
    return FakeSocket.instances[FakeSocket.instances.length - 1];
  }

  send(text) {
    if (this.readyState !== 1) throw new Error("send on a socket that is not open");
    this.sent.push(JSON.parse(text));
  }

  close(code = 1000, reason = "") {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }

  // --- what the server side does -----------------------------------------------------
  accept() {
    this.readyState = 1;
    this.onopen?.();
  }

  /** A message as the server encodes it (bare strings too: "QueueLeft" -> "\"QueueLeft\""). */
  deliver(message) {
    this.deliverText(JSON.stringify(message));
  }

  deliverText(text) {
    this.onmessage?.({ data: text });
  }

  drop(code = 1006, reason = "") {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }

  /** Messages sent, without the clock sync chatter. */
  messages() {
    return this.sent.filter((m) => !(m && typeof m === "object" && "ClockSyncRequest" in m));
  }
}

/** A screen that records what the app asked of it. */
export function recordingScreen(log, name) {
  return new Proxy(
    {},
    {
      get(_, method) {
        return (...args) => log.push([name, method, ...args]);
      },
    },
  );
}

export class MemoryStorage {
  constructor() {
    this.items = new Map();
  }
  getItem(key) {
    return this.items.has(key) ? this.items.get(key) : null;
  }
  setItem(key, value) {
    this.items.set(key, String(value));
  }
  removeItem(key) {
    this.items.delete(key);
  }
}

/**
 * Everything an App shows, recorded: `deps` to pass to App (screens, notices, topbar),
 * `log` of screen calls as [screen, method, ...args], `notices` as [kind, title, text].
 */
export function recordedUi() {
  const log = [];
  const notices = [];
  const screens = {};
  for (const name of ["auth", "home", "queue", "lobby", "game", "replay"]) screens[name] = recordingScreen(log, name);
  const notice = (kind) => (title, text) => notices.push([kind, title, text]);
  return {
    log,
    notices,
    deps: {
      screens,
      notices: { info: notice("info"), warning: notice("warning"), error: notice("error") },
      topbar: recordingScreen(log, "topbar"),
    },
  };
}
