"""The Game API around the tick: seats, start, command stamping and ownership, snapshots, sequences."""

from __future__ import annotations

import pytest
from engine_boards import S, board, custom_type, kinds, of_kind, turn

from snaketron.engine import (
    SOLO,
    STOPPED,
    AlreadyStarted,
    CommandId,
    CommandRejected,
    Direction,
    Game,
    GameCommand,
    GameCommandMessage,
    GameFull,
    NotEnoughPlayers,
    Position,
    Turn,
    UpdateStatus,
    status_complete,
    status_started,
    type_free_for_all,
    type_team_match,
)
from snaketron.engine.body import expand
from snaketron.engine.game import MAX_COMMAND_LEAD_MS, SNAPSHOT_EVERY_TICKS
from snaketron.engine.timing import COMMIT_DELAY_TICKS

R, L, U, D = Direction.RIGHT, Direction.LEFT, Direction.UP, Direction.DOWN


def _ffa(players: int, max_players: int = 4, seed: int = 3) -> Game:
    game = Game(9, type_free_for_all(max_players), seed=seed, server_id=77)
    for i in range(players):
        game.add_player(101 + i, f"player{i}")
    return game


# --- seats and start ----------------------------------------------------------------


def test_a_new_game_is_stopped_with_its_initial_food() -> None:
    game = _ffa(0)
    state = game.state
    assert state.status == STOPPED
    assert len(state.arena.food) == 10
    assert game.tick == 0 and game.tick_ms == 100


def test_players_get_snake_ids_in_join_order_and_rejoining_keeps_the_seat() -> None:
    game = _ffa(0)
    assert [game.add_player(u, f"u{u}") for u in (5, 6, 7)] == [0, 1, 2]
    assert game.add_player(6, "u6") == 1
    assert game.players == {5: 0, 6: 1, 7: 2}
    assert game.usernames == {5: "u5", 6: "u6", 7: "u7"}
    assert game.player_count == 3


def test_a_full_game_refuses_another_player() -> None:
    game = _ffa(4)
    with pytest.raises(GameFull):
        game.add_player(999, "late")


def test_leaving_before_the_start_frees_the_seat_and_lays_out_again() -> None:
    game = _ffa(3)
    before = game.state
    game.remove_player(101)
    assert game.players == {102: 0, 103: 1}
    after = game.state
    assert len(after.arena.snakes) == 2
    # Two players stand like a pair, not like the first two of a three-player layout.
    assert after.arena.snakes[0].body[0] == Position(35, 20)
    assert after.arena.snakes != before.arena.snakes[:2]


def test_the_initial_food_depends_on_the_seed_and_seats_only() -> None:
    a = _ffa(3, seed=11)
    b = _ffa(4, seed=11)
    b.remove_player(104)
    assert a.state.arena.food == b.state.arena.food
    assert _ffa(3, seed=12).state.arena.food != a.state.arena.food


def test_initial_food_never_lies_on_a_snake() -> None:
    for seed in range(30):
        game = _ffa(4, seed=seed)
        state = game.state
        cells = {c for snake in state.arena.snakes for c in expand(snake.body)}
        assert not cells & {(p.x, p.y) for p in state.arena.food}


def test_start_emits_started_with_the_server_id_and_fixes_the_start_time() -> None:
    game = _ffa(2)
    events = game.start(123_456)
    assert kinds(events) == ["StatusUpdated"]
    assert events[0].event.value.status == status_started(77)
    assert game.status == status_started(77) and game.start_ms == 123_456
    with pytest.raises(AlreadyStarted):
        game.add_player(555, "late")
    with pytest.raises(AlreadyStarted):
        game.remove_player(101)
    with pytest.raises(AlreadyStarted):
        game.start(0)


def test_a_free_for_all_with_one_player_does_not_start() -> None:
    game = _ffa(1)
    with pytest.raises(NotEnoughPlayers):
        game.start(0)
    duel = Game(1, custom_type(40, 40, "duel"), seed=1)
    duel.add_player(1, "a")
    with pytest.raises(NotEnoughPlayers):
        duel.start(0)


def test_solo_starts_with_one_player() -> None:
    game = Game(1, SOLO, seed=1)
    game.add_player(1, "a")
    game.start(0)
    assert not game.is_complete
    assert game.advance_to(0)[0].event.tag == "Snapshot"


def test_nothing_is_computed_before_the_start() -> None:
    game = _ffa(2)
    assert game.advance_to(10) == []
    assert game.tick == 0


def test_custom_tick_length_comes_from_the_settings() -> None:
    game = Game(1, custom_type(30, 30), seed=1)
    assert game.tick_ms == 100
    from snaketron.engine import CustomGameSettings, type_custom

    assert Game(1, type_custom(CustomGameSettings(tick_duration_ms=250)), seed=1).tick_ms == 250


# --- commands ----------------------------------------------------------------------


