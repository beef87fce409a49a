"""A small bot brain for load tests and demos: steer toward food, avoid walls and bodies.

It reads only the wire `GameState`, so a client-side bot can run it on the
state it keeps from snapshots and events.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from snaketron.engine.arena import TeamZones, zones_from_config
from snaketron.engine.body import Cell, expand
from snaketron.engine.types import Direction, GameState

# Cells a flood fill looks at before calling a move roomy enough.
ROOM_TO_LOOK_AT = 48


def choose_direction(state: GameState, snake_id: int) -> Direction | None:
    """The direction to turn to, or None to keep going (or when nothing helps)."""
    arena = state.arena
    if not 0 <= snake_id < len(arena.snakes):
        return None
    me = arena.snakes[snake_id]
    if not me.is_alive:
        return None
    width, height = arena.width, arena.height
    zones = None
    if arena.team_zone_config is not None:
        config = arena.team_zone_config
        zones = zones_from_config(width, height, config.end_zone_depth, config.goal_width)

    blocked: set[Cell] = set()
    for snake in arena.snakes:
        if not snake.is_alive:
            continue
        cells = expand(snake.body)
        if snake.food == 0:
            cells.pop()  # the tail moves away this tick
        blocked.update(cells)
    my_cells = expand(me.body)
    head = my_cells[0]
    last_step = me.direction
    if len(my_cells) > 1:
        step = (head[0] - my_cells[1][0], head[1] - my_cells[1][1])
        last_step = next((d for d in Direction if d.delta == step), me.direction)

    def free(cell: Cell) -> bool:
        x, y = cell
        if not (0 <= x < width and 0 <= y < height) or cell in blocked:
            return False
        return zones is None or not zones.is_wall(x, y)

    targets = [(p.x, p.y) for p in arena.food]
    if zones is not None and me.team_id is not None:
        targets.append(_goal_cell(zones, me.team_id, height))

    best: tuple[tuple[int, int, int], Direction] | None = None
    for direction in Direction:
        if direction is last_step.opposite:
            continue
        dx, dy = direction.delta
        cell = (head[0] + dx, head[1] + dy)
        if not free(cell):
            continue
        room = _room(cell, free)
        distance = min((abs(cell[0] - tx) + abs(cell[1] - ty) for tx, ty in targets), default=0)
        # Enough room first, then closeness to a target, then no needless turn.
        score = (-min(room, len(my_cells) + 2), distance, direction is not me.direction)
        if best is None or score < best[0]:
            best = (score, direction)
    if best is None or best[1] is me.direction:
        return None
    return best[1]


def _goal_cell(zones: TeamZones, team_id: int, height: int) -> Cell:
    """The middle of the opening a head must pass to score."""
    return (zones.right_wall_x if team_id == 0 else zones.left_wall_x, height // 2)


def _room(start: Cell, free: Callable[[Cell], bool]) -> int:
    """How many free cells are reachable from `start`, counting up to ROOM_TO_LOOK_AT."""
    seen = {start}
    queue = deque([start])
    while queue and len(seen) < ROOM_TO_LOOK_AT:
        x, y = queue.popleft()
        for nxt in ((x + 1, y), (x - 1, y), (x, y + 1), (x, y - 1)):
            if nxt not in seen and free(nxt):
                seen.add(nxt)
                queue.append(nxt)
    return len(seen)
