"""A snake's body on the wire is compressed: head, each turn point, tail. These convert it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from snaketron.engine.types import Position

Cell = tuple[int, int]


def compress(cells: Sequence[Cell]) -> list[Position]:
    """Head first, then every cell where the body bends, then the tail (a 1-cell body repeats its head)."""
    points = [Position(*cells[0])]
    for i in range(1, len(cells) - 1):
        (ax, ay), (bx, by), (cx, cy) = cells[i - 1], cells[i], cells[i + 1]
        if (ax - bx, ay - by) != (bx - cx, by - cy):
            points.append(Position(bx, by))
    points.append(Position(*cells[-1]))
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
