// The app's protocol conversations (PROTOCOL.md), end to end through the real
// connection code with a fake socket: what it sends for each action and answer.

import assert from "node:assert/strict";
import { test } from "node:test";
import { FakeSocket, FakeTimers, MemoryStorage, recordedUi } from "./fakes.mjs";
import { JS } from "./paths.mjs";
import { gameState, pos } from "./states.mjs";

const { App } = await import(`${JS}app.js`);
const { ApiError } = await import(`${JS}api.js`);

const USER = { id: 1, username: "ann", mmr: 1000 };

class FakeApi {
  constructor() {
    this.mmr = 1000;
  }
  async login(username) {
    return { token: "jwt-ann", user: { ...USER, username } };
  }
  async register() {
    throw new ApiError(409, "Username already taken");
  }
  async me(token) {
    if (token !== "jwt-ann") throw new ApiError(401, "Invalid token");
    return { ...USER, mmr: this.mmr };
  }
  async liveGames() {
    return null;
  }
}

async function signedInApp({ storedToken = null } = {}) {
  FakeSocket.instances = [];
  const timers = new FakeTimers();
  const { log, notices, deps } = recordedUi();
  const storage = new MemoryStorage();
  if (storedToken) storage.setItem("snaketron.token", storedToken);
  const app = new App({
    ...deps,
    api: new FakeApi(),
    wsUrl: "ws://127.0.0.1:8080/ws",
    storage,
    WebSocketImpl: FakeSocket,
    timers,
    now: () => 1_000_000 + timers.now,
  });
  return { app, timers, log, notices, storage, shown: () => log.filter((e) => e[1] === "show").map((e) => e[0]) };
}

async function ready(ctx) {
  if (!ctx.app.token) await ctx.app.login("ann", "secret1");
  const socket = FakeSocket.latest();
  socket.accept();
  socket.deliver({ Authenticated: { user_id: 1, username: "ann" } });
  return socket;
}

const snapshot = (gameId, state, tick = state.tick) => ({
  GameEvent: { game_id: gameId, tick, sequence: 1, user_id: null, event: { Snapshot: { game_state: state } } },
});

const soloState = (startMs) => ({
  ...gameState({ snakes: [{ body: [pos(10, 10), pos(13, 10)], direction: "Left" }], gameType: "Solo" }),
  start_ms: startMs,
});

test("without a token the sign-in screen shows; logging in connects with the token", async () => {
  const ctx = await signedInApp();
  await ctx.app.start();
  assert.deepEqual(ctx.shown(), ["auth"]);
  assert.equal(FakeSocket.instances.length, 0);
  const socket = await ready(ctx);
  assert.deepEqual(socket.sent[0], { Token: "jwt-ann" });
  assert.equal(ctx.storage.getItem("snaketron.token"), "jwt-ann");
  assert.equal(ctx.shown().at(-1), "home");
  assert.ok(ctx.log.some((e) => e[0] === "home" && e[1] === "setEnabled" && e[2] === true));
});

test("an expired stored token sends the person to sign in, with a reason", async () => {
  const ctx = await signedInApp({ storedToken: "old" });
  await ctx.app.start();
  assert.deepEqual(ctx.log.find((e) => e[1] === "show"), ["auth", "show", "Your session expired: please log in again."]);
  assert.equal(ctx.storage.getItem("snaketron.token"), null);
});

