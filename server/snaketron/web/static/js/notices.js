// Messages for the person playing: every AccessDenied and Error from the server, API
// failures and connection news, shown in a corner until read (errors) or for a while.

import { byId, el } from "./dom.js";

const LIFETIME_MS = { info: 5000, warning: 9000, error: 14000 };
const MAX_VISIBLE = 5;

export class Notices {
  constructor(container = byId("notices")) {
    this.container = container;
  }

  /** @param kind "info" | "warning" | "error" */
  show(kind, title, text) {
    const close = el("button", { type: "button", "aria-label": "Dismiss" }, "×");
    const node = el(
      "div",
      { class: "notice", role: kind === "error" ? "alert" : "status", dataset: { kind } },
      el("strong", {}, title),
      text,
      close,
    );
    close.addEventListener("click", () => node.remove());
    this.container.prepend(node);
    while (this.container.children.length > MAX_VISIBLE) this.container.lastElementChild.remove();
    setTimeout(() => node.remove(), LIFETIME_MS[kind] ?? LIFETIME_MS.info);
    return node;
  }

  info(title, text) {
    return this.show("info", title, text);
  }

  warning(title, text) {
    return this.show("warning", title, text);
  }

  error(title, text) {
    return this.show("error", title, text);
  }
}
