// The game rules of docs/RULES.md ("One tick"), ported from the server so the client can
// predict ahead of the server's committed state. Pure: no DOM, no clock, no I/O; the
// tests run this very file under node against the Python engine, tick by tick.
//
// A `Sim` is a working copy of a wire GameState in a shape that is cheap to step:
// snake bodies are expanded to every cell (head first), positions are {x, y}.

import { variantOf } from "./protocol.js";
import { Xorshift64 } from "./rng.js";

export const DIRECTIONS = Object.freeze(["Up", "Down", "Left", "Right"]);
const STEP = Object.freeze({ Up: [0, -1], Down: [0, 1], Left: [-1, 0], Right: [1, 0] });
export const OPPOSITE = Object.freeze({ Up: "Down", Down: "Up", Left: "Right", Right: "Left" });

// --- bodies ------------------------------------------------------------------------

/** Wire body (head, each turn point, tail) -> every cell from head to tail. */
export function expandBody(points) {
  const cells = [{ x: points[0].x, y: points[0].y }];
  for (let i = 1; i < points.length; i++) {
    const from = points[i - 1];
    const to = points[i];
    const dx = Math.sign(to.x - from.x);
    const dy = Math.sign(to.y - from.y);
    if (dx !== 0 && dy !== 0) throw new Error(`body points ${i - 1} and ${i} are not on one line`);
    let { x, y } = from;
    while (x !== to.x || y !== to.y) {
      x += dx;
      y += dy;
      cells.push({ x, y });
    }
  }
  return cells;
}

/** Every cell -> wire body: head, the cells where the body bends, tail. */
export function compressBody(cells) {
  const points = [{ x: cells[0].x, y: cells[0].y }];
  for (let i = 1; i < cells.length - 1; i++) {
    const prev = cells[i - 1];
    const cur = cells[i];
    const next = cells[i + 1];
    if (cur.x - prev.x !== next.x - cur.x || cur.y - prev.y !== next.y - cur.y) points.push({ x: cur.x, y: cur.y });
  }
  // A one-cell body repeats its head, as the server sends it: head and tail are both there.
  const tail = cells[cells.length - 1];
  points.push({ x: tail.x, y: tail.y });
  return points;
}

/** The direction of a snake's last step, read from its body (the neck points to it). */
function lastStepOf(cells, facing) {
  if (cells.length < 2) return facing;
  const dx = cells[0].x - cells[1].x;
  const dy = cells[0].y - cells[1].y;
  for (const d of DIRECTIONS) if (STEP[d][0] === dx && STEP[d][1] === dy) return d;
  return facing;
}

const samePos = (a, b) => a.x === b.x && a.y === b.y;

// --- state <-> sim -----------------------------------------------------------------

/** How the game ends (docs/RULES.md "Game types"). */
function endRuleOf(gameType) {
  const [tag, payload] = variantOf(gameType);
  if (tag === "Solo") return "solo";
  if (tag === "TeamMatch") return "team";
  if (tag === "Custom") {
    const [mode] = variantOf(payload.settings.game_mode);
    return mode === "Solo" ? "solo" : "last_alive";
  }
  return "last_alive";
}

/** A working copy of a wire GameState (JSON as decoded by protocol.js). */
export function simFromState(state) {
  const zones = state.arena.team_zone_config;
  return {
    tick: state.tick,
    status: structuredClone(state.status),
    gameType: state.game_type,
    endRule: endRuleOf(state.game_type),
    width: state.arena.width,
    height: state.arena.height,
    zones: zones ? { depth: zones.end_zone_depth, goalWidth: zones.goal_width } : null,
    snakes: state.arena.snakes.map((s) => {
      const cells = expandBody(s.body);
      return {
        cells,
        direction: s.direction,
        lastStep: lastStepOf(cells, s.direction),
        isAlive: s.is_alive,
        food: s.food,
        teamId: s.team_id,
      };
    }),
    food: state.arena.food.map((p) => ({ x: p.x, y: p.y })),
    foodTarget: state.properties.available_food_target,
    rng: state.rng ? new Xorshift64(state.rng.state) : null,
    queue: state.command_queue.queue.map((c) => structuredClone(c)),
    players: state.players,
  };
}

