// Hand-made wire GameStates for the rule tests (PROTOCOL.md shapes).

export function gameState({
  width = 20,
  height = 20,
  snakes,
  food = [],
  gameType = snakes.length === 1 ? "Solo" : { FreeForAll: { max_players: 4 } },
  zones = null,
  tick = 0,
  status = { Started: { server_id: 1 } },
  rng = 42,
  foodTarget = 0,
  queue = [],
}) {
  const players = {};
  const usernames = {};
  snakes.forEach((_, id) => {
    players[String(id + 1)] = { user_id: id + 1, snake_id: id };
    usernames[String(id + 1)] = `p${id + 1}`;
  });
  return {
    tick,
    status,
    game_type: gameType,
    start_ms: 0,
    event_sequence: 0,
    arena: {
      width,
      height,
      snakes: snakes.map((s) => ({ food: 0, is_alive: true, team_id: null, ...s })),
      food,
      team_zone_config: zones,
    },
    properties: { available_food_target: foodTarget, tick_duration_ms: 100 },
    command_queue: { queue, active_ids: [], tombstone_ids: [] },
    players,
    rng: rng === null ? null : { state: String(rng) },
    game_code: null,
    host_user_id: null,
    usernames,
  };
}

export function turn(userId, tick, direction, sequenceNumber = 1, snakeId = userId - 1) {
  const id = { tick, user_id: userId, sequence_number: sequenceNumber };
  return { command_id_client: id, command_id_server: id, command: { Turn: { snake_id: snakeId, direction } } };
}

export const pos = (x, y) => ({ x, y });
