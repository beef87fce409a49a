// Entry point of the page: read where the game server is (/client-config.json, served
// next to this page), build the screens and start the app. Nothing runs on import
// outside a browser, so node can load every module in the tests.

import { ApiClient } from "./api.js";
import { App } from "./app.js";
import { Notices } from "./notices.js";
import { AuthScreen } from "./screens/auth.js";
import { GameScreen } from "./screens/game.js";
import { HomeScreen } from "./screens/home.js";
import { LeaderboardScreen } from "./screens/leaderboard.js";
import { LobbyScreen } from "./screens/lobby.js";
import { ProfileScreen } from "./screens/profile.js";
import { QueueScreen } from "./screens/queue.js";
import { ReplayScreen } from "./screens/replay.js";
import { TopBar } from "./topbar.js";

/** {ws_url, api_url} from the server; the page's own origin serves the API. */
export async function loadClientConfig(fetchImpl = globalThis.fetch) {
  const response = await fetchImpl(new URL("client-config.json", document.baseURI));
  if (!response.ok) throw new Error(`client-config.json: HTTP ${response.status}`);
  return response.json();
}

/** The game id of a shared replay link (`/?replay=<id>`; `/replay/<id>` redirects there), or null. */
export function replayInLink(location) {
  const id = Number(new URLSearchParams(location?.search ?? "").get("replay"));
  return Number.isInteger(id) && id > 0 ? id : null;
}

export async function startClient() {
  const notices = new Notices();
  let config;
  try {
    config = await loadClientConfig();
  } catch (err) {
    notices.error("Cannot start", `The page could not read its configuration: ${err.message}`);
    return null;
  }
  let app = null;
  const screens = {
    auth: new AuthScreen({
      login: (u, p) => app.login(u, p),
      register: (u, p) => app.register(u, p),
      checkUsername: (u) => app.checkUsername(u),
    }),
    home: new HomeScreen({
      playSolo: () => app.playSolo(),
      quickMatch: (gameType) => app.quickMatch(gameType),
      createLobby: () => app.createLobby(),
      joinLobby: (code) => app.joinLobby(code),
      spectate: (gameId, code) => app.spectate(gameId, code),
      refreshGames: () => app.refreshGames(),
      replay: (gameId) => app.openReplay(gameId),
    }),
    queue: new QueueScreen({ leaveQueue: () => app.leaveQueue() }),
    lobby: new LobbyScreen({
      updateSettings: (partial) => app.updateLobbySettings(partial),
      start: () => app.startLobby(),
      leave: () => app.leaveGame(),
      chat: (text) => app.chat(text),
    }),
    game: new GameScreen({
      turn: (direction) => app.turn(direction),
      leave: () => app.leaveGame(),
      playAgain: () => app.playAgain(),
      home: () => app.leaveGame(),
      watchReplay: () => app.watchReplay(),
    }),
    leaderboard: new LeaderboardScreen({
      load: (query) => app.loadBoard(query),
      seasons: () => app.api.seasons(),
      openProfile: (name) => app.showProfile(name),
      home: () => app.showScreen("home"),
    }),
    profile: new ProfileScreen({
      profile: (name) => app.api.player(name),
      games: (name, cursor) => app.api.playerGames(name, cursor, 20, app.token),
      openProfile: (name) => app.showProfile(name),
      leaderboard: () => app.showLeaderboard(),
      home: () => app.showScreen("home"),
    }),
    replay: new ReplayScreen({ back: () => app.closeReplay() }),
  };
  app = new App({
    api: new ApiClient(config.api_url || ""),
    wsUrl: config.ws_url,
    storage: globalThis.localStorage,
    screens,
    notices,
    topbar: new TopBar(() => app.logout(), {
      leaderboard: () => app.showLeaderboard(),
      profile: (name) => app.showProfile(name),
    }),
    initialReplay: replayInLink(globalThis.location),
  });
  // For debugging and the end-to-end tests: the running app.
  globalThis.snaketron = app;
  await app.start();
  return app;
}

if (typeof document !== "undefined") startClient();