export function cloneSim(sim) {
  return {
    ...sim,
    status: structuredClone(sim.status),
    snakes: sim.snakes.map((s) => ({ ...s, cells: s.cells.map((c) => ({ x: c.x, y: c.y })) })),
    food: sim.food.map((p) => ({ x: p.x, y: p.y })),
    rng: sim.rng ? sim.rng.clone() : null,
    queue: sim.queue.slice(),
  };
}

/** The wire-shaped parts of a sim that the rules change (for drawing and comparing). */
export function describeSim(sim) {
  return {
    tick: sim.tick,
    status: structuredClone(sim.status),
    snakes: sim.snakes.map((s) => ({
      body: compressBody(s.cells),
      direction: s.direction,
      is_alive: s.isAlive,
      food: s.food,
      team_id: s.teamId,
    })),
    food: sim.food.map((p) => ({ x: p.x, y: p.y })),
    rng_state: sim.rng ? sim.rng.state.toString() : null,
  };
}

// --- commands ----------------------------------------------------------------------

/** The id a queued command runs by: the server's stamp once it has one. */
export function effectiveId(commandMessage) {
  return commandMessage.command_id_server ?? commandMessage.command_id_client;
}

export function compareCommands(a, b) {
  const ia = effectiveId(a);
  const ib = effectiveId(b);
  return ia.tick - ib.tick || ia.user_id - ib.user_id || ia.sequence_number - ib.sequence_number;
}

function snakeIdOf(sim, turn, userId) {
  if (turn.snake_id !== undefined && turn.snake_id !== null) return turn.snake_id;
  const player = sim.players?.[String(userId)];
  return player ? player.snake_id : null;
}

function applyCommand(sim, commandMessage, events) {
  const [tag, payload] = variantOf(commandMessage.command);
  if (tag === "Turn") {
    const snakeId = snakeIdOf(sim, payload, effectiveId(commandMessage).user_id);
    const snake = snakeId === null ? undefined : sim.snakes[snakeId];
    if (!snake || !snake.isAlive) return;
    const direction = payload.direction;
    if (direction === snake.direction || direction === OPPOSITE[snake.lastStep]) return;
    snake.direction = direction;
    events.push({ SnakeTurned: { snake_id: snakeId, direction } });
  } else if (tag === "UpdateStatus") {
    sim.status = structuredClone(payload.status);
    events.push({ StatusUpdated: { status: structuredClone(payload.status) } });
  }
}

// --- the arena -----------------------------------------------------------------------

function isWall(sim, pos) {
  const z = sim.zones;
  if (!z) return false;
  if (pos.x !== z.depth - 1 && pos.x !== sim.width - z.depth) return false;
  const mid = Math.trunc(sim.height / 2);
  const half = Math.trunc(z.goalWidth / 2);
  return pos.y < mid - half || pos.y > mid + half;
}

function isOutOfBounds(sim, pos) {
  return pos.x < 0 || pos.y < 0 || pos.x >= sim.width || pos.y >= sim.height;
}

function hasScored(sim, snake) {
  const z = sim.zones;
  if (!z || snake.teamId === null || snake.teamId === undefined) return false;
  const head = snake.cells[0];
  return snake.teamId === 0 ? head.x >= sim.width - z.depth : head.x < z.depth;
}

function isOnLiveSnake(sim, pos) {
  return sim.snakes.some((s) => s.isAlive && s.cells.some((c) => samePos(c, pos)));
}

// --- one tick ------------------------------------------------------------------------

function complete(sim, winningSnakeId, events) {
  sim.status = { Complete: { winning_snake_id: winningSnakeId } };
  events.push({ StatusUpdated: { status: structuredClone(sim.status) } });
}

function winnerByEndRule(sim) {
  const alive = [];
  sim.snakes.forEach((s, id) => s.isAlive && alive.push(id));
  if (sim.endRule === "solo") return alive.length === 0 ? { winner: null } : null;
  if (sim.endRule === "last_alive") {
    // Such games start with two players at least (docs/RULES.md, fixed), so this is never tick 0's doing.
    return alive.length <= 1 ? { winner: alive.length === 1 ? alive[0] : null } : null;
  }
  // team: ends when a team has no live snake; the first live snake of the other wins.
  const teams = new Set(sim.snakes.map((s) => s.teamId));
  for (const team of teams) {
    if (!alive.some((id) => sim.snakes[id].teamId === team)) {
      return { winner: alive.length > 0 ? alive[0] : null };
    }
  }
  return null;
}

