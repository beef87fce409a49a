// A custom lobby: its code, members (from the waiting game's Snapshot), settings that
// the host can change, start and leave, and the lobby chat.

import { byId, el } from "../dom.js";
import { CUSTOM_SETTINGS_DEFAULTS, variantOf } from "../protocol.js";
import { snakeColour } from "../render.js";

const NUMBER_FIELDS = ["max_players", "arena_width", "arena_height", "tick_duration_ms", "snake_start_length"];

/** The form's values as a settings object (game_mode from the select and max_players). */
export function settingsFromForm(values) {
  const settings = {};
  for (const name of NUMBER_FIELDS) settings[name] = Math.trunc(Number(values[name]));
  settings.food_spawn_rate = Number(values.food_spawn_rate);
  settings.is_private = Boolean(values.is_private);
  settings.allow_spectators = Boolean(values.allow_spectators);
  const mode = values.game_mode;
  settings.game_mode =
    mode === "solo" ? "Solo" : mode === "duel" ? "Duel" : { FreeForAll: { max_players: settings.max_players } };
  return settings;
}

/** Only what differs from `current`: UpdateCustomGameSettings takes a partial object. */
export function changedSettings(current, wanted) {
  const changed = {};
  for (const [key, value] of Object.entries(wanted)) {
    if (JSON.stringify(current[key]) !== JSON.stringify(value)) changed[key] = value;
  }
  return changed;
}

export class LobbyScreen {
  /** @param actions {{updateSettings(partial), start(), leave(), chat(text)}} */
  constructor(actions) {
    this.actions = actions;
    this.root = byId("screen-lobby");
    this.form = byId("lobby-settings");
    this.settings = { ...CUSTOM_SETTINGS_DEFAULTS };
    this.form.addEventListener("submit", (e) => {
      e.preventDefault();
      const partial = changedSettings(this.settings, settingsFromForm(this.readForm()));
      if (Object.keys(partial).length === 0) {
        byId("lobby-settings-note").textContent = "Nothing changed.";
        return;
      }
      byId("lobby-settings-note").textContent = "Sent…";
      actions.updateSettings(partial);
    });
    byId("lobby-start").addEventListener("click", () => actions.start());
    byId("lobby-leave").addEventListener("click", () => actions.leave());
    byId("lobby-chat-form").addEventListener("submit", (e) => {
      e.preventDefault();
      const input = byId("lobby-chat-text");
      if (input.value.trim()) actions.chat(input.value.trim());
      input.value = "";
    });
  }

  show() {
    this.root.hidden = false;
  }

  hide() {
    this.root.hidden = true;
  }

  clearChat() {
    byId("lobby-chat").replaceChildren();
  }

  /** Render from a waiting game's state. */
  render({ gameState, code, myUserId }) {
    const isHost = gameState.host_user_id === myUserId;
    byId("lobby-code").textContent = code ?? gameState.game_code ?? `#${gameState.game_id ?? ""}`;
    const [typeTag, typePayload] = variantOf(gameState.game_type);
    if (typeTag === "Custom") this.setSettings(typePayload.settings);
    const members = byId("lobby-members");
    members.replaceChildren();
    const entries = Object.values(gameState.players).sort((a, b) => a.snake_id - b.snake_id);
    for (const { user_id: userId, snake_id: snakeId } of entries) {
      const name = gameState.usernames?.[String(userId)] ?? `player ${userId}`;
      const snake = gameState.arena.snakes[snakeId];
      members.append(
        el(
          "li",
          { dataset: { userId } },
          el("span", { class: "swatch", style: { background: snakeColour(snakeId, snake?.team_id ?? null) } }),
          el("span", { class: "grow" }, name),
          userId === gameState.host_user_id ? el("span", { class: "badge" }, "host") : null,
          userId === myUserId ? el("span", { class: "badge" }, "you") : null,
        ),
      );
    }
    byId("lobby-start").hidden = !isHost;
    for (const control of this.form.elements) control.disabled = !isHost;
    byId("lobby-wait").textContent = isHost
      ? `${entries.length} of ${this.settings.max_players} players. Start when everyone is in.`
      : "Waiting for the host to start.";
  }

  setSettings(settings) {
    this.settings = { ...CUSTOM_SETTINGS_DEFAULTS, ...settings };
    const s = this.settings;
    const f = this.form.elements;
    for (const name of NUMBER_FIELDS) f[name].value = s[name];
    f.food_spawn_rate.value = s.food_spawn_rate;
    f.is_private.checked = s.is_private;
    f.allow_spectators.checked = s.allow_spectators;
    const [mode] = variantOf(s.game_mode);
    f.game_mode.value = mode === "Solo" ? "solo" : mode === "Duel" ? "duel" : "ffa";
  }

  settingsUpdated(settings) {
    this.setSettings(settings);
    byId("lobby-settings-note").textContent = "Settings updated.";
  }

  readForm() {
    const f = this.form.elements;
    const values = {};
    for (const name of [...NUMBER_FIELDS, "food_spawn_rate", "game_mode"]) values[name] = f[name].value;
    values.is_private = f.is_private.checked;
    values.allow_spectators = f.allow_spectators.checked;
    return values;
  }

  addChat({ username, text }) {
    const list = byId("lobby-chat");
    list.append(el("li", {}, el("b", {}, username), ": ", text));
    list.scrollTop = list.scrollHeight;
  }
}
