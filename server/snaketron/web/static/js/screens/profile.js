// A player's page: their record per game type and their games, newest first, 20 at a
// time ("More" follows the server's cursor). Every name on it opens that player's page.

import { byId, el } from "../dom.js";

const TYPE_LABELS = { duel: "Duel", ffa: "Free for all", solo: "Solo", team: "Team match", custom: "Custom" };

/** "3:05" from milliseconds. */
export function formatDuration(ms) {
  const seconds = Math.max(0, Math.round(ms / 1000));
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}

/** "+12", "-8", or "" when the game changed no rating. */
export function formatChange(change) {
  if (change === null || change === undefined) return "";
  return change > 0 ? `+${change}` : String(change);
}

export class ProfileScreen {
  /** @param actions {{profile(name), games(name, cursor), openProfile(name), leaderboard(), home()}} */
  constructor(actions) {
    this.actions = actions;
    this.root = byId("screen-profile");
    this.username = null;
    this.cursor = null;
    byId("profile-more").addEventListener("click", () => this.more());
    byId("profile-board").addEventListener("click", () => actions.leaderboard());
    byId("profile-home").addEventListener("click", () => actions.home());
  }

  async show(username) {
    this.root.hidden = false;
    this.username = username;
    this.cursor = null;
    byId("profile-name").textContent = username;
    byId("profile-stats").replaceChildren();
    byId("profile-games").replaceChildren();
    const note = byId("profile-note");
    note.textContent = "";
    try {
      const profile = await this.actions.profile(username);
      if (this.username !== username) return;
      byId("profile-name").textContent = profile.username;
      byId("profile-stats").replaceChildren(
        ...Object.entries(profile.stats).map(([type, s]) =>
          el(
            "li",
            { dataset: { type } },
            el("span", { class: "grow" }, TYPE_LABELS[type] ?? type),
            type === "solo"
              ? `${s.gamesPlayed} games · best length ${s.bestScore ?? "-"}`
              : `${s.gamesPlayed} games · ${s.wins} W / ${s.losses} L · rating ${s.mmr ?? "-"}`,
          ),
        ),
      );
      await this.more();
    } catch (err) {
      note.textContent = err.status === 404 ? `There is no player called ${username}.` : `Could not load the player: ${err.message}`;
    }
  }

  hide() {
    this.root.hidden = true;
  }

  async more() {
    const username = this.username;
    const page = await this.actions.games(username, this.cursor);
    if (this.username !== username) return;
    this.cursor = page.cursor;
    byId("profile-more").hidden = !page.hasMore;
    if (page.games.length === 0 && !byId("profile-games").children.length) {
      byId("profile-note").textContent = "No games yet.";
    }
    byId("profile-games").append(...page.games.map((game) => this.gameRow(game)));
  }

  gameRow(game) {
    const others = game.players.map((p, i) => [
      i ? ", " : "",
      el("button", { type: "button", class: "link", onclick: () => this.actions.openProfile(p.username) }, p.username),
      ` (${p.place})`,
    ]);
    return el(
      "li",
      { dataset: { gameId: game.gameId } },
      el("span", { class: "badge" }, TYPE_LABELS[game.gameType] ?? game.gameType),
      el("span", {}, new Date(game.endedAt).toLocaleString()),
      el("span", {}, formatDuration(game.durationMs)),
      el("span", { class: "place" }, game.gameType === "solo" ? `length ${game.score}` : `place ${game.place}`),
      el("span", { class: "change" }, formatChange(game.mmrChange)),
      el("span", { class: "grow" }, ...others),
    );
  }
}
