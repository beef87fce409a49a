// Drives the browser client's own App (protocol, connection, prediction; screens
// replaced by recorders) against a running `snaketron serve`, with node's WebSocket
// (node --experimental-websocket). The headless-browser tests will cover the DOM; this
// covers every protocol conversation of the client against the real server.
//
// usage: node --experimental-websocket live_client.mjs <api base url> <ws url>
// stdout: one JSON object {ok, steps: [...], failure?, facts}

import { JS } from "./paths.mjs";
import { MemoryStorage, recordedUi } from "./fakes.mjs";

const { App } = await import(`${JS}app.js`);
const { ApiClient } = await import(`${JS}api.js`);
const { readStatus } = await import(`${JS}protocol.js`);
const { describeSim } = await import(`${JS}rules.js`);
const { tickAt } = await import(`${JS}clock.js`);

const [apiBase, wsUrl] = process.argv.slice(2);
const steps = [];
const facts = {};
const suffix = Math.random().toString(36).slice(2, 8);

function client(name) {
  const { log, notices, deps } = recordedUi();
  const app = new App({ ...deps, api: new ApiClient(apiBase), wsUrl, storage: new MemoryStorage() });
  return { name, app, log, notices, screen: () => app.screen };
}

async function until(what, condition, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = condition();
    if (value) return value;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`timed out waiting for: ${what}`);
}

async function step(name, fn) {
  const started = Date.now();
  await fn();
  steps.push({ name, ms: Date.now() - started });
}

const currentTick = (app) => {
  const snapshot = app.session.predictor.snapshot;
  return tickAt(app.clock.serverNow(), snapshot.start_ms, snapshot.properties.tick_duration_ms).tick;
};

async function signUp(c) {
  const username = `${c.name}_${suffix}`;
  await c.app.register(username, "correct horse");
  await until(`${c.name} authenticated`, () => c.app.connection?.isReady && c.app.clock.isSynced);
  return username;
}

const ann = client("ann");
const bob = client("bob");
const cat = client("cat");
const clients = [ann, bob, cat];

