"""The bot brain steers toward food and away from walls and bodies."""

from __future__ import annotations

from engine_boards import S, board, custom_type, turn

from snaketron.engine import Direction, Game, type_free_for_all, type_team_match
from snaketron.engine.bot import choose_direction

R, L, U, D = Direction.RIGHT, Direction.LEFT, Direction.UP, Direction.DOWN


def test_it_turns_before_the_edge_of_the_board() -> None:
    game = board([S([(19, 10), (18, 10), (17, 10)]), S([(5, 15), (4, 15)])])
    assert choose_direction(game.state, 0) in (U, D)


def test_it_steers_toward_food() -> None:
    game = board([S([(10, 10), (9, 10)]), S([(2, 18), (1, 18)])], food=[(10, 3)])
    assert choose_direction(game.state, 0) is U


def test_it_keeps_going_when_straight_ahead_is_best() -> None:
    game = board([S([(10, 10), (9, 10)]), S([(2, 18), (1, 18)])], food=[(15, 10)])
    assert choose_direction(game.state, 0) is None


def test_it_avoids_another_snakes_body() -> None:
    wall_of_snake = S([(11, y) for y in range(2, 19)])
    game = board([S([(10, 10), (9, 10)]), wall_of_snake], food=[(15, 10)])
    assert choose_direction(game.state, 0) in (U, D)


def test_it_never_reverses() -> None:
    game = board([S([(10, 10), (9, 10)]), S([(2, 18), (1, 18)])], food=[(3, 10)])
    assert choose_direction(game.state, 0) is not L


def test_it_does_not_take_food_inside_a_dead_end() -> None:
    # The food at (10, 9) sits in a one-cell pocket walled by a growing snake.
    pocket = S([(11, 9), (11, 8), (10, 8), (9, 8), (9, 9)], food=1)
    game = board([S([(10, 10), (9, 10)]), pocket], food=[(10, 9)])
    assert choose_direction(game.state, 0) is not U
    open_pocket = S([(11, 9), (11, 8), (10, 8), (9, 8), (9, 9)], food=0)  # its tail moves away: a way out
    game = board([S([(10, 10), (9, 10)]), open_pocket], food=[(10, 9)])
    assert choose_direction(game.state, 0) is U


def test_a_dead_or_unknown_snake_gets_no_direction() -> None:
    game = board([S([(10, 10), (9, 10)], alive=False), S([(2, 18), (1, 18)])])
    assert choose_direction(game.state, 0) is None
    assert choose_direction(game.state, 7) is None


def _bot_game(game: Game, ticks: int) -> Game:
    game.start(0)
    while not game.is_complete and game.tick < ticks:
        state = game.state
        for user, snake_id in game.players.items():
            direction = choose_direction(state, snake_id)
            if direction is not None and state.arena.snakes[snake_id].is_alive:
                turn(game, user, direction)
        game.advance_to(game.tick)
    return game


def test_a_bot_survives_a_long_solo_game_and_grows() -> None:
    game = Game(1, custom_type(40, 40, "solo"), seed=3)
    game.add_player(1, "bot")
    _bot_game(game, 400)
    assert game.tick == 400 and not game.is_complete
    assert game.snake_lengths()[1] > 20


def test_bots_finish_free_for_all_and_team_games() -> None:
    for game_type, players in ((type_free_for_all(6), 6), (type_team_match(2), 4)):
        game = Game(1, game_type, seed=8)
        for user in range(players):
            game.add_player(user, f"bot{user}")
        _bot_game(game, 3000)
        assert game.is_complete
