import assert from "node:assert/strict";
import { test } from "node:test";
import { FakeSocket, FakeTimers } from "./fakes.mjs";
import { JS } from "./paths.mjs";

const { ServerConnection } = await import(`${JS}connection.js`);
const { ClockSync } = await import(`${JS}clock.js`);

function connect() {
  FakeSocket.instances = [];
  const timers = new FakeTimers();
  const states = [];
  const received = [];
  const connection = new ServerConnection({
    url: "ws://127.0.0.1:8080/ws",
    token: "jwt-1",
    clock: new ClockSync(() => timers.now),
    WebSocketImpl: FakeSocket,
    timers,
    onMessage: (m) => received.push(m),
    onState: (state, detail) => states.push([state, detail]),
  });
  connection.start();
  return { connection, timers, states, received };
}

test("on open: Token first, then a burst of clock sync requests", () => {
  const { connection, timers, states } = connect();
  const socket = FakeSocket.latest();
  assert.equal(socket.url, "ws://127.0.0.1:8080/ws");
  socket.accept();
  assert.deepEqual(socket.sent[0], { Token: "jwt-1" });
  assert.deepEqual(socket.sent[1], { ClockSyncRequest: { client_time: 0 } });
  timers.advance(1000);
  assert.equal(socket.sent.filter((m) => m.ClockSyncRequest).length, 5);
  socket.deliver({ Authenticated: { user_id: 7, username: "ann" } });
  assert.equal(connection.state, "ready");
  assert.deepEqual(states.at(-1), ["ready", { reconnected: false, user: { user_id: 7, username: "ann" } }]);
  // The clock keeps being synced while connected.
  timers.advance(10_000);
  assert.equal(socket.sent.filter((m) => m.ClockSyncRequest).length, 6);
});

test("clock sync responses feed the clock", () => {
  const { connection, timers } = connect();
  const socket = FakeSocket.latest();
  socket.accept();
  timers.advance(40);
  socket.deliver({ ClockSyncResponse: { client_time: 0, server_time: 1_000_020 } });
  assert.equal(connection.clock.offsetMs, 1_000_000);
});

test("after a drop it reconnects with backoff and says so", () => {
  const { timers, states } = connect();
  const first = FakeSocket.latest();
  first.accept();
  first.deliver({ Authenticated: { user_id: 7, username: "ann" } });
  first.drop(1006);
  assert.equal(states.at(-1)[0], "reconnecting");
  assert.equal(FakeSocket.instances.length, 1);
  timers.advance(400);
  const second = FakeSocket.latest();
  assert.notEqual(second, first);
  second.drop(1006); // the server is still down: wait longer
  timers.advance(400);
  assert.equal(FakeSocket.instances.length, 2);
  timers.advance(1000);
  const third = FakeSocket.latest();
  assert.equal(FakeSocket.instances.length, 3);
  third.accept();
  assert.deepEqual(third.sent[0], { Token: "jwt-1" });
  third.deliver({ Authenticated: { user_id: 7, username: "ann" } });
  assert.deepEqual(states.at(-1)[1].reconnected, true);
});

test("a refused token stops it: no reconnect loop", () => {
  const { connection, timers, states } = connect();
  const socket = FakeSocket.latest();
  socket.accept();
  socket.deliver({ AccessDenied: { reason: "invalid token" } });
  socket.drop(1008);
  assert.deepEqual(states.at(-1), ["rejected", { reason: "invalid token" }]);
  timers.advance(60_000);
  assert.equal(FakeSocket.instances.length, 1);
  assert.equal(connection.send("Ping"), false);
});

test("stop() closes and never reconnects", () => {
  const { connection, timers } = connect();
  FakeSocket.latest().accept();
  connection.stop();
  timers.advance(60_000);
  assert.equal(FakeSocket.instances.length, 1);
  assert.equal(connection.state, "closed");
});
