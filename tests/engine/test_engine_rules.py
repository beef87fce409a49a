"""One test per rule of docs/RULES.md's tick procedure: movement, growth, collisions, turns, food, ends."""

from __future__ import annotations

import pytest
from engine_boards import S, board, cells_of, custom_type, kinds, of_kind, turn

from snaketron.engine import Direction, FoodEaten, Position, SnakeDied, SnakeTurned, type_team_match
from snaketron.engine.rng import Xorshift64

R, L, U, D = Direction.RIGHT, Direction.LEFT, Direction.UP, Direction.DOWN


# --- movement and growth ------------------------------------------------------------


def test_a_snake_moves_one_cell_and_its_tail_follows() -> None:
    game = board([S([(5, 5), (4, 5), (3, 5)]), S([(5, 15), (4, 15)])])
    game.advance_to(0)
    assert cells_of(game, 0) == [(6, 5), (5, 5), (4, 5)]
    assert game.tick == 1


def test_y_grows_downward_so_up_decreases_y() -> None:
    game = board([S([(5, 5), (5, 6)]), S([(15, 15), (15, 16)])])
    assert game.state.arena.snakes[0].direction is U
    game.advance_to(0)
    assert cells_of(game, 0)[0] == (5, 4)


def test_pending_food_grows_the_snake_by_keeping_its_tail() -> None:
    game = board([S([(5, 5), (4, 5)], food=2), S([(5, 15), (4, 15)])])
    game.advance_to(0)
    assert cells_of(game, 0) == [(6, 5), (5, 5), (4, 5)]
    assert game.state.arena.snakes[0].food == 1
    game.advance_to(1)
    assert cells_of(game, 0) == [(7, 5), (6, 5), (5, 5), (4, 5)]
    assert game.state.arena.snakes[0].food == 0


def test_food_under_a_head_is_eaten_and_grows_the_snake_one_cell() -> None:
    game = board([S([(5, 5), (4, 5)]), S([(5, 15), (4, 15)])], food=[(6, 5)])
    events = game.advance_to(0)
    assert of_kind(events, "FoodEaten") == [FoodEaten(snake_id=0, position=Position(6, 5))]
    state = game.state
    assert Position(6, 5) not in state.arena.food
    assert state.arena.snakes[0].food == 1
    game.advance_to(1)
    assert len(cells_of(game, 0)) == 3


# --- collisions ---------------------------------------------------------------------


def test_leaving_the_board_kills_and_the_body_stays_as_before_the_move() -> None:
    game = board([S([(19, 5), (18, 5), (17, 5)]), S([(5, 15), (4, 15)])])
    events = game.advance_to(0)
    assert of_kind(events, "SnakeDied") == [SnakeDied(snake_id=0)]
    snake = game.state.arena.snakes[0]
    assert not snake.is_alive
    assert cells_of(game, 0) == [(19, 5), (18, 5), (17, 5)]


def test_a_dead_snake_puts_back_its_growth_too() -> None:
    game = board([S([(0, 5), (1, 5)], food=1), S([(5, 15), (4, 15)])])
    game.advance_to(0)
    snake = game.state.arena.snakes[0]
    assert not snake.is_alive
    assert (cells_of(game, 0), snake.food) == ([(0, 5), (1, 5)], 1)


def test_running_into_another_live_snake_kills_only_the_runner() -> None:
    # Snake 1 runs up the board; snake 0's head moves into snake 1's body.
    game = board([S([(4, 5), (3, 5)]), S([(5, 4), (5, 5), (5, 6), (5, 7)])])
    events = game.advance_to(0)
    assert of_kind(events, "SnakeDied") == [SnakeDied(snake_id=0)]
    assert game.state.arena.snakes[1].is_alive


def test_head_on_meeting_on_one_cell_kills_both() -> None:
    game = board([S([(4, 5), (3, 5)]), S([(6, 5), (7, 5)]), S([(5, 15), (4, 15)])])
    events = game.advance_to(0)
    assert of_kind(events, "SnakeDied") == [SnakeDied(snake_id=0), SnakeDied(snake_id=1)]


