// The leaderboard: one board per game type (tabs), season and region, 25 rows a page,
// the signed-in player's row highlighted and their exact rank shown above the table
// (from /api/leaderboard/me, so it is right even when their row is on another page).

import { byId, el } from "../dom.js";

export const PAGE_SIZE = 25;
const TYPE_LABELS = { duel: "Duel", ffa: "Free for all", solo: "Solo" };

/** The sentence above the table: where the player stands on this board. */
export function describeMyRank(mine, gameType) {
  if (!mine || mine.rank === null || mine.rank === undefined) return "You are not on this board yet.";
  if (gameType === "solo") return `Your rank: #${mine.rank} · best length ${mine.score}`;
  return `Your rank: #${mine.rank} · rating ${mine.mmr} · ${mine.wins} W / ${mine.losses} L (${mine.winRate}%)`;
}

export class LeaderboardScreen {
  /** @param actions {{load(query): Promise<{board, mine}>, seasons(): Promise<{seasons, current}>, openProfile(name), home()}} */
  constructor(actions) {
    this.actions = actions;
    this.root = byId("screen-leaderboard");
    this.query = { gameType: "duel", season: "", region: "", offset: 0 };
    this.me = null; // the signed-in player's name
    for (const tab of this.root.querySelectorAll("[data-board]")) {
      tab.addEventListener("click", () => this.change({ gameType: tab.dataset.board }));
    }
    byId("board-season").addEventListener("change", (e) => this.change({ season: e.target.value }));
    byId("board-region-form").addEventListener("submit", (e) => {
      e.preventDefault();
      this.change({ region: byId("board-region").value.trim() });
    });
    byId("board-prev").addEventListener("click", () => this.page(-1));
    byId("board-next").addEventListener("click", () => this.page(1));
    byId("board-home").addEventListener("click", () => actions.home());
  }

  async show(me) {
    this.me = me ?? this.me;
    this.root.hidden = false;
    try {
      const { seasons, current } = await this.actions.seasons();
      const select = byId("board-season");
      select.replaceChildren(...seasons.map((s) => el("option", { value: s.id, selected: s.id === current }, s.id)));
      if (!this.query.season) this.query.season = current;
      select.value = this.query.season;
    } catch (err) {
      byId("board-note").textContent = `Could not load the seasons: ${err.message}`;
    }
    await this.reload();
  }

  hide() {
    this.root.hidden = true;
  }

  change(partial) {
    this.query = { ...this.query, ...partial, offset: 0 };
    return this.reload();
  }

  page(direction) {
    this.query = { ...this.query, offset: Math.max(0, this.query.offset + direction * PAGE_SIZE) };
    return this.reload();
  }

  async reload() {
    const query = { ...this.query };
    for (const tab of this.root.querySelectorAll("[data-board]")) {
      tab.setAttribute("aria-selected", String(tab.dataset.board === query.gameType));
    }
    const note = byId("board-note");
    try {
      const { board, mine } = await this.actions.load(query);
      if (JSON.stringify(query) !== JSON.stringify(this.query)) return; // a newer choice is on its way
      note.textContent = board.entries.length === 0 ? "Nobody is on this board yet." : "";
      byId("board-mine").textContent = describeMyRank(mine, query.gameType);
      this.draw(board, query.gameType);
      byId("board-prev").disabled = query.offset === 0;
      byId("board-next").disabled = !board.hasMore;
    } catch (err) {
      note.textContent = `Could not load the board: ${err.message}`;
    }
  }

  draw(board, gameType) {
    const solo = gameType === "solo";
    byId("board-head").replaceChildren(
      el("tr", {}, ...(solo ? ["#", "Player", "Best length", "When"] : ["#", "Player", "Rating", "W", "L", "Win %"]).map((h) => el("th", {}, h))),
    );
    byId("board-title").textContent = `${TYPE_LABELS[gameType] ?? gameType} · ${board.season}${board.region ? ` · ${board.region}` : ""}`;
    const rows = board.entries.map((entry) => {
      const name = el("button", { type: "button", class: "link", onclick: () => this.actions.openProfile(entry.username) }, entry.username);
      const cells = solo
        ? [entry.rank, name, entry.score, new Date(entry.timestamp).toLocaleString()]
        : [entry.rank, name, entry.mmr, entry.wins, entry.losses, entry.winRate];
      const mine = this.me && entry.username.toLowerCase() === this.me.toLowerCase();
      return el("tr", { class: mine ? "me" : null, dataset: { rank: entry.rank } }, ...cells.map((c) => el("td", {}, c)));
    });
    byId("board-rows").replaceChildren(...rows);
  }
}
