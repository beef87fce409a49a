"""Start positions for every player count and game type, team zones and walls (docs/RULES.md)."""

from __future__ import annotations

import pytest

from snaketron.engine import SOLO, Direction, Game, GameType, type_free_for_all, type_team_match
from snaketron.engine.arena import goal_width_for, team_zones_for
from snaketron.engine.body import expand

R, L = Direction.RIGHT, Direction.LEFT


def _layout(game_type: GameType, players: int) -> list[tuple[tuple[int, int], tuple[int, int], Direction]]:
    """(head, tail, facing) of each snake after `players` joined."""
    game = Game(1, game_type, seed=1)
    for user in range(players):
        game.add_player(user, f"u{user}")
    out = []
    for snake in game.state.arena.snakes:
        cells = expand(snake.body)
        assert len(cells) == 4
        out.append((cells[0], cells[-1], snake.direction))
    return out


def test_one_player_starts_right_of_centre_facing_left() -> None:
    assert _layout(SOLO, 1) == [((35, 20), (38, 20), L)]


def test_two_players_face_each_other_on_the_middle_row() -> None:
    assert _layout(type_free_for_all(2), 2) == [((35, 20), (38, 20), L), ((4, 20), (1, 20), R)]


def test_three_players_fill_the_left_column_first() -> None:
    # As the original server: seats 0 and 1 on the left, seat 2 alone on the right.
    assert _layout(type_free_for_all(3), 3) == [
        ((4, 2), (1, 2), R),
        ((4, 38), (1, 38), R),
        ((35, 20), (38, 20), L),
    ]


def test_four_players_two_columns_of_two() -> None:
    assert _layout(type_free_for_all(4), 4) == [
        ((4, 2), (1, 2), R),
        ((4, 38), (1, 38), R),
        ((35, 2), (38, 2), L),
        ((35, 38), (38, 38), L),
    ]


def test_six_players_rows_spread_by_integer_arithmetic() -> None:
    layout = _layout(type_free_for_all(6), 6)
    assert [head for head, _, _ in layout] == [(4, 2), (4, 20), (4, 38), (35, 2), (35, 20), (35, 38)]


def test_sixteen_players_fit_two_columns_of_eight() -> None:
    layout = _layout(type_free_for_all(16), 16)
    heads = [head for head, _, _ in layout]
    assert len(set(heads)) == 16
    assert [x for x, _ in heads] == [4] * 8 + [35] * 8


def test_ten_players() -> None:
    layout = _layout(type_free_for_all(10), 10)
    left_rows = [head[1] for head, _, facing in layout if facing is R]
    right_rows = [head[1] for head, _, facing in layout if facing is L]
    assert left_rows == right_rows == [2, 11, 20, 29, 38]
    assert {head[0] for head, _, facing in layout if facing is R} == {4}
    assert {head[0] for head, _, facing in layout if facing is L} == {35}


def test_duel_starts_in_the_end_zones() -> None:
    assert _layout(type_team_match(1), 2) == [((5, 20), (2, 20), R), ((55, 20), (58, 20), L)]


def test_2v2_teammates_share_a_column_on_distinct_rows() -> None:
    # Main field 10..49 narrowed by 2: left = 12, right = 47.
    assert _layout(type_team_match(2), 4) == [
        ((16, 2), (13, 2), R),
        ((43, 2), (46, 2), L),
        ((16, 38), (13, 38), R),
        ((43, 38), (46, 38), L),
    ]


def test_3v3_teams_on_their_own_sides_with_distinct_cells() -> None:
    game = Game(1, type_team_match(3), seed=1)
    for user in range(6):
        game.add_player(user, f"u{user}")
    snakes = game.state.arena.snakes
    heads = [(s.body[0].x, s.body[0].y) for s in snakes]
    assert heads == [(16, 2), (43, 2), (16, 20), (43, 20), (16, 38), (43, 38)]
    assert [s.team_id for s in snakes] == [0, 1, 0, 1, 0, 1]
    all_cells = [c for s in snakes for c in expand(s.body)]
    assert len(all_cells) == len(set(all_cells))


@pytest.mark.parametrize("players", range(1, 17))
def test_no_two_snakes_share_a_cell_for_any_player_count(players: int) -> None:
    game = Game(1, type_free_for_all(16), seed=1)
    for user in range(players):
        game.add_player(user, f"u{user}")
    cells = [c for s in game.state.arena.snakes for c in expand(s.body)]
    assert len(cells) == len(set(cells)) == 4 * players
    assert all(0 <= x < 40 and 0 <= y < 40 for x, y in cells)


@pytest.mark.parametrize("per_team", range(1, 5))
def test_every_team_size_matchmaking_offers_lays_out_on_distinct_cells(per_team: int) -> None:
    game = Game(1, type_team_match(per_team), seed=1)
    for user in range(2 * per_team):
        game.add_player(user, f"u{user}")
    snakes = game.state.arena.snakes
    cells = [c for s in snakes for c in expand(s.body)]
    assert len(cells) == len(set(cells)) == 4 * 2 * per_team
    assert [s.team_id for s in snakes] == [0, 1] * per_team


@pytest.mark.parametrize(("height", "width"), [(40, 9), (10, 3), (20, 5), (25, 5), (30, 7), (15, 3), (50, 11)])
def test_goal_width_is_a_fifth_of_the_height_at_least_3_and_odd(height: int, width: int) -> None:
    assert goal_width_for(height) == width


def test_walls_close_the_end_zones_except_for_the_goal_opening() -> None:
    zones = team_zones_for(60, 40)
    assert (zones.left_wall_x, zones.right_wall_x) == (9, 50)
    assert (zones.goal_top, zones.goal_bottom) == (16, 24)
    for x in (9, 50):
        assert [y for y in range(40) if not zones.is_wall(x, y)] == list(range(16, 25))
    assert not any(zones.is_wall(x, 0) for x in range(60) if x not in (9, 50))


def test_goals_score_only_across_the_other_teams_wall() -> None:
    zones = team_zones_for(60, 40)
    assert zones.scores(0, 50) and not zones.scores(0, 49) and not zones.scores(0, 5)
    assert zones.scores(1, 9) and not zones.scores(1, 10) and not zones.scores(1, 55)
