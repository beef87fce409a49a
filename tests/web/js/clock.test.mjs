import assert from "node:assert/strict";
import { test } from "node:test";
import { JS } from "./paths.mjs";

const { ClockSync, tickAt } = await import(`${JS}clock.js`);

test("the offset comes from the sample with the shortest round trip", () => {
  let now = 1000;
  const clock = new ClockSync(() => now);
  assert.equal(clock.offsetMs, 0);
  // Sent at 900, answered at 1000: rtt 100, the server said 5950 -> offset 5950 - 950.
  clock.onResponse({ client_time: 900, server_time: 5950 });
  assert.equal(clock.offsetMs, 5000);
  now = 2000;
  // A quicker exchange gives a better estimate and wins.
  clock.onResponse({ client_time: 1990, server_time: 6997 });
  assert.equal(clock.roundTripMs, 10);
  assert.equal(clock.offsetMs, 5002);
  now = 3000;
  clock.onResponse({ client_time: 2500, server_time: 0 });
  assert.equal(clock.offsetMs, 5002);
  assert.equal(clock.serverNow(), 8002);
});

test("ticks follow docs/RULES.md: tick T covers [start + T*tick, start + (T+1)*tick)", () => {
  assert.deepEqual(tickAt(1000, 1000, 100), { tick: 0, fraction: 0 });
  assert.equal(tickAt(1099, 1000, 100).tick, 0);
  assert.equal(tickAt(1100, 1000, 100).tick, 1);
  assert.equal(tickAt(999, 1000, 100).tick, -1);
  assert.ok(Math.abs(tickAt(1250, 1000, 100).fraction - 0.5) < 1e-9);
});