def _cmd(direction: Direction, client_tick: int, snake_id: int | None = None) -> GameCommandMessage:
    return GameCommandMessage(
        command_id_client=CommandId(tick=client_tick, user_id=1, sequence_number=4),
        command=GameCommand(Turn=Turn(snake_id=snake_id, direction=direction)),
    )


def test_the_server_stamps_tick_user_and_a_per_game_receive_counter() -> None:
    game = board([S([(5, 5), (4, 5)]), S([(5, 15), (4, 15)])], tick=20)
    first = game.schedule_command(101, _cmd(U, 25))
    second = game.schedule_command(102, _cmd(D, 3))
    a = first.event.value.command_message
    b = second.event.value.command_message
    assert a.command_id_server == CommandId(tick=25, user_id=101, sequence_number=a.command_id_server.sequence_number)
    # A command for a tick already computed runs at the next computed tick.
    assert b.command_id_server.tick == 20 and b.command_id_server.user_id == 102
    assert b.command_id_server.sequence_number == a.command_id_server.sequence_number + 1
    # The client's own id is echoed with its tick and sequence, under the sender's user id
    # (the client wrote user 1: another player's id is never echoed to anyone).
    assert a.command_id_client == CommandId(tick=25, user_id=101, sequence_number=4)
    assert b.command_id_client == CommandId(tick=3, user_id=102, sequence_number=4)
    # Events name no user (as the original server's): the stamp names the sender.
    assert (first.user_id, second.user_id) == (None, None)


def test_an_omitted_snake_id_is_filled_with_the_senders_snake() -> None:
    game = board([S([(5, 5), (4, 5)]), S([(5, 15), (4, 15)])])
    event = game.schedule_command(102, _cmd(U, 0))
    assert event.event.value.command_message.command.Turn == Turn(snake_id=1, direction=U)
    assert game.schedule_command(102, _cmd(U, 0, snake_id=1)).event.tag == "CommandScheduled"


def test_a_command_for_another_players_snake_is_rejected() -> None:
    game = board([S([(5, 5), (4, 5)]), S([(5, 15), (4, 15)])])
    with pytest.raises(CommandRejected):
        game.schedule_command(102, _cmd(U, 0, snake_id=0))
    assert of_kind(game.advance_to(0), "SnakeTurned") == []


def test_spectators_and_strangers_send_no_commands() -> None:
    game = board([S([(5, 5), (4, 5)]), S([(5, 15), (4, 15)])])
    with pytest.raises(CommandRejected):
        game.schedule_command(4242, _cmd(U, 0))


def test_clients_cannot_change_the_status() -> None:
    game = board([S([(5, 5), (4, 5)]), S([(5, 15), (4, 15)])])
    message = GameCommandMessage(
        command_id_client=CommandId(0, 101, 0),
        command=GameCommand(UpdateStatus=UpdateStatus(status=status_complete(0))),
    )
    with pytest.raises(CommandRejected):
        game.schedule_command(101, message)
    assert not game.is_complete


def test_commands_before_the_start_or_after_the_end_are_rejected() -> None:
    game = _ffa(2)
    with pytest.raises(CommandRejected):
        game.schedule_command(101, _cmd(U, 0))
    ended = board([S([(19, 5), (18, 5)]), S([(5, 15), (4, 15)])])
    ended.advance_to(0)
    with pytest.raises(CommandRejected):
        ended.schedule_command(102, _cmd(U, 1))


def test_a_command_stamped_far_ahead_is_clamped_to_about_a_second() -> None:
    game = board([S([(5, 5), (4, 5)]), S([(5, 15), (4, 15)])], tick=50)
    event = game.schedule_command(101, _cmd(U, 10_000))
    lead = event.event.value.command_message.command_id_server.tick - 50
    assert lead == COMMIT_DELAY_TICKS + 1 + MAX_COMMAND_LEAD_MS // 100
    assert game.schedule_command(101, _cmd(U, 60)).event.value.command_message.command_id_server.tick == 60


def test_queued_commands_show_in_the_snapshot_in_their_order() -> None:
    game = board([S([(5, 5), (4, 5)]), S([(5, 15), (4, 15)])])
    turn(game, 102, U, tick=4)
    turn(game, 101, D, tick=4)
    turn(game, 101, U, tick=2)
    queue = game.state.command_queue.queue
    assert [(m.command_id_server.tick, m.command_id_server.user_id) for m in queue] == [(2, 101), (4, 101), (4, 102)]


# --- snapshots and sequences --------------------------------------------------------------


def test_tick_0_begins_with_a_snapshot_of_the_state_before_it() -> None:
    game = _ffa(2)
    game.start(0)
    before = game.state
    events = game.advance_to(0)
    assert events[0].event.tag == "Snapshot" and events[0].tick == 0
    snapshot = events[0].event.value.game_state
    assert snapshot.arena.snakes == before.arena.snakes
    assert snapshot.event_sequence == events[0].sequence


