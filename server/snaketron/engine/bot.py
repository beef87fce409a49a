"""A small bot brain for load tests and demos: steer toward food, avoid walls and bodies.

`choose_direction` reads only the wire `GameState`, so a client-side bot can run
it on the state it keeps from snapshots and events. `choose_direction_on_board`
makes the same decision on a running engine `Game`, reading its occupancy board
in place: no wire state, no sets of expanded bodies (the load generator's bots,
which compute their games along, think with it).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from snaketron.engine.arena import TeamZones, zones_from_config
from snaketron.engine.body import Cell, expand
from snaketron.engine.types import Direction, GameState

if TYPE_CHECKING:
    from snaketron.engine.game import Game

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


def choose_direction_on_board(game: Game, snake_id: int) -> Direction | None:
    """What `choose_direction(game.state, snake_id)` returns, read off the game's own board.

    The engine's occupancy board counts the live bodies on each cell; a cell is an
    obstacle when a body stays on it this tick (a tail with no growth pending moves
    away) or when it is a team-zone wall. The flood fill walks a copy of that board,
    marking what it has seen in place, and stops as soon as the answer cannot change
    (`min(room, length + 2)` is all the score uses): same cells, same order, same result.
    """
    # Engine-internal reads of the Game's board, like `Game.road_ahead`.
    snakes = game._snakes
    if not 0 <= snake_id < len(snakes):
        return None
    me = snakes[snake_id]
    if not me.alive:
        return None
    setup = game.setup
    width, height = setup.width, setup.height
    board = bytearray(game._occupied)
    for snake in snakes:
        if snake.alive and snake.food == 0:
            x, y = snake.cells[-1]  # the tail moves away this tick: one body fewer there
            if 0 <= x < width and 0 <= y < height:
                board[y * width + x] -= 1
    zones = setup.zones
    targets = list(game._food)
    if zones is not None:
        _block_walls(board, zones, width, height)
        if me.team_id is not None:
            targets.append(_goal_cell(zones, me.team_id, height))

    cells = me.cells
    hx, hy = cells[0]
    facing = me.direction
    last_step = facing
    if len(cells) > 1:
        nx, ny = cells[1]
        last_step = _STEPS.get((hx - nx, hy - ny), facing)
    reverse = last_step.opposite
    # Room beyond length + 2 scores no better, so the fill stops there (or at ROOM_TO_LOOK_AT).
    enough = len(cells) + 2
    limit = min(ROOM_TO_LOOK_AT, enough)

    best: tuple[tuple[int, int, int], Direction] | None = None
    for direction, dx, dy in _DIRECTIONS:
        if direction is reverse:
            continue
        x, y = hx + dx, hy + dy
        if not (0 <= x < width and 0 <= y < height) or board[y * width + x]:
            continue
        room = _room_on_board(bytearray(board), y * width + x, width, limit)
        distance = min((abs(x - tx) + abs(y - ty) for tx, ty in targets), default=0)
        score = (-min(room, enough), distance, direction is not facing)
        if best is None or score < best[0]:
            best = (score, direction)
    if best is None or best[1] is facing:
        return None
    return best[1]


# Direction order matters: ties go to the first, as in `choose_direction`.
_DIRECTIONS = tuple((direction, *direction.delta) for direction in Direction)
_STEPS = {direction.delta: direction for direction in Direction}


def _block_walls(board: bytearray, zones: TeamZones, width: int, height: int) -> None:
    """Mark both wall columns, above and below the goal opening, as obstacles."""
    below = zones.goal_bottom + 1
    for x in (zones.left_wall_x, zones.right_wall_x):
        board[x : zones.goal_top * width : width] = b"\x01" * zones.goal_top
        board[below * width + x : height * width : width] = b"\x01" * (height - below)


def _room_on_board(board: bytearray, start: int, width: int, limit: int) -> int:
    """`_room` on a board copy (0 = free), counting up to `limit`; marks seen cells on it."""
    size = len(board)
    board[start] = 1
    seen = 1
    queue = deque((start,))
    while queue and seen < limit:
        i = queue.popleft()
        x = i % width
        # Same neighbour order as `_room`: x+1, x-1, y+1, y-1.
        if x + 1 < width and not board[i + 1]:
            board[i + 1] = 1
            seen += 1
            queue.append(i + 1)
        if x and not board[i - 1]:
            board[i - 1] = 1
            seen += 1
            queue.append(i - 1)
        j = i + width
        if j < size and not board[j]:
            board[j] = 1
            seen += 1
            queue.append(j)
        j = i - width
        if j >= 0 and not board[j]:
            board[j] = 1
            seen += 1
            queue.append(j)
    return seen
