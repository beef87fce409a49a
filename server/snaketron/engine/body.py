"""A snake's body on the wire is compressed: head, each turn point, tail. These convert it."""

from __future__ import annotations

from collections.abc import Iterable

from snaketron.engine.types import Position

Cell = tuple[int, int]


def compress(cells: Iterable[Cell]) -> list[Position]:
    """Head first, then every cell where the body bends, then the tail (a 1-cell body repeats its head)."""
    # One pass over the cells, carrying the last step: every snapshot compresses every
    # live body, and indexing a deque (the engine's bodies) is not O(1).
    it = iter(cells)
    bx, by = next(it)
    points = [Position(bx, by)]
    step: Cell | None = None
    for cx, cy in it:
        here = (bx - cx, by - cy)
        if step is not None and here != step:
            points.append(Position(bx, by))
        step = here
        bx, by = cx, cy
    points.append(Position(bx, by))
    return points


def expand(points: Iterable[Position]) -> list[Cell]:
    """Every cell of a compressed body, head first. Raises ValueError on a diagonal segment."""
    cells: list[Cell] = []
    for point in points:
        if not cells:
            cells.append((point.x, point.y))
            continue
        x, y = cells[-1]
        if x != point.x and y != point.y:
            raise ValueError(f"diagonal body segment {(x, y)} -> {(point.x, point.y)}")
        step_x = (point.x > x) - (point.x < x)
        step_y = (point.y > y) - (point.y < y)
        while (x, y) != (point.x, point.y):
            x += step_x
            y += step_y
            cells.append((x, y))
    return cells
