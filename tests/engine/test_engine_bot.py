"""The bot brain steers toward food and away from walls and bodies."""

from __future__ import annotations

import random

from engine_boards import S, board, custom_type, turn

from snaketron.engine import (
    CustomGameSettings,
    Direction,
    Game,
    GameType,
    type_custom,
    type_free_for_all,
    type_team_match,
)
from snaketron.engine.bot import ROOM_TO_LOOK_AT, choose_direction, choose_direction_on_board

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


# --- the board brain decides as the wire brain -------------------------------------------


def _assert_same_decisions(game: Game) -> int:
    """Both brains agree for every snake (dead ones and an unknown id too); returns how many were compared."""
    state = game.state
    snake_ids = range(len(state.arena.snakes) + 1)
    for snake_id in snake_ids:
        on_board = choose_direction_on_board(game, snake_id)
        on_wire = choose_direction(state, snake_id)
        assert on_board is on_wire, (game.game_type, game.seed, game.tick, snake_id)
    return len(snake_ids)


def _random_game_type(rng: random.Random) -> tuple[GameType, int]:
    """A game type and how many players to seat: solo, duel, team matches, free-for-alls of many sizes."""
    kind = rng.choice(["solo", "duel", "team", "ffa", "custom"])
    if kind == "solo":
        width, height = rng.randint(6, 40), rng.randint(6, 40)
        return custom_type(width, height, "solo"), 1
    if kind == "duel":
        return type_team_match(1), 2
    if kind == "team":
        per_team = rng.randint(2, 3)
        return type_team_match(per_team), rng.randint(2, 2 * per_team)
    if kind == "ffa":
        players = rng.randint(2, 8)
        return type_free_for_all(players), players
    players = rng.randint(2, 6)
    settings = CustomGameSettings(
        arena_width=rng.randint(12, 30),
        arena_height=rng.randint(12, 30),
        max_players=players,
        game_mode=custom_type(8, 8, "ffa", players).Custom.settings.game_mode,
        snake_start_length=rng.randint(1, 8),
    )
    return type_custom(settings), players


def test_the_board_brain_decides_as_the_wire_brain_in_bot_games() -> None:
    """Bots (with a random turn now and then, so they also end up behind tails and
    in corners) play seeded random games; at every tick both brains must agree."""
    rng = random.Random(20261127)
    compared = 0
    for seed in range(40):
        game_type, players = _random_game_type(rng)
        game = Game(1, game_type, seed=seed)
        for user in range(players):
            game.add_player(user, f"bot{user}")
        game.start(0)
        while not game.is_complete and game.tick < 250:
            compared += _assert_same_decisions(game)
            for user, snake_id in game.players.items():
                direction = choose_direction_on_board(game, snake_id)
                if rng.random() < 0.1:
                    direction = rng.choice(list(Direction))
                if direction is not None and game.road_ahead(snake_id, 1) is not None:
                    turn(game, user, direction)
            game.advance_to(game.tick)
    assert compared > 10_000


def _walk(rng: random.Random, width: int, height: int, length: int) -> list[tuple[int, int]]:
    """A body of up to `length` cells that does not cross itself, head first."""
    cells = [(rng.randrange(width), rng.randrange(height))]
    while len(cells) < length:
        x, y = cells[-1]
        steps = [(x + dx, y + dy) for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1))]
        steps = [(sx, sy) for sx, sy in steps if 0 <= sx < width and 0 <= sy < height and (sx, sy) not in cells]
        if not steps:
            break
        cells.append(rng.choice(steps))
    return cells


def _behind_tail(rng: random.Random, tail: tuple[int, int], width: int, height: int, team_match: bool) -> S:
    """A 3-cell snake whose head is next to `tail`, facing it (or the way it came)."""
    dx, dy = rng.choice([(1, 0), (-1, 0), (0, 1), (0, -1)])
    cells = [(tail[0] + i * dx, tail[1] + i * dy) for i in range(1, 4)]
    cells = [(min(max(x, 0), width - 1), min(max(y, 0), height - 1)) for x, y in cells]
    if len(set(cells)) < 3:
        cells = cells[:1]  # squeezed against the edge: a one-cell snake there
    return S(cells, direction=rng.choice(list(Direction)), food=rng.choice([0, 1]), team=1 if team_match else None)


def _coil(rng: random.Random, width: int, height: int, team_match: bool) -> S:
    """A snake around a 2-row ring, its head next to its own tail."""
    size = rng.randint(2, max(2, width - 2))
    x, y = rng.randrange(width - size + 1), rng.randrange(height - 1)
    cells = [(x + i, y) for i in range(size)] + [(x + i, y + 1) for i in reversed(range(size))]
    return S(cells, food=rng.choice([0, 0, 2]), team=0 if team_match else None)


def test_the_board_brain_decides_as_the_wire_brain_in_crowded_positions() -> None:
    """Random boards packed with snakes that may overlap one another (a tail can share its
    cell with another body), long ones whose room counts beyond ROOM_TO_LOOK_AT, growing
    and dead ones, facings other than the last step, and team zones with their walls."""
    rng = random.Random(7)
    for _ in range(600):
        team_match = rng.random() < 0.3
        width, height = (60, 40) if team_match else (rng.randint(4, 24), rng.randint(4, 24))
        snakes = []
        for index in range(rng.randint(1, 8)):
            length = rng.choice([1, 2, 3, 5, 12, ROOM_TO_LOOK_AT - 3, ROOM_TO_LOOK_AT + 4])
            cells = _walk(rng, width, height, length)
            snakes.append(
                S(
                    cells,
                    direction=rng.choice(list(Direction)) if len(cells) == 1 or rng.random() < 0.2 else None,
                    alive=rng.random() < 0.85,
                    food=rng.choice([0, 0, 1, 3]),
                    team=index % 2 if team_match else None,
                )
            )
        # A head right behind another snake's tail, and one right behind its own (a coil).
        snakes.append(_behind_tail(rng, snakes[0].cells[-1], width, height, team_match))
        snakes.append(_coil(rng, width, height, team_match))
        food = [(rng.randrange(width), rng.randrange(height)) for _ in range(rng.randint(0, 6))]
        game_type = type_team_match(len(snakes)) if team_match else custom_type(width, height)
        game = board(snakes, width=width, height=height, food=list(dict.fromkeys(food)), game_type=game_type)
        _assert_same_decisions(game)
