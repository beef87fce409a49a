// The application: who is logged in, where they are (home, queue, lobby, game), and
// every server message routed to the screen it concerns. Screens only draw and report
// clicks; the protocol conversations (PROTOCOL.md) live here.

import { ApiError } from "./api.js";
import { ClockSync, tickAt } from "./clock.js";
import { ServerConnection } from "./connection.js";
import { planTurn } from "./input.js";
import { GamePredictor } from "./prediction.js";
import { buildTimeline } from "./replay.js";
import { ClientMessage, GameType, isMatchmadeType, readStatus, turnCommand, variantOf } from "./protocol.js";

const TOKEN_KEY = "snaketron.token";
const RATING_POLL_MS = [800, 1500, 2500, 4000];

/** One game the client takes part in or watches. */
export class GameSession {
  constructor({ kind, role, gameId, gameType = null, code = null, clock, myUserId }) {
    this.kind = kind; // "solo" | "match" | "custom" | "spectate"
    this.role = role; // "player" | "spectator"
    this.gameId = gameId;
    this.gameType = gameType;
    this.code = code;
    this.clock = clock;
    this.myUserId = myUserId;
    this.predictor = new GamePredictor();
    this.commandSequence = 0;
    this.mmrBefore = null;
    this.onGameOver = null;
  }

  mySnakeId() {
    const player = this.predictor.snapshot?.players?.[String(this.myUserId)];
    return player ? player.snake_id : null;
  }

  get isOver() {
    return this.predictor.finalStatus !== null;
  }
}

export class App {
  /**
   * @param deps {{api, wsUrl, storage, screens: {auth, home, queue, lobby, game}, notices, topbar,
   *               WebSocketImpl?, timers?, now?}}
   */
  constructor(deps) {
    this.api = deps.api;
    this.wsUrl = deps.wsUrl;
    this.storage = deps.storage;
    this.screens = deps.screens;
    this.notices = deps.notices;
    this.topbar = deps.topbar;
    this.WebSocketImpl = deps.WebSocketImpl;
    this.timers = deps.timers; // setTimeout/clearTimeout, injected by tests
    this.clock = new ClockSync(deps.now);
    this.token = null;
    this.user = null; // {id, username, mmr}
    this.connection = null;
    this.session = null; // GameSession
    this.queue = null; // {gameType}
    this.pending = null; // what we asked for and wait to hear about: {what, ...}
    this.screen = null;
    this.initialReplay = deps.initialReplay ?? null; // a game id from a shared /replay/<id> link
  }

  // --- start and accounts --------------------------------------------------------

  async start() {
    await this.signInFromStorage();
    // A shared replay link opens the viewer whether or not anyone is signed in: public
    // games' replays need no account (private ones ask for a player's token).
    if (this.initialReplay !== null) await this.openReplay(this.initialReplay);
  }

