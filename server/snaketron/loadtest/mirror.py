"""A game as the bots of this process see it, advanced locally with the engine.

The server sends a full Snapshot every 10 ticks and, in between, only what
happens (turns, deaths, food, the commands it scheduled). A mirror keeps the
last Snapshot plus every command scheduled since, and when a bot needs the board
it resumes the engine from that Snapshot (`Game.from_state`) with those commands
queued and computes up to the tick the server has committed. Bots of one game
share one mirror, so a 6-player game costs the load generator one engine, not six.
"""

from __future__ import annotations

import msgspec

from snaketron.engine import Game, GameCommandMessage, GameState
from snaketron.engine.body import Cell, expand


class BoardView(msgspec.Struct):
    """The board before tick `tick` is computed, and the cells a head must not enter."""

    tick: int
    state: GameState
    blocked: set[Cell]


class GameMirror:
    def __init__(self, game_id: int) -> None:
        self.game_id = game_id
        self.base: GameState | None = None
        self.base_sequence = 0
        # Commands scheduled after the base Snapshot, by event sequence (every member
        # receives each event, so the sequence also de-duplicates).
        self.commands: dict[int, GameCommandMessage] = {}
        self._game: Game | None = None
        self._view: BoardView | None = None

    @property
    def is_started(self) -> bool:
        return self.base is not None and self.base.status != "Stopped"

    @property
    def is_complete(self) -> bool:
        base = self.base
        return base is not None and base.status != "Stopped" and base.status.Complete is not None

    def accept_snapshot(self, sequence: int, state: GameState) -> None:
        if sequence <= self.base_sequence:
            return
        self.base = state
        self.base_sequence = sequence
        self.commands = {s: c for s, c in self.commands.items() if s > sequence}
        self._game = None

    def accept_command(self, sequence: int, message: GameCommandMessage) -> None:
        if sequence <= self.base_sequence or sequence in self.commands:
            return
        self.commands[sequence] = message
        self._game = None

    def view(self, tick: int) -> BoardView | None:
        """The board before `tick` (after tick - 1), or None before the game started."""
        base = self.base
        if base is None or base.status == "Stopped":
            return None
        if self._view is not None and self._view.tick == tick and self._game is not None:
            return self._view
        game = self._game
        if game is None or game.tick > tick:
            state = base
            if self.commands:
                queue = [*base.command_queue.queue, *(self.commands[s] for s in sorted(self.commands))]
                state = msgspec.structs.replace(
                    base, command_queue=msgspec.structs.replace(base.command_queue, queue=queue)
                )
            game = self._game = Game.from_state(self.game_id, state)
        game.advance_to(tick - 1)
        state = game.state
        blocked: set[Cell] = set()
        for snake in state.arena.snakes:
            if snake.is_alive:
                cells = expand(snake.body)
                if snake.food == 0:
                    cells.pop()  # the tail moves away this tick
                blocked.update(cells)
        self._view = BoardView(tick=game.tick, state=state, blocked=blocked)
        return self._view
