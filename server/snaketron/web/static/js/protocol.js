// The wire codec: PROTOCOL.md messages as serde externally tagged JSON, nothing else.
//
// A unit variant is a bare string ("Ping"), a newtype variant a one-key object
// ({"JoinGame": 17}), a struct variant a one-key object holding an object. The same
// rule applies to nested enums (events, commands, statuses, game types), so one
// reader, `variantOf`, serves them all.

/**
 * Split an externally tagged value into its tag and payload.
 * @returns {[string, any]} `["Ping", null]` for a bare string.
 */
export function variantOf(tagged) {
  if (typeof tagged === "string") return [tagged, null];
  if (tagged !== null && typeof tagged === "object" && !Array.isArray(tagged)) {
    const keys = Object.keys(tagged);
    if (keys.length === 1) return [keys[0], tagged[keys[0]]];
  }
  throw new ProtocolError(`not an externally tagged value: ${JSON.stringify(tagged)}`);
}

export class ProtocolError extends Error {}

// --- client -> server --------------------------------------------------------------

export const ClientMessage = Object.freeze({
  token: (jwt) => ({ Token: jwt }),
  ping: () => "Ping",
  clockSyncRequest: (clientTimeMs) => ({ ClockSyncRequest: { client_time: Math.round(clientTimeMs) } }),
  queueForMatch: (gameType) => ({ QueueForMatch: { game_type: gameType } }),
  leaveQueue: () => "LeaveQueue",
  joinGame: (gameId) => ({ JoinGame: gameId }),
  leaveGame: () => "LeaveGame",
  gameCommand: (commandMessage) => ({ GameCommand: commandMessage }),
  createCustomGame: (settings = {}) => ({ CreateCustomGame: { settings } }),
  joinCustomGame: (gameCode) => ({ JoinCustomGame: { game_code: gameCode } }),
  updateCustomGameSettings: (settings) => ({ UpdateCustomGameSettings: { settings } }),
  startCustomGame: () => "StartCustomGame",
  spectateGame: (gameId, gameCode = null) => ({ SpectateGame: { game_id: gameId, game_code: gameCode } }),
  createSoloGame: () => "CreateSoloGame",
  chat: (text) => ({ Chat: text }),
});

/**
 * A Turn command stamped with the client's predicted tick (docs/RULES.md "Time, lag and
 * commands"). `snake_id` is left out when unknown: the server then uses the sender's.
 */
export function turnCommand({ tick, userId, sequenceNumber, direction, snakeId = null }) {
  const turn = { direction };
  if (snakeId !== null && snakeId !== undefined) turn.snake_id = snakeId;
  return {
    command_id_client: { tick, user_id: userId, sequence_number: sequenceNumber },
    command_id_server: null,
    command: { Turn: turn },
  };
}

export function encodeClientMessage(message) {
  return JSON.stringify(message);
}

// --- server -> client --------------------------------------------------------------

// `rng.state` is a u64 and JSON.parse would round it to a double, breaking the
// client's food prediction; quote it before parsing so it survives as a string.
// Only the snapshot's rng object has this shape, and no free text (names, codes)
// can contain it: usernames and codes are letters, digits, '_' and '-'.
const RNG_STATE = /("rng"\s*:\s*\{\s*"state"\s*:\s*)(\d+)/g;

/** Parse a JSON text frame keeping 64-bit integers exact where the protocol has them. */
export function parseWireJson(text) {
  return JSON.parse(text.includes('"rng"') ? text.replace(RNG_STATE, '$1"$2"') : text);
}

/**
 * Decode one server frame.
 * @returns {{type: string, value: any}} e.g. `{type: "GameEvent", value: {game_id, tick, ...}}`
 */
export function decodeServerMessage(text) {
  let parsed;
  try {
    parsed = parseWireJson(text);
  } catch (err) {
    throw new ProtocolError(`server frame is not JSON: ${err.message}`);
  }
  const [type, value] = variantOf(parsed);
  return { type, value };
}

// --- shared payload types ----------------------------------------------------------

export const GameType = Object.freeze({
  solo: () => "Solo",
  freeForAll: (maxPlayers) => ({ FreeForAll: { max_players: maxPlayers } }),
  teamMatch: (perTeam) => ({ TeamMatch: { per_team: perTeam } }),
  custom: (settings) => ({ Custom: { settings } }),
});

/** A short human label for a GameType value. */
export function describeGameType(gameType) {
  const [tag, payload] = variantOf(gameType);
  switch (tag) {
    case "Solo":
      return "Solo";
    case "FreeForAll":
      return `Free for all (${payload.max_players})`;
    case "TeamMatch":
      return payload.per_team === 1 ? "Duel (1 v 1)" : `Team match (${payload.per_team} v ${payload.per_team})`;
    case "Custom":
      return `Custom: ${describeGameMode(payload.settings.game_mode)}`;
    default:
      return tag;
  }
}

export function describeGameMode(mode) {
  const [tag, payload] = variantOf(mode);
  if (tag === "FreeForAll") return `free for all (${payload.max_players})`;
  return tag.toLowerCase();
}

/** True for games formed by matchmaking, whose results change ratings. */
export function isMatchmadeType(gameType) {
  const [tag] = variantOf(gameType);
  return tag === "FreeForAll" || tag === "TeamMatch";
}

/** GameStatus as `{kind: "Stopped"|"Started"|"Complete", winningSnakeId}`. */
export function readStatus(status) {
  const [kind, payload] = variantOf(status);
  return { kind, winningSnakeId: kind === "Complete" ? payload.winning_snake_id : null };
}

export const CUSTOM_SETTINGS_DEFAULTS = Object.freeze({
  arena_width: 40,
  arena_height: 40,
  tick_duration_ms: 100,
  food_spawn_rate: 3.0,
  max_players: 4,
  game_mode: { FreeForAll: { max_players: 4 } },
  is_private: true,
  allow_spectators: true,
  snake_start_length: 4,
});

/** The bounds of PROTOCOL.md; the server refuses anything outside with AccessDenied. */
export const CUSTOM_SETTINGS_BOUNDS = Object.freeze({
  arena_width: [10, 200],
  arena_height: [10, 200],
  tick_duration_ms: [30, 1000],
  max_players: [1, 16],
  snake_start_length: [1, 20],
  food_spawn_rate: [0, 100], // and a positive rate at least 0.01
});