test("solo: CreateSoloGame, SoloGameCreated, JoinGame, Snapshot -> game; turns carry client tick stamps", async () => {
  const ctx = await signedInApp();
  const socket = await ready(ctx);
  ctx.app.playSolo();
  assert.deepEqual(socket.messages().at(-1), "CreateSoloGame");
  socket.deliver({ SoloGameCreated: { game_id: 5 } });
  assert.deepEqual(socket.messages().at(-1), { JoinGame: 5 });
  // The game started 350 ms ago by the server's clock (offset 0): tick 3.
  socket.deliver(snapshot(5, soloState(1_000_000 + ctx.timers.now - 350)));
  assert.equal(ctx.shown().at(-1), "game");
  ctx.app.turn("Up");
  ctx.app.turn("Up"); // no change: not sent
  ctx.app.turn("Right"); // opposite of the last step after Up applies: goes to the next tick
  const commands = socket.messages().filter((m) => m.GameCommand).map((m) => m.GameCommand);
  assert.deepEqual(
    commands.map((c) => [c.command_id_client, c.command.Turn.direction, c.command.Turn.snake_id]),
    [
      [{ tick: 3, user_id: 1, sequence_number: 1 }, "Up", 0],
      [{ tick: 4, user_id: 1, sequence_number: 2 }, "Right", 0],
    ],
  );
  assert.equal(commands[0].command_id_server, null);
});

test("a drop mid-game reconnects and rejoins the game with JoinGame", async () => {
  const ctx = await signedInApp();
  const socket = await ready(ctx);
  ctx.app.playSolo();
  socket.deliver({ SoloGameCreated: { game_id: 5 } });
  socket.deliver(snapshot(5, soloState(1_000_000)));
  socket.drop(1006);
  assert.ok(ctx.notices.some(([kind, title]) => kind === "warning" && title === "Connection lost"));
  ctx.timers.advance(400);
  const again = FakeSocket.latest();
  assert.notEqual(again, socket);
  again.accept();
  again.deliver({ Authenticated: { user_id: 1, username: "ann" } });
  assert.deepEqual(again.messages(), [{ Token: "jwt-ann" }, { JoinGame: 5 }]);
});

test("quick match: QueueForMatch, QueueUpdate, the server's JoinGame answered with our own", async () => {
  const ctx = await signedInApp();
  const socket = await ready(ctx);
  await ctx.app.quickMatch({ TeamMatch: { per_team: 2 } });
  assert.deepEqual(socket.messages().at(-1), { QueueForMatch: { game_type: { TeamMatch: { per_team: 2 } } } });
  assert.equal(ctx.shown().at(-1), "queue");
  socket.deliver({ QueueUpdate: { position: 2, estimated_wait_seconds: 9 } });
  assert.deepEqual(ctx.log.at(-1), ["queue", "update", { position: 2, estimated_wait_seconds: 9 }]);
  socket.deliver({ JoinGame: 44 });
  assert.deepEqual(socket.messages().at(-1), { JoinGame: 44 });
  assert.equal(ctx.app.session.kind, "match");
  assert.equal(ctx.app.session.mmrBefore, 1000);
});

test("leaving the queue waits for QueueLeft; a drop while queued queues again", async () => {
  const ctx = await signedInApp();
  const socket = await ready(ctx);
  await ctx.app.quickMatch({ FreeForAll: { max_players: 2 } });
  socket.drop(1006);
  ctx.timers.advance(400);
  const again = FakeSocket.latest();
  again.accept();
  again.deliver({ Authenticated: { user_id: 1, username: "ann" } });
  assert.deepEqual(again.messages().at(-1), { QueueForMatch: { game_type: { FreeForAll: { max_players: 2 } } } });
  ctx.app.leaveQueue();
  assert.deepEqual(again.messages().at(-1), "LeaveQueue");
  again.deliver("QueueLeft");
  assert.equal(ctx.shown().at(-1), "home");
  assert.equal(ctx.app.queue, null);
});