/**
 * Compute tick `sim.tick` in place (docs/RULES.md "One tick", steps 2-8) and return the
 * events it emits, as wire GameEvent values (without sequence numbers). Commands are
 * taken from `sim.queue`. A game that is not Started does not advance.
 */
export function computeTick(sim) {
  const events = [];
  const [statusKind] = variantOf(sim.status);
  if (statusKind !== "Started") return events;
  const T = sim.tick;

  // 2. commands due at or before T, in (tick, user_id, sequence_number) order.
  const due = sim.queue.filter((c) => effectiveId(c).tick <= T).sort(compareCommands);
  if (due.length > 0) {
    sim.queue = sim.queue.filter((c) => effectiveId(c).tick > T);
    for (const c of due) applyCommand(sim, c, events);
  }

  // 3. move every live snake one cell; remember the old body to put a dead snake back.
  const before = new Map();
  sim.snakes.forEach((s, id) => {
    if (!s.isAlive) return;
    before.set(id, { cells: s.cells.slice(), food: s.food, lastStep: s.lastStep });
    const [dx, dy] = STEP[s.direction];
    s.cells.unshift({ x: s.cells[0].x + dx, y: s.cells[0].y + dy });
    if (s.food > 0) s.food -= 1;
    else s.cells.pop();
    s.lastStep = s.direction;
  });

  // 4. collisions, judged after every snake moved.
  const dying = [];
  for (const id of before.keys()) {
    const s = sim.snakes[id];
    const head = s.cells[0];
    let dies = isOutOfBounds(sim, head) || isWall(sim, head);
    if (!dies) dies = s.cells.some((c, i) => i > 0 && samePos(c, head));
    if (!dies) {
      for (const other of before.keys()) {
        if (other !== id && sim.snakes[other].cells.some((c) => samePos(c, head))) {
          dies = true;
          break;
        }
      }
    }
    if (dies) dying.push(id);
  }
  for (const id of dying) {
    const s = sim.snakes[id];
    const old = before.get(id);
    s.cells = old.cells;
    s.food = old.food;
    s.lastStep = old.lastStep;
    s.isAlive = false;
    events.push({ SnakeDied: { snake_id: id } });
  }

  // 5. food eaten by live heads.
  sim.snakes.forEach((s, id) => {
    if (!s.isAlive) return;
    const head = s.cells[0];
    const index = sim.food.findIndex((p) => samePos(p, head));
    if (index < 0) return;
    sim.food.splice(index, 1);
    s.food += 1;
    events.push({ FoodEaten: { snake_id: id, position: { x: head.x, y: head.y } } });
  });

  // 6. one spawn attempt when below the target; team games spawn in the main field only.
  if (sim.rng && sim.food.length < sim.foodTarget) {
    const xMin = sim.zones ? sim.zones.depth : 0;
    const xRange = sim.zones ? sim.width - 2 * sim.zones.depth : sim.width;
    const x = xMin + (sim.rng.nextU16() % xRange);
    const y = sim.rng.nextU16() % sim.height;
    const pos = { x, y };
    if (!sim.food.some((p) => samePos(p, pos)) && !isOnLiveSnake(sim, pos)) {
      sim.food.push(pos);
      events.push({ FoodSpawned: { position: { x, y } } });
    }
  }

  // 7. team goal, then the end rule of the game type.
  const scorer = sim.snakes.findIndex((s) => s.isAlive && hasScored(sim, s));
  if (scorer >= 0) {
    complete(sim, scorer, events);
  } else {
    const ended = winnerByEndRule(sim);
    if (ended) complete(sim, ended.winner, events);
  }

  // 8.
  sim.tick = T + 1;
  return events;
}

/** Compute ticks until `sim.tick === tick` or the game stops; returns the events by tick. */
export function advanceTo(sim, tick) {
  const byTick = [];
  while (sim.tick < tick) {
    const [statusKind] = variantOf(sim.status);
    if (statusKind !== "Started") break;
    byTick.push({ tick: sim.tick, events: computeTick(sim) });
  }
  return byTick;
}
