"""The mirror computes a game along from what a member receives, and ends up with the
server's board: turns queued as their CommandScheduled arrives, and a command for a
tick it already computed (a late server) handled by resuming from the last Snapshot."""

from __future__ import annotations

from snaketron.engine import (
    DUEL,
    CommandId,
    CustomGameSettings,
    Direction,
    Game,
    GameCommand,
    GameCommandMessage,
    GameEventMessage,
    Turn,
    type_custom,
)
from snaketron.loadtest.mirror import GameMirror


def duel() -> Game:
    game = Game(7, type_custom(CustomGameSettings(game_mode=DUEL, max_players=2, is_private=False)), seed=99)
    game.add_player(1, "a")
    game.add_player(2, "b")
    return game


def turn(game: Game, user_id: int, direction: Direction) -> GameEventMessage:
    message = GameCommandMessage(
        command_id_client=CommandId(tick=game.tick, user_id=user_id, sequence_number=1),
        command_id_server=None,
        command=GameCommand(Turn=Turn(direction=direction)),
    )
    return game.schedule_command(user_id, message)


def feed(mirror: GameMirror, events: list[GameEventMessage]) -> None:
    """What a bot does with the events it receives."""
    for message in events:
        if message.event.Snapshot is not None:
            mirror.accept_snapshot(message.sequence, message.event.Snapshot.game_state)
        elif message.event.CommandScheduled is not None:
            mirror.accept_command(message.sequence, message.event.CommandScheduled.command_message)


# Turns that keep both snakes of seed 99 alive for a while: (tick, user, direction).
TURNS = [(3, 1, Direction.UP), (3, 2, Direction.DOWN), (9, 1, Direction.LEFT), (14, 2, Direction.RIGHT)]


def test_the_mirror_follows_the_server_tick_by_tick():
    server = duel()
    server.start(0)
    mirror = GameMirror(7)
    feed(mirror, [server.snapshot_event()])
    for tick in range(1, 25):
        for at, user_id, direction in TURNS:
            if at == tick:
                feed(mirror, [turn(server, user_id, direction)])
        feed(mirror, server.advance_to(tick - 1))
        mirrored = mirror.game_before(tick)
        assert mirrored is not None and mirrored.tick == server.tick == tick
        assert mirrored.state.arena == server.state.arena, tick
    # One resume from the first Snapshot; from then on only ticks and queued commands
    # (the Snapshots of ticks 10 and 20 are kept as the base, the game is not rebuilt).
    assert mirror.resumes == 1
    assert mirror.base is not None and mirror.base.tick == 20


def test_a_command_for_a_tick_already_computed_resumes_from_the_snapshot():
    server = duel()
    server.start(0)
    mirror = GameMirror(7)
    feed(mirror, [server.snapshot_event()])
    feed(mirror, server.advance_to(1))
    # The mirror runs ahead of the server (the server's timer is late).
    assert mirror.game_before(5).tick == 5
    late = turn(server, 1, Direction.UP)  # stamped for tick 2
    feed(mirror, [late])
    feed(mirror, server.advance_to(4))
    mirrored = mirror.game_before(5)
    assert mirror.resumes == 2
    assert mirrored.state.arena == server.state.arena
    assert mirrored.state.arena.snakes[0].direction is Direction.UP


def test_road_ahead_counts_free_cells_to_the_first_obstacle():
    game = duel()
    game.start(0)
    state = game.state
    for snake_id, snake in enumerate(state.arena.snakes):
        head = snake.body[0]
        dx = snake.direction.delta[0]  # both start heading along x
        to_edge = next(step for step in range(100) if not (0 <= head.x + (step + 1) * dx < state.arena.width))
        assert game.road_ahead(snake_id, 100) == min(to_edge, _to_other_snake(state, snake_id))
        assert game.road_ahead(snake_id, 2) == 2
    game.advance_to(200)  # nobody steers: both crash
    assert game.is_complete
    dead = [i for i, snake in enumerate(game.state.arena.snakes) if not snake.is_alive]
    assert dead and all(game.road_ahead(i, 8) is None for i in dead)


def _to_other_snake(state, snake_id: int) -> int:
    from snaketron.engine.body import expand

    me = state.arena.snakes[snake_id]
    cells = {cell for i, s in enumerate(state.arena.snakes) for cell in expand(s.body)}
    head = me.body[0]
    dx, dy = me.direction.delta
    for step in range(100):
        if (head.x + (step + 1) * dx, head.y + (step + 1) * dy) in cells:
            return step
    return 100
