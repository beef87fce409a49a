// Home: play solo, quick match by game type, create or join a lobby by code, and
// watch a game by id or code or from the list of live public games.

import { byId, el } from "../dom.js";
import { GameType, describeGameType } from "../protocol.js";

/** "ffa:4" / "team:2" (the select's values) -> a wire GameType. */
export function gameTypeFromChoice(choice) {
  const [kind, count] = choice.split(":");
  const n = Number(count);
  return kind === "team" ? GameType.teamMatch(n) : GameType.freeForAll(n);
}

/** What the person typed to watch: a game id (digits) or a lobby/game code. */
export function spectateTarget(text) {
  const value = text.trim();
  if (/^\d+$/.test(value)) return { gameId: Number(value), gameCode: null };
  return { gameId: 0, gameCode: value };
}

export class HomeScreen {
  /** @param actions {{playSolo(), quickMatch(gameType), createLobby(), joinLobby(code), spectate(id, code), refreshGames(), replay(id)}} */
  constructor(actions) {
    this.actions = actions;
    this.root = byId("screen-home");
    byId("play-solo").addEventListener("click", () => actions.playSolo());
    byId("find-match").addEventListener("click", () => actions.quickMatch(gameTypeFromChoice(byId("match-type").value)));
    byId("create-lobby").addEventListener("click", () => actions.createLobby());
    byId("join-lobby-form").addEventListener("submit", (e) => {
      e.preventDefault();
      const code = byId("join-code").value.trim();
      if (code) actions.joinLobby(code);
    });
    byId("spectate-form").addEventListener("submit", (e) => {
      e.preventDefault();
      const { gameId, gameCode } = spectateTarget(byId("spectate-target").value);
      actions.spectate(gameId, gameCode);
    });
    byId("refresh-games").addEventListener("click", () => actions.refreshGames());
    // Replays come over HTTP: the form works without the game connection.
    byId("replay-form").addEventListener("submit", (e) => {
      e.preventDefault();
      const gameId = Number(byId("replay-target").value.trim());
      if (Number.isInteger(gameId) && gameId > 0) actions.replay(gameId);
    });
  }

  show() {
    this.root.hidden = false;
    this.actions.refreshGames();
  }

  hide() {
    this.root.hidden = true;
  }

  /** Buttons that send a request wait for the connection. */
  setEnabled(enabled) {
    for (const id of ["play-solo", "find-match", "create-lobby"]) byId(id).disabled = !enabled;
    for (const form of ["join-lobby-form", "spectate-form"]) {
      for (const control of byId(form).elements) control.disabled = !enabled;
    }
  }

  /** @param games array of live games, or null when the server has no list */
  showLiveGames(games, error = null) {
    const list = byId("live-games");
    const note = byId("live-games-note");
    list.replaceChildren();
    if (error) {
      note.textContent = `Could not load the list: ${error}`;
      return;
    }
    if (games === null) {
      note.textContent = "This server does not list live games; watch by game id or code.";
      return;
    }
    note.textContent = games.length === 0 ? "No public game is being played right now." : "";
    for (const game of games) {
      const gameId = game.game_id ?? game.gameId ?? game.id;
      if (gameId === undefined) continue;
      const code = game.game_code ?? game.gameCode ?? null;
      const type = game.game_type ? safeDescribe(game.game_type) : (game.gameType ?? "");
      const players = game.player_count ?? game.players?.length ?? game.playerCount;
      list.append(
        el(
          "li",
          { dataset: { gameId } },
          el("span", { class: "grow" }, `#${gameId} ${type}`),
          players !== undefined ? el("span", { class: "badge" }, `${players} players`) : null,
          el("button", { type: "button", onclick: () => this.actions.spectate(Number(gameId), code) }, "Watch"),
        ),
      );
    }
  }
}

function safeDescribe(gameType) {
  try {
    return typeof gameType === "string" && gameType !== "Solo" ? gameType : describeGameType(gameType);
  } catch {
    return "";
  }
}