def test_head_swap_kills_both() -> None:
    game = board([S([(4, 5), (3, 5)]), S([(5, 5), (6, 5)]), S([(5, 15), (4, 15)])])
    events = game.advance_to(0)
    assert of_kind(events, "SnakeDied") == [SnakeDied(snake_id=0), SnakeDied(snake_id=1)]


def test_running_into_its_own_body_kills() -> None:
    # Last step was Left; Down is allowed but (5, 6) is the snake's own body.
    game = board([S([(5, 5), (6, 5), (6, 6), (5, 6), (4, 6)], direction=D), S([(15, 15), (14, 15)])])
    events = game.advance_to(0)
    assert of_kind(events, "SnakeDied") == [SnakeDied(snake_id=0)]


def test_following_its_own_tail_is_safe_because_the_tail_moves_away() -> None:
    game = board([S([(5, 5), (6, 5), (6, 6), (5, 6)], direction=D), S([(15, 15), (14, 15)])])
    events = game.advance_to(0)
    assert of_kind(events, "SnakeDied") == []
    assert cells_of(game, 0) == [(5, 6), (5, 5), (6, 5), (6, 6)]


def test_a_growing_tail_stays_and_is_an_obstacle() -> None:
    game = board([S([(5, 5), (6, 5), (6, 6), (5, 6)], direction=D, food=1), S([(15, 15), (14, 15)])])
    assert of_kind(game.advance_to(0), "SnakeDied") == [SnakeDied(snake_id=0)]


def test_moving_into_the_cell_another_tail_leaves_is_safe() -> None:
    # Snake 1 runs up and its tail leaves (5, 5) as snake 0's head arrives.
    game = board([S([(4, 5), (3, 5)]), S([(5, 3), (5, 4), (5, 5)]), S([(15, 15), (14, 15)])])
    events = game.advance_to(0)
    assert of_kind(events, "SnakeDied") == []


def test_a_dead_snake_stays_on_the_board_but_is_no_obstacle() -> None:
    dead = S([(6, 4), (6, 5), (6, 6)], direction=U, alive=False)
    game = board([S([(5, 5), (4, 5)]), dead, S([(15, 15), (14, 15)])])
    events = game.advance_to(1)
    assert of_kind(events, "SnakeDied") == []
    assert cells_of(game, 0)[0] == (7, 5)
    assert cells_of(game, 1) == [(6, 4), (6, 5), (6, 6)]


# --- turns --------------------------------------------------------------------------


def test_a_turn_is_applied_at_its_tick_and_emits_snake_turned() -> None:
    game = board([S([(5, 5), (4, 5)]), S([(5, 15), (4, 15)])])
    turn(game, 101, U, tick=2)
    first = game.advance_to(1)
    assert of_kind(first, "SnakeTurned") == []
    second = game.advance_to(2)
    assert of_kind(second, "SnakeTurned") == [SnakeTurned(snake_id=0, direction=U)]
    assert second[kinds(second).index("SnakeTurned")].user_id is None  # as the original server
    assert cells_of(game, 0)[0] == (7, 4)


def test_a_turn_to_the_current_direction_is_ignored() -> None:
    game = board([S([(5, 5), (4, 5)]), S([(5, 15), (4, 15)])])
    turn(game, 101, R)
    assert of_kind(game.advance_to(0), "SnakeTurned") == []


def test_a_direct_reversal_is_ignored() -> None:
    game = board([S([(5, 5), (4, 5)]), S([(5, 15), (4, 15)])])
    turn(game, 101, L)
    assert of_kind(game.advance_to(0), "SnakeTurned") == []
    assert cells_of(game, 0)[0] == (6, 5)


def test_chained_turns_cannot_reverse_a_snake_within_one_tick() -> None:
    # Moving Right: Up is applied, then Left would reverse the last step: ignored.
    game = board([S([(5, 5), (4, 5)]), S([(5, 15), (4, 15)])])
    turn(game, 101, U)
    turn(game, 101, L)
    events = game.advance_to(0)
    assert of_kind(events, "SnakeTurned") == [SnakeTurned(snake_id=0, direction=U)]
    assert cells_of(game, 0)[0] == (5, 4)
    assert game.state.arena.snakes[0].is_alive