def test_a_snapshot_goes_out_every_10_ticks() -> None:
    game = board([S([(1, y), (0, y)]) for y in (2, 6)], width=200, height=10, game_type=custom_type(200, 10))
    events = game.advance_to(35)
    snapshot_ticks = [e.tick for e in events if e.event.tag == "Snapshot"]
    assert snapshot_ticks == list(range(0, 36, SNAPSHOT_EVERY_TICKS))
    assert all(e.event.value.game_state.tick == e.tick for e in events if e.event.tag == "Snapshot")


def test_a_snapshot_for_a_joiner_carries_the_last_sequence_and_takes_none() -> None:
    # As the original server: the Snapshot's sequence is the state's event_sequence, so
    # the members already in the game see no gap.
    game = board([S([(5, 5), (4, 5)]), S([(5, 15), (4, 15)])])
    events = game.advance_to(3)
    joiner = game.snapshot_event()
    assert joiner.sequence == events[-1].sequence == joiner.event.value.game_state.event_sequence
    assert joiner.tick == 4 and joiner.event.value.game_state.tick == 4
    assert game.advance_to(4)[0].sequence == events[-1].sequence + 1


def test_a_snapshot_is_a_copy_that_later_ticks_do_not_change() -> None:
    game = board([S([(5, 5), (4, 5)]), S([(5, 15), (4, 15)])])
    snapshot = game.snapshot_event().event.value.game_state
    heads = [snake.body[0] for snake in snapshot.arena.snakes]
    game.advance_to(5)
    assert [snake.body[0] for snake in snapshot.arena.snakes] == heads


def test_every_event_but_a_snapshot_has_the_next_sequence() -> None:
    game = _ffa(4)
    events = list(game.start(0))
    for tick in range(60):
        for user in (101, 102):
            events.append(turn(game, user, (U, L, D, R)[(tick + user) % 4]))
        events += game.advance_to(tick)
        if game.is_complete:
            break
    events.append(game.snapshot_event())
    last = 0
    for event in events:
        expected = last if event.event.tag == "Snapshot" else last + 1
        assert event.sequence == expected, event.event.tag
        last = event.sequence
    assert sum(1 for e in events if e.event.tag != "Snapshot") > 20


def test_from_state_resumes_exactly() -> None:
    game = _ffa(4, seed=5)
    game.start(0)
    turn(game, 102, U, tick=3)
    game.advance_to(2)
    resumed = Game.from_state(9, game.state, server_id=77)
    assert resumed.state == game.state
    assert resumed.advance_to(40) == game.advance_to(40)


# --- placements -----------------------------------------------------------------------------


def test_a_game_computed_along_without_snapshots_keeps_the_servers_state_and_numbers() -> None:
    server = _ffa(4, seed=5)
    server.start(0)
    turn(server, 102, U, tick=3)
    follower = Game.from_state(9, server.state, server_id=77)
    follower.emits_snapshots = False
    server_events = server.advance_to(25)
    follower_events = follower.advance_to(25)
    assert any(e.event.tag == "Snapshot" for e in server_events)
    assert follower_events == [e for e in server_events if e.event.tag != "Snapshot"]
    assert follower.state == server.state


def test_placements_rank_the_winner_first_then_later_deaths_higher() -> None:
    game = board(
        [
            S([(19, 5), (18, 5)]),  # dies at tick 0
            S([(5, 15), (4, 15)]),  # survives
            S([(15, 10), (14, 10)]),  # dies at tick 4
        ]
    )
    game.advance_to(10)
    assert game.winning_snake_id == 1
    assert game.placements() == [102, 103, 101]


def test_team_games_use_team_zones_and_alternate_teams() -> None:
    game = Game(1, type_team_match(2), seed=1)
    for user in range(4):
        game.add_player(user, f"u{user}")
    state = game.state
    assert [s.team_id for s in state.arena.snakes] == [0, 1, 0, 1]
    assert (state.arena.width, state.arena.height) == (60, 40)
    zone = state.arena.team_zone_config
    assert (zone.end_zone_depth, zone.goal_width) == (10, 9)
    assert all(10 <= p.x < 50 for p in state.arena.food)


def test_abandon_ends_the_game_with_no_winner_and_one_event():
    from snaketron.engine import SOLO, Game

    game = Game(7, SOLO, seed=3)
    game.add_player(1, "one")
    game.start(1_000)
    game.advance_to(4)
    events = game.abandon()
    assert [e.event.tag for e in events] == ["StatusUpdated"]
    assert events[0].event.StatusUpdated.status.Complete.winning_snake_id is None
    assert game.is_complete and game.winning_snake_id is None
    assert events[0].sequence == game.state.event_sequence
    assert game.abandon() == []  # once only
    assert game.advance_to(50) == []  # nothing runs after it
