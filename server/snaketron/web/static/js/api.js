// The HTTP account API (PROTOCOL.md "Tokens and the HTTP API"), plus the optional
// list of live games. Errors arrive as {"error": "<text>"} with a status code.

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export class ApiClient {
  /** @param {string} baseUrl '' for the page's own origin (the API serves the page) */
  constructor(baseUrl = "", fetchImpl = (...args) => globalThis.fetch(...args)) {
    this.baseUrl = baseUrl.replace(/\/$/, "");
    this.fetch = fetchImpl;
  }

  async request(method, path, { body, token } = {}) {
    const headers = {};
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (token) headers.Authorization = `Bearer ${token}`;
    let response;
    try {
      response = await this.fetch(`${this.baseUrl}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      throw new ApiError(0, `The server cannot be reached (${err.message}).`);
    }
    let data = null;
    try {
      data = await response.json();
    } catch {
      data = null;
    }
    if (!response.ok) {
      const text = data && typeof data.error === "string" ? data.error : response.statusText || "request failed";
      throw new ApiError(response.status, text);
    }
    return data;
  }

  /** -> {token, user: {id, username, mmr}} */
  register(username, password) {
    return this.request("POST", "/api/auth/register", { body: { username, password } });
  }

  /** -> {token, user: {id, username, mmr}} */
  login(username, password) {
    return this.request("POST", "/api/auth/login", { body: { username, password } });
  }

  /** -> {available, errors: [..]} */
  checkUsername(username) {
    return this.request("POST", "/api/auth/check-username", { body: { username } });
  }

  /** -> {id, username, mmr} */
  me(token) {
    return this.request("GET", "/api/auth/me", { token });
  }

  /** A finished game's summary -> {game_id, players, winner_user_id, replay_available, ...} */
  gameSummary(gameId, token) {
    return this.request("GET", `/api/games/${encodeURIComponent(gameId)}`, { token });
  }

  /** A finished game's replay -> {game_id, rules_version, tick_duration_ms, final_tick, events} */
  replay(gameId, token) {
    return this.request("GET", `/api/games/${encodeURIComponent(gameId)}/replay`, { token });
  }

  /**
   * Live public games, or null when this server has no such list (404): the home
   * screen then offers spectating by id or code only.
   * @returns {Promise<Array<object> | null>}
   */
  async liveGames(token) {
    try {
      const data = await this.request("GET", "/api/games?status=started", { token });
      if (Array.isArray(data)) return data;
      if (data && Array.isArray(data.games)) return data.games;
      return [];
    } catch (err) {
      if (err instanceof ApiError && (err.status === 404 || err.status === 405)) return null;
      throw err;
    }
  }

  // --- leaderboards and players (PROTOCOL.md "Tokens and the HTTP API") -------------

  /** -> {entries, season, gameType, queueMode, region, hasMore} */
  leaderboard({ gameType, season, region, limit = 25, offset = 0 }) {
    return this.request("GET", `/api/leaderboard?${boardQuery({ gameType, season, region })}&limit=${limit}&offset=${offset}`);
  }

  /** -> {rank, mmr, wins, losses, winRate, score, season, gameType}: the exact rank, or nulls */
  myRank({ gameType, season, region }, token) {
    return this.request("GET", `/api/leaderboard/me?${boardQuery({ gameType, season, region })}`, { token });
  }

  /** -> {seasons: [{id, startsAt, endsAt}], current} */
  seasons() {
    return this.request("GET", "/api/leaderboard/seasons");
  }

  /** -> {id, username, createdAt, mmr, stats: {duel|ffa|solo: {mmr, wins, losses, gamesPlayed, bestScore}}} */
  player(username) {
    return this.request("GET", `/api/players/${encodeURIComponent(username)}`);
  }

  /** -> {games: [...], cursor, hasMore}, newest first. With the player's own token
   * the page includes their private games (solo, private lobbies); others never see them. */
  playerGames(username, cursor = null, limit = 20, token = null) {
    const after = cursor ? `&cursor=${encodeURIComponent(cursor)}` : "";
    return this.request("GET", `/api/players/${encodeURIComponent(username)}/games?limit=${limit}${after}`, { token });
  }
}

/** The query of one board: type, season and region (empty: the global board). */
export function boardQuery({ gameType, season, region }) {
  const params = new URLSearchParams({ game_type: gameType });
  if (season) params.set("season", season);
  if (region) params.set("region", region);
  return params.toString();
}
