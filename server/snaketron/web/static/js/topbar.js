// The header: who is logged in, their rating, and the state of the connection.

import { byId } from "./dom.js";

const CONNECTION_LABELS = {
  connecting: "connecting…",
  authenticating: "signing in…",
  ready: "online",
  reconnecting: "reconnecting…",
  rejected: "refused",
  closed: "offline",
};

export class TopBar {
  /** @param nav {{leaderboard?(), profile?(username)}} the pages the header links to */
  constructor(onLogout, nav = {}) {
    this.user = null;
    byId("logout").addEventListener("click", () => onLogout());
    byId("nav-leaderboard").addEventListener("click", () => nav.leaderboard?.());
    byId("who").addEventListener("click", () => this.user && nav.profile?.(this.user.username));
  }

  setUser(user) {
    this.user = user;
    byId("who").textContent = user ? `${user.username} · rating ${Math.round(user.mmr)}` : "";
    byId("who").hidden = !user;
    byId("logout").hidden = !user;
    byId("nav-leaderboard").hidden = !user;
  }

  setConnection(state, detail = {}) {
    const node = byId("connection");
    node.dataset.state = state;
    node.textContent = CONNECTION_LABELS[state] ?? state;
    node.title = detail.why ?? "";
  }
}