test("custom lobby: create, waiting snapshot, settings, start, started snapshot -> game", async () => {
  const ctx = await signedInApp();
  const socket = await ready(ctx);
  ctx.app.createLobby();
  assert.deepEqual(socket.messages().at(-1), { CreateCustomGame: { settings: {} } });
  socket.deliver({ CustomGameCreated: { game_id: 12, game_code: "K7Q2" } });
  assert.equal(ctx.shown().at(-1), "lobby");
  const waiting = { ...gameState({ snakes: [{ body: [pos(10, 10), pos(13, 10)], direction: "Left" }] }), status: "Stopped", host_user_id: 1 };
  socket.deliver(snapshot(12, waiting));
  const render = ctx.log.filter((e) => e[0] === "lobby" && e[1] === "render").at(-1);
  assert.equal(render[2].code, "K7Q2");
  ctx.app.updateLobbySettings({ arena_width: 60 });
  assert.deepEqual(socket.messages().at(-1), { UpdateCustomGameSettings: { settings: { arena_width: 60 } } });
  socket.deliver({ CustomGameSettingsUpdated: { settings: { arena_width: 60 } } });
  assert.deepEqual(ctx.log.filter((e) => e[0] === "lobby").at(-1), ["lobby", "settingsUpdated", { arena_width: 60 }]);
  ctx.app.startLobby();
  assert.deepEqual(socket.messages().at(-1), "StartCustomGame");
  socket.deliver("CustomGameStarting");
  socket.deliver(snapshot(12, { ...waiting, status: { Started: { server_id: 1 } } }));
  assert.equal(ctx.shown().at(-1), "game");
});

test("joining a lobby by code; AccessDenied is shown with its reason", async () => {
  const ctx = await signedInApp();
  const socket = await ready(ctx);
  ctx.app.joinLobby("NOPE");
  assert.deepEqual(socket.messages().at(-1), { JoinCustomGame: { game_code: "NOPE" } });
  socket.deliver({ AccessDenied: { reason: "No lobby with that code" } });
  assert.deepEqual(ctx.notices.at(-1), ["error", "Access denied: Join lobby", "No lobby with that code"]);
  assert.equal(ctx.app.session, null);
  ctx.app.joinLobby("K7Q2");
  socket.deliver({ CustomGameJoined: { game_id: 12 } });
  assert.equal(ctx.app.session.code, "K7Q2");
  assert.equal(ctx.shown().at(-1), "lobby");
});

test("spectating by code learns the game id from its events", async () => {
  const ctx = await signedInApp();
  const socket = await ready(ctx);
  ctx.app.spectate(0, "K7Q2");
  assert.deepEqual(socket.messages().at(-1), { SpectateGame: { game_id: 0, game_code: "K7Q2" } });
  socket.deliver("SpectatorJoined");
  socket.deliver(snapshot(77, soloState(1_000_000)));
  assert.equal(ctx.app.session.gameId, 77);
  assert.equal(ctx.app.session.role, "spectator");
  assert.equal(ctx.shown().at(-1), "game");
  ctx.app.turn("Up"); // spectators send no commands
  assert.equal(socket.messages().filter((m) => m.GameCommand).length, 0);
});

test("Error, ServerShutdown and Shutdown are shown; a refused token logs out", async () => {
  const ctx = await signedInApp();
  const socket = await ready(ctx);
  socket.deliver({ Error: { code: "rate_limited", message: "Too many messages" } });
  assert.deepEqual(ctx.notices.at(-1), ["error", "Server error (rate_limited)", "Too many messages"]);
  socket.deliver({ ServerShutdown: { reason: "upgrade", grace_period_seconds: 30 } });
  assert.match(ctx.notices.at(-1)[2], /upgrade.*30 s/);
  socket.deliver("Shutdown");
  assert.equal(ctx.notices.at(-1)[1], "Server shutting down");
  socket.deliverText("{not json");
  assert.equal(ctx.notices.at(-1)[1], "Unreadable message");
  socket.drop(1001);
  ctx.timers.advance(400);
  const again = FakeSocket.latest();
  again.accept();
  again.deliver({ AccessDenied: { reason: "token expired" } });
  again.drop(1008);
  assert.equal(ctx.shown().at(-1), "auth");
  assert.equal(ctx.storage.getItem("snaketron.token"), null);
});