def test_the_reversal_rule_uses_the_last_step_not_the_last_turn() -> None:
    # Up then Down in one tick: Down is not opposite to the last step (Right).
    game = board([S([(5, 5), (4, 5)]), S([(5, 15), (4, 15)])])
    turn(game, 101, U)
    turn(game, 101, D)
    events = game.advance_to(0)
    assert of_kind(events, "SnakeTurned") == [SnakeTurned(0, U), SnakeTurned(0, D)]
    assert cells_of(game, 0)[0] == (5, 6)


def test_commands_apply_in_tick_then_user_then_sequence_order() -> None:
    game = board([S([(5, 5), (4, 5)]), S([(5, 15), (4, 15)])])
    turn(game, 102, D, tick=0)  # user 102, received first
    turn(game, 101, U, tick=1)  # later tick
    turn(game, 101, D, tick=0)  # user 101, same tick as 102's: runs first
    events = game.advance_to(1)
    turned = [(e.tick, e.event.value.snake_id, e.event.value.direction) for e in events if e.event.tag == "SnakeTurned"]
    assert turned == [(0, 0, D), (0, 1, D)]  # tick 1's Up would reverse the last step Down
    assert game.state.arena.snakes[0].direction is D


def test_a_dead_snake_ignores_turns() -> None:
    game = board([S([(19, 5), (18, 5)]), S([(5, 15), (4, 15)]), S([(5, 10), (4, 10)])])
    game.advance_to(0)
    turn(game, 101, U)
    assert of_kind(game.advance_to(1), "SnakeTurned") == []


# --- food spawning ----------------------------------------------------------------------


def test_one_spawn_attempt_per_tick_draws_x_then_y_from_the_rng() -> None:
    seed = 0x0123_4567_89AB_CDEF
    game = board([S([(5, 5), (4, 5)]), S([(5, 15), (4, 15)])], rng=seed)
    rng = Xorshift64(seed)
    expected = (rng.next_u16() % 20, rng.next_u16() % 20)
    events = game.advance_to(0)
    assert of_kind(events, "FoodSpawned")[0].position == Position(*expected)
    assert game.state.rng.state == rng.state


def test_no_spawn_attempt_when_the_food_target_is_met() -> None:
    food = [(x, 0) for x in range(10)]
    game = board([S([(5, 5), (4, 5)]), S([(5, 15), (4, 15)])], food=food, rng=99)
    events = game.advance_to(0)
    assert of_kind(events, "FoodSpawned") == []
    assert game.state.rng.state == 99


def test_a_spawn_attempt_on_a_live_snake_places_nothing() -> None:
    # Snake 0 covers (0..18, 5) after its move; find an rng state that draws one of them.
    covered = {(x, 5) for x in range(19)}
    seed = 1
    while True:
        rng = Xorshift64(seed)
        if (rng.next_u16() % 20, rng.next_u16() % 20) in covered:
            break
        seed += 1
    game = board([S([(x, 5) for x in range(1, 20)]), S([(5, 15), (4, 15)])], rng=seed)
    assert of_kind(game.advance_to(0), "FoodSpawned") == []


def test_team_games_spawn_food_only_in_the_main_field() -> None:
    game = board(
        [S([(20, 5), (19, 5)], team=0), S([(40, 30), (41, 30)], team=1)],
        width=60,
        height=40,
        game_type=type_team_match(1),
        rng=5,
    )
    spawned = of_kind(game.advance_to(300), "FoodSpawned")
    assert spawned
    assert all(10 <= food.position.x < 50 for food in spawned)


# --- team zones ---------------------------------------------------------------------


def _duel(team0: S, team1: S):
    return board([team0, team1], width=60, height=40, game_type=type_team_match(1))


def test_team_walls_kill_outside_the_goal_opening() -> None:
    # Wall column x=50 (width - depth) is open only for y in 16..24.
    game = _duel(S([(49, 5), (48, 5)], team=0), S([(30, 30), (31, 30)], team=1))
    assert of_kind(game.advance_to(0), "SnakeDied") == [SnakeDied(snake_id=0)]
    game = _duel(S([(30, 30), (29, 30)], team=0), S([(10, 10), (11, 10)], team=1))
    assert of_kind(game.advance_to(0), "SnakeDied") == [SnakeDied(snake_id=1)]