  async signInFromStorage() {
    const token = this.storage.getItem(TOKEN_KEY);
    if (!token) {
      this.showScreen("auth");
      return;
    }
    try {
      const user = await this.api.me(token);
      this.signedIn(token, user);
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) this.storage.removeItem(TOKEN_KEY);
      this.showScreen("auth", err.status === 401 ? "Your session expired: please log in again." : err.message);
    }
  }

  // --- replays (HTTP only: no game connection needed) ------------------------------

  /** Fetch a finished game's replay and show it in the viewer. */
  async openReplay(gameId) {
    let replay;
    try {
      replay = await this.api.replay(gameId, this.token);
    } catch (err) {
      let text = err.message;
      if (err.status === 404) {
        // Private games answer 404 to anyone but their players, like unknown ones.
        text = `Game ${gameId} has no replay to show.${this.token ? "" : " If it was private, sign in as one of its players."}`;
      }
      this.notices.error("No replay", text);
      return false;
    }
    let timeline;
    try {
      timeline = buildTimeline(replay);
    } catch (err) {
      this.notices.error("Replay unreadable", err.message);
      return false;
    }
    this.showScreen("replay", timeline);
    return true;
  }

  /** "Watch replay" on the game-over panel: the game just played or watched. */
  async watchReplay() {
    const gameId = this.session?.gameId;
    if (gameId === null || gameId === undefined) return;
    // The game-over panel stays (with its Home button) when there is no replay.
    if (!(await this.openReplay(gameId))) return;
    if (this.session) this.send(ClientMessage.leaveGame());
    this.session = null;
  }

  closeReplay() {
    this.showScreen(this.user ? "home" : "auth");
  }

  async login(username, password) {
    const { token, user } = await this.api.login(username, password);
    this.signedIn(token, user);
  }

  async register(username, password) {
    const { token, user } = await this.api.register(username, password);
    this.notices.info("Welcome", `Account ${user.username} created.`);
    this.signedIn(token, user);
  }

  checkUsername(username) {
    return this.api.checkUsername(username);
  }

  signedIn(token, user) {
    this.token = token;
    this.user = user;
    this.storage.setItem(TOKEN_KEY, token);
    this.topbar.setUser(user);
    this.connect();
    this.showScreen("home");
  }

  logout() {
    this.connection?.stop();
    this.connection = null;
    this.storage.removeItem(TOKEN_KEY);
    this.token = null;
    this.user = null;
    this.session = null;
    this.queue = null;
    this.topbar.setUser(null);
    this.showScreen("auth");
  }

  // --- the connection -------------------------------------------------------------

  connect() {
    this.connection?.stop();
    this.connection = new ServerConnection({
      url: this.wsUrl,
      token: this.token,
      clock: this.clock,
      WebSocketImpl: this.WebSocketImpl,
      timers: this.timers,
      onMessage: (message) => this.onServerMessage(message),
      onState: (state, detail) => this.onConnectionState(state, detail),
    });
    this.connection.start();
  }

  send(message) {
    if (this.connection?.send(message)) return true;
    this.notices.warning("Not connected", "The game server is not reachable right now; try again in a moment.");
    return false;
  }

  onConnectionState(state, detail) {
    this.topbar.setConnection(state, detail);
    this.screens.home.setEnabled(state === "ready");
    if (state === "rejected") {
      this.notices.error("Access denied", detail.reason);
      this.storage.removeItem(TOKEN_KEY);
      this.session = null;
      this.queue = null;
      this.showScreen("auth", `The server refused your session (${detail.reason}). Please log in again.`);
    } else if (state === "reconnecting" && detail.attempt === 1 && detail.why) {
      this.notices.warning("Connection lost", "Reconnecting to the game server…");
    } else if (state === "ready" && detail.reconnected) {
      this.notices.info("Reconnected", this.session ? "Rejoining your game." : "Back online.");
      this.resume();
    }
  }

  /** After a reconnect: rejoin the game, or get back in the queue (a drop leaves it). */
  resume() {
    const s = this.session;
    if (s && !s.isOver) {
      if (s.role === "spectator") this.send(ClientMessage.spectateGame(s.gameId, s.code));
      else this.send(ClientMessage.joinGame(s.gameId));
    } else if (this.queue) {
      this.send(ClientMessage.queueForMatch(this.queue.gameType));
    }
  }

  // --- actions from the screens ---------------------------------------------------

  playSolo() {
    this.pending = { what: "solo" };
    this.send(ClientMessage.createSoloGame());
  }

  async quickMatch(gameType) {
    this.pending = { what: "queue" };
    this.queue = { gameType, mmrBefore: this.user?.mmr ?? null };
    if (!this.send(ClientMessage.queueForMatch(gameType))) {
      this.queue = null;
      return;
    }
    this.showScreen("queue", gameType);
    try {
      this.queue.mmrBefore = (await this.api.me(this.token)).mmr;
    } catch {
      // keep the rating from login
    }
  }

  leaveQueue() {
    this.send(ClientMessage.leaveQueue());
  }

  createLobby(settings = {}) {
    this.pending = { what: "create-lobby" };
    this.send(ClientMessage.createCustomGame(settings));
  }

  joinLobby(code) {
    this.pending = { what: "join-lobby", code };
    this.send(ClientMessage.joinCustomGame(code));
  }

  spectate(gameId, gameCode) {
    this.pending = { what: "spectate", gameId, code: gameCode };
    this.send(ClientMessage.spectateGame(gameId, gameCode));
  }

  updateLobbySettings(partial) {
    this.send(ClientMessage.updateCustomGameSettings(partial));
  }

  startLobby() {
    this.send(ClientMessage.startCustomGame());
  }

  chat(text) {
    this.send(ClientMessage.chat(text));
  }

  leaveGame() {
    if (this.session) this.send(ClientMessage.leaveGame());
    this.session = null;
    this.showScreen("home");
  }

  playAgain() {
    const previous = this.session;
    this.leaveGame();
    if (previous?.kind === "solo") this.playSolo();
    else if (previous?.kind === "match" && previous.gameType) this.quickMatch(previous.gameType);
  }

  /** A key press: stamp the turn with the tick we predict and send it. */
  turn(direction) {
    const s = this.session;
    if (!s || s.role !== "player" || !s.predictor.hasState) return;
    const snakeId = s.mySnakeId();
    if (snakeId === null) return;
    const snapshot = s.predictor.snapshot;
    const { tick } = tickAt(this.clock.serverNow(), snapshot.start_ms, snapshot.properties.tick_duration_ms);
    if (tick < 0) return; // the countdown is still running
    const sim = s.predictor.stateAt(tick);
    if (readStatus(sim.status).kind !== "Started") return;
    const stamp = planTurn(sim, { userId: this.user.id, snakeId, direction, tick: sim.tick });
    if (stamp === null) return;
    s.commandSequence += 1;
    const command = turnCommand({
      tick: stamp,
      userId: this.user.id,
      sequenceNumber: s.commandSequence,
      direction,
      snakeId,
    });
    if (this.connection?.send(ClientMessage.gameCommand(command))) s.predictor.addOwnCommand(command);
  }

  async refreshGames() {
    try {
      this.screens.home.showLiveGames(await this.api.liveGames(this.token));
    } catch (err) {
      this.screens.home.showLiveGames([], err.message);
    }
  }

  // --- server messages ------------------------------------------------------------

  onServerMessage({ type, value }) {
    switch (type) {
      case "Authenticated":
        this.user = { ...this.user, id: value.user_id, username: value.username };
        break;
      case "SoloGameCreated":
        this.pending = null;
        this.beginSession({ kind: "solo", role: "player", gameId: value.game_id, gameType: GameType.solo() });
        this.send(ClientMessage.joinGame(value.game_id));
        break;
      case "JoinGame": {
        // Matchmaking placed us: answer with our own JoinGame to receive the game.
        const queued = this.queue;
        this.queue = null;
        if (this.pending?.what === "queue") this.pending = null;
        const s = this.beginSession({ kind: "match", role: "player", gameId: value, gameType: queued?.gameType });
        s.mmrBefore = queued?.mmrBefore ?? this.user?.mmr ?? null;
        this.send(ClientMessage.joinGame(value));
        break;
      }
      case "CustomGameCreated":
        this.pending = null;
        this.beginSession({ kind: "custom", role: "player", gameId: value.game_id, code: value.game_code });
        this.screens.lobby.clearChat();
        this.showScreen("lobby");
        break;
      case "CustomGameJoined":
        this.beginSession({ kind: "custom", role: "player", gameId: value.game_id, code: this.pending?.code });
        this.pending = null;
        this.screens.lobby.clearChat();
        this.showScreen("lobby");
        break;
      case "CustomGameSettingsUpdated":
        this.screens.lobby.settingsUpdated(value.settings);
        break;
      case "CustomGameStarting":
        this.notices.info("Starting", "The host started the game.");
        break;
      case "SpectatorJoined":
        this.spectateAccepted(null);
        break;
      case "GameEvent":
        this.onGameEvent(value);
        break;
      case "QueueUpdate":
        if (this.pending?.what === "queue") this.pending = null; // in the queue: no refusal coming
        this.screens.queue.update(value);
        break;
      case "QueueLeft":
        this.queue = null;
        if (this.screen === "queue") this.showScreen("home");
        break;
      case "AccessDenied":
        this.onAccessDenied(value.reason);
        break;
      case "Error":
        this.notices.error(`Server error (${value.code})`, value.message);
        break;
      case "ServerShutdown":
        this.notices.warning(
          "Server shutting down",
          `${value.reason} — games end within ${value.grace_period_seconds} s; the client will reconnect.`,
        );
        break;
      case "Shutdown":
        this.notices.warning("Server shutting down", "The connection will close; reconnecting afterwards.");
        break;
      case "ChatMessage":
        if (this.session && value.game_id === this.session.gameId) this.screens.lobby.addChat(value);
        break;
      case "ClientProtocolError":
        this.notices.error("Unreadable message", value.message);
        break;
      default:
        break; // Pong, ClockSyncResponse, and messages newer than this client
    }
  }

  beginSession(fields) {
    this.session = new GameSession({ ...fields, clock: this.clock, myUserId: this.user.id });
    this.session.onGameOver = () => this.onGameOver(this.session);
    return this.session;
  }

  onAccessDenied(reason) {
    const asked = this.pending;
    this.pending = null;
    const what = asked
      ? {
          solo: "Solo game",
          queue: "Quick match",
          "create-lobby": "Create lobby",
          "join-lobby": "Join lobby",
          spectate: "Watch",
        }[asked.what]
      : "Request refused";
    this.notices.error(`Access denied: ${what}`, reason);
    if (asked?.what === "queue") {
      this.queue = null;
      if (this.screen === "queue") this.showScreen("home");
    }
    if (this.session && this.screen === "game" && !this.session.predictor.hasState) {
      // Rejoining a game that is gone (for instance after a reconnect): back home.
      this.session = null;
      this.showScreen("home");
    }
  }

  /** SpectateGame was accepted (SpectatorJoined, or its Snapshot if that comes first). */
  spectateAccepted(gameId) {
    const asked = this.pending?.what === "spectate" ? this.pending : null;
    if (!asked) return;
    this.pending = null;
    // Watching by code sends game id 0: the game's real id comes with its events.
    const id = gameId ?? (asked.gameId || null);
    this.beginSession({ kind: "spectate", role: "spectator", gameId: id, code: asked.code });
  }

  onGameEvent(message) {
    const asked = this.pending?.what === "spectate" ? this.pending : null;
    if (asked && (!asked.gameId || asked.gameId === message.game_id)) this.spectateAccepted(message.game_id);
    const s = this.session;
    if (s && s.gameId === null) s.gameId = message.game_id;
    if (!s || message.game_id !== s.gameId) return; // a game we already left
    s.predictor.onEvent(message);
    const [tag, payload] = variantOf(message.event);
    if (tag !== "Snapshot") return;
    const state = payload.game_state;
    if (!s.gameType) s.gameType = state.game_type;
    if (s.code === null && state.game_code) s.code = state.game_code;
    const status = readStatus(state.status).kind;
    if (s.kind === "custom" && status === "Stopped") {
      this.showScreen("lobby");
      this.screens.lobby.render({ gameState: state, code: s.code, myUserId: this.user.id });
    } else if (this.screen !== "game") {
      this.showScreen("game");
    }
  }

  async onGameOver(session) {
    if (session.kind !== "match" || !isMatchmadeType(session.gameType ?? "Solo")) return;
    const before = session.mmrBefore;
    // Ratings are written after the game ends: poll briefly until the change shows.
    for (const delay of RATING_POLL_MS) {
      await new Promise((resolve) => setTimeout(resolve, delay));
      if (this.session !== session) return;
      try {
        const me = await this.api.me(this.token);
        this.user = { ...this.user, mmr: me.mmr };
        this.topbar.setUser(this.user);
        if (before === null || me.mmr !== before) {
          this.screens.game.showRating(before, me.mmr);
          return;
        }
      } catch {
        // try again
      }
    }
    this.screens.game.showRating(before, this.user?.mmr ?? null);
  }

  // --- screens --------------------------------------------------------------------

  // --- leaderboards and player pages ------------------------------------------------

  /** Boards and player pages live between games: a finished game is left for them, a
   * queue, a lobby or a running game is not. */
  browse(name, arg) {
    if (!this.user) return;
    if (this.queue || (this.session && !this.session.isOver)) {
      this.notices.info("Not now", "Leave the queue, lobby or game first.");
      return;
    }
    if (this.session) this.leaveGame();
    this.showScreen(name, arg);
  }

  showLeaderboard() {
    this.browse("leaderboard", this.user?.username);
  }

  showProfile(username) {
    this.browse("profile", username);
  }

  /** One board page and, signed in, the player's exact rank on it. */
  async loadBoard(query) {
    const [board, mine] = await Promise.all([
      this.api.leaderboard({ ...query, limit: 25 }),
      this.token ? this.api.myRank(query, this.token).catch(() => null) : null,
    ]);
    return { board, mine };
  }

  showScreen(name, arg) {
    for (const [key, screen] of Object.entries(this.screens)) if (key !== name) screen.hide();
    this.screen = name;
    const screen = this.screens[name];
    if (name === "game") screen.show(this.session);
    else screen.show(arg);
  }
}
