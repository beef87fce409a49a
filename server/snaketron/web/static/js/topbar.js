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
  constructor(onLogout) {
    byId("logout").addEventListener("click", () => onLogout());
  }

  setUser(user) {
    byId("who").textContent = user ? `${user.username} · rating ${Math.round(user.mmr)}` : "";
    byId("logout").hidden = !user;
  }

  setConnection(state, detail = {}) {
    const node = byId("connection");
    node.dataset.state = state;
    node.textContent = CONNECTION_LABELS[state] ?? state;
    node.title = detail.why ?? "";
  }
}
