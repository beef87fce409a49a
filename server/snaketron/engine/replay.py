"""Compute a recorded game again: the events a spectator of it received.

`replay_events(recording)` rebuilds the game from its constructor arguments and
feeds it the recorded inputs, each at the tick the live game was at when it took
it, so every event comes out with the tick and sequence number it had live. The
stream begins with a Snapshot of the board as laid out just before the start
(like every snapshot, it carries the last sequence number used), then every event
from the start on, ending with the final StatusUpdated.

The final state's digest must match the recorded one; otherwise `ReplayMismatch`:
a replay that would show something other than what was played is refused.
"""

from __future__ import annotations

from collections.abc import Callable

from snaketron.engine.errors import EngineError
from snaketron.engine.game import Game
from snaketron.engine.recording import (
    RULES_VERSION,
    Abandoned,
    Began,
    Commanded,
    Joined,
    Left,
    Recording,
    ReplayMismatch,
    state_digest,
)
from snaketron.engine.types import (
    CommandId,
    GameCommand,
    GameCommandMessage,
    GameEventMessage,
    Turn,
)


def replay_events(recording: Recording, *, each_tick: Callable[[Game], None] | None = None) -> list[GameEventMessage]:
    """The recorded game's events. `each_tick(game)`, when given, is called once the
    game has started and after every tick, with the game about to compute `game.tick`
    (to look at every board, as the viewer's tests do)."""
    if recording.rules_version != RULES_VERSION:
        raise ReplayMismatch(
            f"the replay was recorded under rules version {recording.rules_version}; "
            f"this server plays version {RULES_VERSION} and cannot show it exactly"
        )
    game = Game(
        recording.game_id,
        recording.game_type,
        seed=recording.seed,
        tick_ms=recording.tick_ms,
        server_id=recording.server_id,
        game_code=recording.game_code,
        host_user_id=recording.host_user_id,
    )
    events: list[GameEventMessage] = []
    started = False

    def advance_to(tick: int) -> list[GameEventMessage]:
        """Compute ticks until the game is about to compute `tick` (or is over)."""
        if each_tick is None:
            return game.advance_to(tick - 1)
        stepped: list[GameEventMessage] = []
        while game.tick < tick and game.is_started and not game.is_complete:
            stepped += game.advance_to(game.tick)
            each_tick(game)
        return stepped

    try:
        for entry in recording.inputs:
            if isinstance(entry, Joined):
                game.add_player(entry.user_id, entry.username)
            elif isinstance(entry, Left):
                game.remove_player(entry.user_id)
            elif isinstance(entry, Began):
                events.append(game.snapshot_event())
                events += game.start(entry.start_ms)
                started = True
                if each_tick is not None:
                    each_tick(game)
            elif isinstance(entry, Commanded):
                events += advance_to(entry.tick)
                events.append(game.schedule_command(entry.user_id, _client_message(entry)))
            else:
                assert isinstance(entry, Abandoned)
                events += advance_to(entry.tick)
                if not started:
                    events.append(game.snapshot_event())
                    started = True
                events += game.abandon()
        events += advance_to(recording.final_tick)
    except EngineError as exc:
        raise ReplayMismatch(f"the recorded inputs do not fit this engine: {exc}") from exc
    if game.tick != recording.final_tick or state_digest(game.state) != recording.final_digest:
        raise ReplayMismatch(
            f"computing the game again did not reach the recorded end (tick {game.tick} "
            f"against {recording.final_tick}); the rules changed since it was played"
        )
    return events


def _client_message(entry: Commanded) -> GameCommandMessage:
    return GameCommandMessage(
        command_id_client=CommandId(
            tick=entry.client_tick, user_id=entry.client_user_id, sequence_number=entry.client_sequence
        ),
        command=GameCommand(Turn=Turn(snake_id=entry.snake_id, direction=entry.direction)),
    )
