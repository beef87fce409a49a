"""A game as the bots of this process see it, computed along locally with the engine.

The server sends a full Snapshot every 10 ticks and, in between, only what
happens (turns, deaths, food, the commands it scheduled). A mirror keeps one
engine `Game` and computes it tick by tick up to the tick the server has
committed; each command the server schedules is queued into it as it arrives.
Nothing but commands changes a running game (docs/RULES.md) and the engine is
deterministic, so that game stays the server's, tick for tick. The latest
Snapshot is kept as the base to resume from (`Game.from_state`, with the commands
scheduled since): at the first look, and when a command arrives for a tick this
mirror has already computed (a server running late). Bots of one game share one mirror, so a 6-player game costs the
load generator one engine, not six.
"""

from __future__ import annotations

import msgspec

from snaketron.engine import Game, GameCommandMessage, GameState


class GameMirror:
    def __init__(self, game_id: int) -> None:
        self.game_id = game_id
        self.base: GameState | None = None
        self.base_sequence = 0
        # Commands scheduled after the base Snapshot, by event sequence (every member
        # receives each event, so the sequence also de-duplicates).
        self.commands: dict[int, GameCommandMessage] = {}
        self._game: Game | None = None  # None: resume from the base when next needed
        self.resumes = 0  # how many times the game was resumed from a Snapshot

    @property
    def is_started(self) -> bool:
        return self.base is not None and self.base.status != "Stopped"

    @property
    def is_complete(self) -> bool:
        base = self.base
        return base is not None and base.status != "Stopped" and base.status.Complete is not None

    def accept_snapshot(self, sequence: int, state: GameState) -> None:
        # A Snapshot carries the sequence of the last event it includes (as the original
        # server's), so a later one may repeat it: the later tick is the newer base.
        base = self.base
        if base is not None and (sequence, state.tick) <= (self.base_sequence, base.tick):
            return
        self.base = state
        self.base_sequence = sequence
        if self.commands:
            self.commands = {s: c for s, c in self.commands.items() if s > sequence}

    def accept_command(self, sequence: int, message: GameCommandMessage) -> None:
        if sequence <= self.base_sequence or sequence in self.commands:
            return
        self.commands[sequence] = message
        game = self._game
        if game is not None and not game.queue_scheduled(message):
            self._game = None  # its tick is computed here already: resume from the Snapshot

    def game_before(self, tick: int) -> Game | None:
        """The game with (at least) every tick before `tick` computed, or None before it started.

        The game is this mirror's own: read it, do not change it."""
        base = self.base
        if base is None or base.status == "Stopped":
            return None
        game = self._game
        if game is None:
            game = self._game = self._resume(base)
        game.advance_to(tick - 1)  # nothing to do when it is there (or beyond) already
        return game

    def _resume(self, base: GameState) -> Game:
        self.resumes += 1
        state = base
        if self.commands:
            queue = [*base.command_queue.queue, *(self.commands[s] for s in sorted(self.commands))]
            state = msgspec.structs.replace(
                base, command_queue=msgspec.structs.replace(base.command_queue, queue=queue)
            )
        game = Game.from_state(self.game_id, state)
        game.emits_snapshots = False  # the server's Snapshots are the bases
        return game