try {
  await step("three accounts sign up and connect", async () => {
    for (const c of clients) await signUp(c);
    facts.clockRoundTripMs = ann.app.clock.roundTripMs;
  });

  await step("solo: create, join, steer, play until the snake dies", async () => {
    ann.app.playSolo();
    await until("solo snapshot", () => ann.screen() === "game" && ann.app.session?.predictor.hasState);
    const session = ann.app.session;
    facts.soloGameId = session.gameId;
    // Steer a square a few times so commands flow, then let it run into a wall.
    const turns = ["Up", "Right", "Down", "Left", "Up"];
    for (const direction of turns) {
      await until("a tick passes", () => currentTick(ann.app) >= 0);
      ann.app.turn(direction);
      await new Promise((resolve) => setTimeout(resolve, 350));
    }
    await until("the solo game ends", () => session.isOver, 15_000);
    const final = readStatus(session.predictor.finalStatus);
    facts.soloFinal = final;
    const predicted = session.predictor.stateAt(currentTick(ann.app) + 50);
    facts.soloPredictedStatus = readStatus(predicted.status);
    facts.soloMispredictions = session.predictor.mispredictions;
    facts.soloTurnsConfirmed = session.commandSequence - session.predictor.pendingOwnCommands().length;
    facts.soloCommandsSent = session.commandSequence;
    ann.app.leaveGame();
  });

  await step("lobby: ann creates, bob joins by code, both see two members", async () => {
    // A big, slow board: the game must outlast the spectator and reconnect steps.
    ann.app.createLobby({ arena_width: 60, arena_height: 60 });
    await until("lobby created", () => ann.app.session?.code && ann.app.session.predictor.hasState);
    const code = ann.app.session.code;
    facts.lobbyCode = code;
    bob.app.joinLobby(code);
    await until("bob in the lobby", () => bob.screen() === "lobby" && bob.app.session?.predictor.hasState);
    await until(
      "ann sees two members",
      () => Object.keys(ann.app.session.predictor.snapshot.players).length === 2,
    );
    facts.lobbyMembersSeenByBob = Object.keys(bob.app.session.predictor.snapshot.players).length;
  });

  await step("lobby: the host changes a setting; everyone gets it", async () => {
    ann.app.updateLobbySettings({ tick_duration_ms: 200 });
    await until("bob sees the settings", () =>
      bob.log.some((e) => e[0] === "lobby" && e[1] === "settingsUpdated" && e[2].tick_duration_ms === 200),
    );
  });

  await step("lobby: the host starts; turns of each player reach the other; snakes move", async () => {
    const seenByBob = [];
    ann.app.startLobby();
    await until("both in the game", () => ann.screen() === "game" && bob.screen() === "game");
    await until("both predict a started game", () =>
      [ann, bob].every((c) => readStatus(c.app.session.predictor.base.status).kind === "Started"),
    );
    const predictor = bob.app.session.predictor;
    const original = predictor.onCommandScheduled.bind(predictor);
    predictor.onCommandScheduled = (command) => {
      seenByBob.push(command);
      original(command);
    };
    const start = describeSim(predictor.stateAt(0)).snakes.map((s) => s.body[0]);
    await until("tick 0 is reached", () => currentTick(ann.app) >= 0 && currentTick(bob.app) >= 0);
    // Away from each other (they start facing each other on one row).
    ann.app.turn(ann.app.session.mySnakeId() === 0 ? "Up" : "Down");
    bob.app.turn(bob.app.session.mySnakeId() === 0 ? "Up" : "Down");
    await until("bob learns ann's turn", () => seenByBob.some((c) => c.command_id_server.user_id === ann.app.user.id));
    await until("a few ticks run", () => predictor.serverTick >= 3);
    const later = describeSim(predictor.stateAt(currentTick(bob.app))).snakes.map((s) => s.body[0]);
    facts.headsMoved = start.map((p, i) => p.x !== later[i].x || p.y !== later[i].y);
  });

  await step("spectate: cat watches the custom game by its code", async () => {
    cat.app.spectate(0, facts.lobbyCode);
    await until("cat watches", () => cat.screen() === "game" && cat.app.session?.predictor.hasState);
    facts.spectatorGameId = cat.app.session.gameId;
    facts.playerGameId = ann.app.session.gameId;
    facts.spectatorRole = cat.app.session.role;
  });

  await step("a dropped connection reconnects and rejoins the game", async () => {
    const before = ann.app.connection.socket;
    before.close(4000, "test drop");
    await until("ann reconnected", () => ann.app.connection.socket && ann.app.connection.socket !== before && ann.app.connection.isReady);
    const snapshotsBefore = ann.app.session.predictor.snapshot.tick;
    await until("a fresh snapshot after rejoining", () => ann.app.session.predictor.snapshot.tick !== snapshotsBefore || ann.app.session.isOver);
    facts.rejoinedGameId = ann.app.session.gameId;
  });

  await step("the game ends for players and the spectator alike", async () => {
    await until("the custom game ends", () => [ann, bob, cat].every((c) => c.app.session?.isOver), 30_000);
    facts.customFinal = [ann, bob, cat].map((c) => readStatus(c.app.session.predictor.finalStatus));
  });

  await step("quick match: two players queue for a duel and are placed together", async () => {
    for (const c of [ann, bob]) c.app.leaveGame();
    cat.app.leaveGame();
    await ann.app.quickMatch({ FreeForAll: { max_players: 2 } });
    await bob.app.quickMatch({ FreeForAll: { max_players: 2 } });
    const unavailable = () =>
      ann.notices.some(([kind, , reason]) => kind === "error" && /matchmaking is not available/.test(reason));
    await until(
      "both placed",
      () => unavailable() || (ann.app.session?.kind === "match" && bob.app.session?.kind === "match"),
      20_000,
    );
    if (unavailable()) {
      // A server without a matcher: the refusal must take the client out of the queue.
      facts.matchmaking = "unavailable";
      facts.screenAfterRefusal = ann.screen();
      return;
    }
    facts.matchmaking = "available";
    facts.matchGameIds = [ann.app.session.gameId, bob.app.session.gameId];
    await until("match snapshots", () => ann.app.session.predictor.hasState && bob.app.session.predictor.hasState);
    const snapshot = ann.app.session.predictor.snapshot;
    facts.matchStartsInMs = snapshot.start_ms - ann.app.clock.serverNow();
  });

  await step("access denied is reported with its reason", async () => {
    const before = cat.notices.length;
    cat.app.joinLobby("NO-SUCH-CODE");
    await until("a notice", () => cat.notices.length > before);
    facts.deniedNotice = cat.notices.at(-1);
  });

  process.stdout.write(JSON.stringify({ ok: true, steps, facts, notices: clients.map((c) => c.notices) }));
} catch (err) {
  process.stdout.write(
    JSON.stringify({ ok: false, failure: String(err.stack || err), steps, facts, notices: clients.map((c) => c.notices) }),
  );
} finally {
  for (const c of clients) c.app.connection?.stop();
}
