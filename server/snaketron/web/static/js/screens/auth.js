// Sign up / log in. Validates names the way the server does (PROTOCOL.md: 3-20
// letters, digits, '_' and '-', not starting or ending with '_' or '-'; passwords of
// at least 6 characters) so mistakes show before a round trip.

import { byId } from "../dom.js";

const USERNAME = /^[A-Za-z0-9](?:[A-Za-z0-9_-]{1,18})[A-Za-z0-9]$/;

export function usernameProblem(name) {
  if (name.length < 3 || name.length > 20) return "Usernames have 3 to 20 characters.";
  if (!USERNAME.test(name)) return "Use letters, digits, _ and -, not at the start or end.";
  return null;
}

export class AuthScreen {
  /** @param actions {{login(u, p), register(u, p), checkUsername(u)}} returning promises */
  constructor(actions) {
    this.actions = actions;
    this.mode = "login";
    this.root = byId("screen-auth");
    this.form = byId("auth-form");
    this.username = byId("auth-username");
    this.password = byId("auth-password");
    this.hint = byId("auth-username-hint");
    this.error = byId("auth-error");
    this.submit = byId("auth-submit");
    byId("tab-login").addEventListener("click", () => this.setMode("login"));
    byId("tab-register").addEventListener("click", () => this.setMode("register"));
    this.form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.onSubmit();
    });
    let timer = null;
    this.username.addEventListener("input", () => {
      clearTimeout(timer);
      this.hint.textContent = "";
      if (this.mode === "register") timer = setTimeout(() => this.checkAvailability(), 400);
    });
  }

  show(message = "") {
    this.root.hidden = false;
    this.error.textContent = message;
    this.username.focus();
  }

  hide() {
    this.root.hidden = true;
  }

  setMode(mode) {
    this.mode = mode;
    byId("tab-login").setAttribute("aria-selected", String(mode === "login"));
    byId("tab-register").setAttribute("aria-selected", String(mode === "register"));
    this.submit.textContent = mode === "login" ? "Log in" : "Create account";
    this.password.autocomplete = mode === "login" ? "current-password" : "new-password";
    this.error.textContent = "";
    this.hint.textContent = "";
  }

  async checkAvailability() {
    const name = this.username.value.trim();
    const problem = usernameProblem(name);
    if (problem) {
      this.hint.textContent = problem;
      return;
    }
    try {
      const result = await this.actions.checkUsername(name);
      if (this.username.value.trim() !== name) return;
      this.hint.textContent = result.available ? `${name} is available.` : (result.errors?.[0] ?? `${name} is taken.`);
    } catch {
      this.hint.textContent = ""; // rate limited or offline: the submit will tell
    }
  }

  async onSubmit() {
    const name = this.username.value.trim();
    const password = this.password.value;
    const problem = this.mode === "register" ? usernameProblem(name) : null;
    if (problem) {
      this.error.textContent = problem;
      return;
    }
    if (this.mode === "register" && password.length < 6) {
      this.error.textContent = "Passwords have at least 6 characters.";
      return;
    }
    this.submit.disabled = true;
    this.error.textContent = "";
    try {
      if (this.mode === "login") await this.actions.login(name, password);
      else await this.actions.register(name, password);
      this.password.value = "";
    } catch (err) {
      this.error.textContent = err.message;
    } finally {
      this.submit.disabled = false;
    }
  }
}