def test_a_team_0_head_through_the_right_goal_scores_and_ends_the_game() -> None:
    game = _duel(S([(49, 20), (48, 20)], team=0), S([(30, 30), (31, 30)], team=1))
    events = game.advance_to(5)
    assert of_kind(events, "SnakeDied") == []
    assert game.is_complete and game.winning_snake_id == 0
    assert game.tick == 1  # the game ends at once
    assert kinds(events)[-1] == "StatusUpdated"


def test_a_goal_in_a_tick_where_nobody_died_ends_the_game() -> None:
    # The end condition is judged again only after a death, but a goal is looked for in
    # every tick: here the head crosses the wall column (x=50) at tick 3.
    game = _duel(S([(46, 20), (45, 20)], team=0), S([(30, 30), (31, 30)], team=1))
    game.advance_to(2)
    assert not game.is_complete
    events = game.advance_to(10)
    assert game.is_complete and game.winning_snake_id == 0 and game.tick == 4
    assert of_kind(events, "SnakeDied") == [] and kinds(events)[-1] == "StatusUpdated"


def test_a_team_1_head_reaching_x_below_depth_scores() -> None:
    game = _duel(S([(30, 30), (29, 30)], team=0), S([(10, 24), (11, 24)], team=1))
    game.advance_to(0)
    assert game.is_complete and game.winning_snake_id == 1


def test_entering_its_own_end_zone_does_not_score() -> None:
    game = _duel(S([(10, 20), (11, 20)], team=0), S([(30, 30), (31, 30)], team=1))
    game.advance_to(0)
    assert not game.is_complete


def test_a_wiped_out_team_loses_to_the_first_alive_snake_of_the_other() -> None:
    snakes = [
        S([(20, 0), (20, 1)], team=0),  # leaves the board upward
        S([(30, 10), (31, 10)], team=1),
        S([(25, 39), (25, 38)], team=0),  # leaves the board downward
        S([(30, 20), (31, 20)], team=1),
    ]
    game = board(snakes, width=60, height=40, game_type=type_team_match(2))
    game.advance_to(0)
    assert game.is_complete and game.winning_snake_id == 1


# --- end conditions -------------------------------------------------------------------


def test_solo_ends_when_the_snake_dies_without_a_winner() -> None:
    game = board([S([(19, 5), (18, 5)])], game_type=custom_type(20, 20, "solo"))
    events = game.advance_to(10)
    assert game.is_complete and game.winning_snake_id is None
    assert of_kind(events, "StatusUpdated")[-1].status.Complete.winning_snake_id is None


def test_free_for_all_ends_with_the_last_snake_alive_as_winner() -> None:
    game = board([S([(19, 5), (18, 5)]), S([(5, 15), (4, 15)]), S([(19, 10), (18, 10)])])
    game.advance_to(10)
    assert game.is_complete and game.winning_snake_id == 1
    assert game.tick == 1


def test_free_for_all_where_everyone_dies_at_once_has_no_winner() -> None:
    game = board([S([(4, 5), (3, 5)]), S([(6, 5), (7, 5)])])
    game.advance_to(0)
    assert game.is_complete and game.winning_snake_id is None


def test_a_custom_duel_ends_like_a_last_alive_game() -> None:
    game = board([S([(19, 5), (18, 5)]), S([(5, 15), (4, 15)])], game_type=custom_type(20, 20, "duel"))
    game.advance_to(0)
    assert game.is_complete and game.winning_snake_id == 1


def test_nothing_is_computed_after_the_end() -> None:
    game = board([S([(19, 5), (18, 5)]), S([(5, 15), (4, 15)])])
    game.advance_to(0)
    assert game.advance_to(50) == []
    assert game.tick == 1


@pytest.mark.parametrize("tick", [0, 3])
def test_advance_to_computes_up_to_and_including_the_target(tick: int) -> None:
    game = board([S([(5, 5), (4, 5)]), S([(5, 15), (4, 15)])])
    game.advance_to(tick)
    assert game.tick == tick + 1
