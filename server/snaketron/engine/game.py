"""One running game: seats, the tick procedure of docs/RULES.md, commands and events.

The board is kept in a form made for the tick (full cell lists, an occupancy
grid); the wire `GameState` is built only when a snapshot is due or asked for,
so a tick allocates no copy of the state.
"""

from __future__ import annotations

import functools
from collections import deque

from snaketron.engine import body
from snaketron.engine.arena import EndRule, GameSetup, setup_for, start_positions
from snaketron.engine.commands import CommandQueue
from snaketron.engine.errors import AlreadyStarted, CommandRejected, GameFull, NotEnoughPlayers
from snaketron.engine.recording import (
    RULES_VERSION,
    Abandoned,
    Began,
    Input,
    Joined,
    Left,
    Recording,
    command_input,
    state_digest,
)
from snaketron.engine.rng import Xorshift64
from snaketron.engine.timing import COMMIT_DELAY_TICKS
from snaketron.engine.types import (
    STOPPED,
    Arena,
    CommandId,
    CommandQueueState,
    CommandScheduled,
    Direction,
    FoodEaten,
    FoodSpawned,
    GameCommand,
    GameCommandMessage,
    GameEvent,
    GameEventMessage,
    GameProperties,
    GameState,
    GameStatus,
    GameStatusObject,
    GameType,
    PlayerEntry,
    Position,
    RngState,
    Snake,
    SnakeDied,
    SnakeTurned,
    Snapshot,
    StatusUpdated,
    TeamZoneConfig,
    Turn,
    status_complete,
    status_started,
)

SNAPSHOT_EVERY_TICKS = 10
INITIAL_FOOD_ATTEMPTS = 1000
# A command stamped further ahead of real time than this is clamped.
MAX_COMMAND_LEAD_MS = 1000

Cell = tuple[int, int]


class BoardSnake:
    """A snake as the tick sees it: every cell, head first."""

    __slots__ = (
        "alive",
        "cells",
        "delta",
        "died_at",
        "direction",
        "eaten",
        "food",
        "last_move",
        "team_id",
        "user_id",
        "wire_body",
    )

    def __init__(self, user_id: int, cells: list[Cell], direction: Direction, team_id: int | None) -> None:
        self.user_id = user_id
        self.cells: deque[Cell] = deque(cells)
        self.direction = direction
        # `direction.delta`, kept with it: the tick reads it for every snake, and the
        # property (an enum-keyed dict lookup, Enum.__hash__ in Python) costs more.
        self.delta = direction.delta
        # The reversal rule is judged against the last step, not the last turn.
        self.last_move = direction
        self.alive = True
        self.food = 0  # pending growth
        self.eaten = 0
        self.team_id = team_id
        self.died_at: int | None = None
        # A dead snake's compressed body never changes again: compressed once, for
        # every later snapshot (each gets its own copy of the list).
        self.wire_body: list[Position] | None = None

    def to_wire(self) -> Snake:
        if self.alive:
            points = body.compress(self.cells)
        else:
            if self.wire_body is None:
                self.wire_body = body.compress(self.cells)
            points = list(self.wire_body)
        return Snake(
            body=points,
            direction=self.direction,
            is_alive=self.alive,
            food=self.food,
            team_id=self.team_id,
        )


def _last_step(cells: list[Cell], facing: Direction) -> Direction:
    if len(cells) > 1:
        (hx, hy), (nx, ny) = cells[0], cells[1]
        for direction in Direction:
            if direction.delta == (hx - nx, hy - ny):
                return direction
    return facing


# Frozen events and commands that depend only on a snake id and a direction, built
# once per process: constructing a OneOf runs its Python `__post_init__`, the
# largest part of a turn's cost. Snake ids are seats: at most MAX_PLAYERS_RANGE x 4
# directions of each.
@functools.cache
def _turn_command(snake_id: int, direction: Direction) -> GameCommand:
    return GameCommand(Turn=Turn(snake_id=snake_id, direction=direction))


@functools.cache
def _turned_event(snake_id: int, direction: Direction) -> GameEvent:
    return GameEvent(SnakeTurned=SnakeTurned(snake_id=snake_id, direction=direction))


@functools.cache
def _died_event(snake_id: int) -> GameEvent:
    return GameEvent(SnakeDied=SnakeDied(snake_id=snake_id))


class Game:
    def __init__(
        self,
        game_id: int,
        game_type: GameType,
        *,
        seed: int,
        tick_ms: int | None = None,
        server_id: int = 0,
        game_code: str | None = None,
        host_user_id: int | None = None,
    ) -> None:
        self.game_id = game_id
        self.game_type = game_type
        self.seed = seed
        self._tick_ms_given = tick_ms
        # Every accepted input, for `recording()`: one append per input, none per tick.
        # None for a game resumed from a state, whose beginning is unknown here.
        self._inputs: list[Input] | None = []
        self.server_id = server_id
        self.game_code = game_code
        self.host_user_id = host_user_id
        self.setup: GameSetup = setup_for(game_type, tick_ms)
        # A plain attribute, not a property over the setup: every room reads it on every tick.
        self.tick_ms: int = self.setup.tick_ms
        self.status: GameStatus = STOPPED
        self.start_ms = 0
        self.tick = 0  # the next tick to compute
        self.winning_snake_id: int | None = None
        self._sequence = 0  # the last sequence number used
        # A client computing the game along (the load generator's mirror) reads the board,
        # never the events: building a Snapshot's whole wire state every 10 ticks for it
        # was a quarter of its tick cost.
        self.emits_snapshots = True
        self._commands = CommandQueue()
        self._seats: list[tuple[int, str]] = []  # (user_id, username) in join order
        self._snake_of: dict[int, int] = {}  # user_id -> snake_id, kept with `_seats`
        self._snakes: list[BoardSnake] = []
        # (snake_id, snake) of the live snakes in id order: the tick walks these only.
        self._live: list[tuple[int, BoardSnake]] = []
        # The end condition of docs/RULES.md, but for a team goal, changes only when a
        # snake dies: the tick checks it again only then (and once after a (re)start).
        self._end_check_due = True
        # `is_complete`, kept as a flag: `advance_to` reads it once per tick.
        self._complete = False
        # The frozen parts of every snapshot, shared by all of them.
        setup = self.setup
        self._properties = GameProperties(available_food_target=setup.food_target, tick_duration_ms=setup.tick_ms)
        zones = setup.zones
        # A team goal's bounds (x past `right` scores for team 0, x below `depth` for
        # team 1), read by every tick of a team match; None: no goals.
        self._goals: tuple[int, int] | None = (
            (zones.right_wall_x, zones.depth) if zones is not None and setup.end_rule is EndRule.TEAM_GOAL else None
        )
        self._zone_config = (
            None if zones is None else TeamZoneConfig(end_zone_depth=zones.depth, goal_width=zones.goal_width)
        )
        self._player_entries: dict[int, PlayerEntry] = {}  # kept with `_seats`; copied per snapshot
        # How far ahead of the next computed tick a command may be stamped.
        self._lead_ticks = COMMIT_DELAY_TICKS + 1 + -(-MAX_COMMAND_LEAD_MS // self.setup.tick_ms)
        # Insertion-ordered: the cells, each with its wire Position (frozen, so the
        # snapshots and the events share it instead of building one each).
        self._food: dict[Cell, Position] = {}
        self._rng = Xorshift64(seed)
        w, h = self.setup.width, self.setup.height
        self._occupied = bytearray(w * h)  # live snake cells per board cell
        self._walls = bytearray(w * h)
        if self.setup.zones is not None:
            zones = self.setup.zones
            for y in range(h):
                for x in (zones.left_wall_x, zones.right_wall_x):
                    self._walls[y * w + x] = zones.is_wall(x, y)
        self._lay_out()

    @classmethod
    def from_state(cls, game_id: int, state: GameState, *, server_id: int = 0) -> Game:
        """Resume a game from a wire state (a snapshot): the inverse of `state`.

        The reversal rule needs each snake's last step, which the wire state
        does not carry; like a predicting client, it is read off the body (the
        head's offset from the next cell), or taken as the facing direction for
        a one-cell snake.
        """
        game = cls(
            game_id,
            state.game_type,
            seed=state.rng.state if state.rng is not None else 0,
            tick_ms=state.properties.tick_duration_ms,
            server_id=server_id,
            game_code=state.game_code,
            host_user_id=state.host_user_id,
        )
        game._inputs = None
        setup = game.setup
        if (state.arena.width, state.arena.height) != (setup.width, setup.height):
            raise ValueError("the arena size does not match the game type")
        entries = sorted(state.players.values(), key=lambda entry: entry.snake_id)
        if [entry.snake_id for entry in entries] != list(range(len(state.arena.snakes))):
            raise ValueError("players must map one to one onto arena.snakes")
        game._seats = [(entry.user_id, state.usernames.get(entry.user_id, "")) for entry in entries]
        game._index_seats()
        game._snakes = []
        game._occupied = bytearray(setup.width * setup.height)
        for entry, wire in zip(entries, state.arena.snakes, strict=True):
            cells = body.expand(wire.body)
            snake = BoardSnake(entry.user_id, cells, wire.direction, wire.team_id)
            snake.last_move = _last_step(cells, wire.direction)
            snake.alive = wire.is_alive
            snake.food = wire.food
            game._snakes.append(snake)
            if snake.alive:
                for x, y in snake.cells:
                    game._occupied[y * setup.width + x] += 1
        game._live = [(snake_id, snake) for snake_id, snake in enumerate(game._snakes) if snake.alive]
        game._end_check_due = True
        game._food = {(p.x, p.y): p for p in state.arena.food}
        if state.rng is not None:
            game._rng.state = state.rng.state
        game.status = state.status
        game.start_ms = state.start_ms
        game.tick = state.tick
        game._sequence = state.event_sequence
        for message in state.command_queue.queue:
            game._commands.push(message)
        if isinstance(state.status, GameStatusObject) and state.status.Complete is not None:
            game.winning_snake_id = state.status.Complete.winning_snake_id
            game._complete = True
        return game

    # --- seats --------------------------------------------------------------------

    @property
    def max_players(self) -> int:
        return self.setup.max_players

    @property
    def player_count(self) -> int:
        return len(self._seats)

    @property
    def players(self) -> dict[int, int]:
        """user_id -> snake_id."""
        return {user_id: snake_id for snake_id, (user_id, _) in enumerate(self._seats)}

    @property
    def usernames(self) -> dict[int, str]:
        return dict(self._seats)

    @property
    def is_started(self) -> bool:
        return self.status != STOPPED

    @property
    def is_complete(self) -> bool:
        return self._complete

    def snake_of(self, user_id: int) -> int | None:
        return self._snake_of.get(user_id)

    def _index_seats(self) -> None:
        """`_snake_of` again after the seats changed."""
        self._snake_of = {user_id: snake_id for snake_id, (user_id, _) in enumerate(self._seats)}
        self._player_entries = {
            user_id: PlayerEntry(user_id=user_id, snake_id=snake_id) for user_id, snake_id in self._snake_of.items()
        }

    def add_player(self, user_id: int, username: str) -> int:
        """Seat a player before the start; returns their snake id (the same one when already seated)."""
        existing = self.snake_of(user_id)
        if existing is not None:
            return existing
        if self.is_started:
            raise AlreadyStarted("the game has already started")
        if len(self._seats) >= self.setup.max_players:
            raise GameFull("the game is full")
        self._seats.append((user_id, username))
        self._index_seats()
        self._lay_out()
        self._record(Joined(user_id, username))
        return len(self._seats) - 1

    def remove_player(self, user_id: int) -> None:
        """Free a seat before the start; later seats move up and everyone is placed again."""
        if self.is_started:
            raise AlreadyStarted("the game has already started")
        snake_id = self.snake_of(user_id)
        if snake_id is None:
            return
        del self._seats[snake_id]
        self._index_seats()
        self._lay_out()
        self._record(Left(user_id))

    def _lay_out(self) -> None:
        """Place every seated snake at its start position and the initial food.

        The result depends only on the seed and the seats, not on the history of
        joins and leaves, so every member's lobby snapshot agrees.
        """
        setup = self.setup
        w = setup.width
        self._occupied = bytearray(len(self._occupied))
        self._snakes = []
        for seat, (x, y, facing) in enumerate(start_positions(setup, len(self._seats))):
            dx, dy = facing.delta
            cells = [(x - i * dx, y - i * dy) for i in range(setup.start_length)]
            self._snakes.append(BoardSnake(self._seats[seat][0], cells, facing, setup.team_of(seat)))
            for cx, cy in cells:
                if 0 <= cx < w and 0 <= cy < setup.height:
                    self._occupied[cy * w + cx] += 1
        self._live = list(enumerate(self._snakes))
        self._end_check_due = True
        self._rng = Xorshift64(self.seed)
        self._food = {}
        for _ in range(INITIAL_FOOD_ATTEMPTS):
            if len(self._food) >= setup.food_target:
                break
            self._try_spawn_food()

    # --- lifecycle ------------------------------------------------------------------

    def start(self, start_ms: int) -> list[GameEventMessage]:
        """Start the game: tick 0 begins at `start_ms`. Emits StatusUpdated(Started)."""
        if self.is_started:
            raise AlreadyStarted("the game has already started")
        if len(self._seats) < self.setup.min_players:
            raise NotEnoughPlayers(f"at least {self.setup.min_players} players are needed to start")
        self.start_ms = start_ms
        self.status = status_started(self.server_id)
        self._record(Began(start_ms))
        events: list[GameEventMessage] = []
        self._emit(events, GameEvent(StatusUpdated=StatusUpdated(status=self.status)))
        return events

    def advance_to(self, target_tick: int) -> list[GameEventMessage]:
        """Compute ticks until `tick > target_tick` or the game completes; returns their events."""
        events: list[GameEventMessage] = []
        if isinstance(self.status, str):  # "Stopped", the only variant that is a string
            return events
        compute = self._compute_tick
        while self.tick <= target_tick and not self._complete:
            compute(events)
        return events

    def abandon(self) -> list[GameEventMessage]:
        """End the game now with no winner (its host is going away). Emits StatusUpdated
        (Complete with no winner) so that every member knows nobody will play on."""
        if self.is_complete:
            return []
        self.status = status_complete(None)
        self._complete = True
        self.winning_snake_id = None
        self._record(Abandoned(self.tick))
        events: list[GameEventMessage] = []
        self._emit(events, GameEvent(StatusUpdated=StatusUpdated(status=self.status)))
        return events

    # --- commands ---------------------------------------------------------------------

    def schedule_command(self, user_id: int, msg: GameCommandMessage) -> GameEventMessage:
        """Check, stamp and queue a client's command; returns the CommandScheduled event."""
        if isinstance(self.status, str):  # "Stopped", the only variant that is a string
            raise CommandRejected("the game has not started")
        if self._complete:
            raise CommandRejected("the game is over")
        own_snake = self._snake_of.get(user_id)
        if own_snake is None:
            raise CommandRejected("only players of this game may send commands")
        turn = msg.command.Turn
        if turn is None:
            raise CommandRejected("clients may not change the game status")
        if turn.snake_id is not None and turn.snake_id != own_snake:
            raise CommandRejected("a command may only move the sender's own snake")
        # docs/RULES.md stamps max(client tick, committed tick) and runs a command for a
        # computed tick at the next one; stamping with that next tick (`self.tick`)
        # directly makes the stamp the tick it really runs at, so clients that
        # replay from the stamp agree. Real time is COMMIT_DELAY_TICKS + 1 ahead of
        # `self.tick`; a stamp more than ~1 s beyond real time is clamped.
        tick = self.tick
        client_id = msg.command_id_client
        if client_id.user_id != user_id:
            # The sender's id, whatever the client wrote: clients match the echo of their
            # own pending moves by this id, so another player's id here would cancel a
            # move on that player's screen. An honest client sends its own id anyway.
            client_id = CommandId(client_id.tick, user_id, client_id.sequence_number)
        direction = turn.direction
        stamped = self._commands.schedule(
            user_id, client_id, _turn_command(own_snake, direction), tick, tick + self._lead_ticks
        )
        self._record(command_input(tick, user_id, client_id, turn.snake_id, direction))
        self._sequence += 1
        return GameEventMessage(
            self.game_id, tick, self._sequence, None, GameEvent(CommandScheduled=CommandScheduled(stamped))
        )

    # --- a client computing the game along (the load generator's bots) ------------------

    def queue_scheduled(self, message: GameCommandMessage) -> bool:
        """Queue a command the server has stamped (from its CommandScheduled). False when
        its tick is already computed here: the caller resumes from a snapshot instead."""
        server_id = message.command_id_server
        if server_id is None or server_id.tick < self.tick:
            return False
        self._commands.push(message)
        return True

    def road_ahead(self, snake_id: int, limit: int) -> int | None:
        """Free cells straight ahead of a snake's head (the edge, walls and live bodies
        block), counted up to `limit`; None for a dead snake. A bot's cheap look before
        it runs its brain on the full state."""
        snake = self._snakes[snake_id]
        if not snake.alive:
            return None
        w, h = self.setup.width, self.setup.height
        occupied, walls = self._occupied, self._walls
        x, y = snake.cells[0]
        dx, dy = snake.direction.delta
        for step in range(limit):
            x += dx
            y += dy
            if not (0 <= x < w and 0 <= y < h) or occupied[y * w + x] or walls[y * w + x]:
                return step
        return limit

    # --- the tick ---------------------------------------------------------------------

    def _compute_tick(self, events: list[GameEventMessage]) -> None:
        tick = self.tick
        if tick % SNAPSHOT_EVERY_TICKS == 0 and self.emits_snapshots:
            events.append(self.snapshot_event())
        setup = self.setup
        w, h = setup.width, setup.height
        occupied = self._occupied

        # 2. Commands due by this tick, in (tick, user, sequence) order.
        commands = self._commands
        if commands.due(tick):
            snakes = self._snakes
            for message in commands.pop_due(tick):
                turn = message.command.Turn
                if turn is None or turn.snake_id is None or turn.snake_id >= len(snakes):
                    continue
                snake = snakes[turn.snake_id]
                direction = turn.direction
                if not snake.alive or direction is snake.direction or direction is snake.last_move.opposite:
                    continue
                snake.direction = direction
                snake.delta = direction.delta
                self._emit(events, _turned_event(turn.snake_id, direction))

        # 3. Move every live snake one cell; growth keeps the tail.
        # (snake_id, snake, vacated tail or None when it grew)
        moved: list[tuple[int, BoardSnake, Cell | None]] = []
        for snake_id, snake in self._live:
            cells = snake.cells
            hx, hy = cells[0]
            dx, dy = snake.delta
            nx, ny = hx + dx, hy + dy
            cells.appendleft((nx, ny))
            snake.last_move = snake.direction
            if 0 <= nx < w and 0 <= ny < h:
                occupied[ny * w + nx] += 1
            if snake.food > 0:
                snake.food -= 1
                vacated = None
            else:
                vacated = cells.pop()
                occupied[vacated[1] * w + vacated[0]] -= 1
            moved.append((snake_id, snake, vacated))

        # 4. Collisions, judged after every snake moved. A head on a cell counted
        # twice met another live snake's cell or its own body.
        walls = self._walls
        dead = []
        for entry in moved:
            x, y = entry[1].cells[0]
            if not (0 <= x < w and 0 <= y < h):
                dead.append(entry)
                continue
            index = y * w + x
            if occupied[index] > 1 or walls[index]:
                dead.append(entry)
        if dead:
            for snake_id, snake, vacated in dead:
                # No longer an obstacle, and put back to its body before the move.
                for cx, cy in snake.cells:
                    if 0 <= cx < w and 0 <= cy < h:
                        occupied[cy * w + cx] -= 1
                snake.cells.popleft()
                if vacated is None:
                    snake.food += 1
                else:
                    snake.cells.append(vacated)
                snake.alive = False
                snake.died_at = tick
                self._emit(events, _died_event(snake_id))
            self._live = [entry for entry in self._live if entry[1].alive]
            self._end_check_due = True

        # 5. Food under a live head is eaten.
        food = self._food
        if food:
            for snake_id, snake, _ in moved:
                if not snake.alive:
                    continue
                head = snake.cells[0]
                position = food.pop(head, None)
                if position is not None:
                    snake.food += 1
                    snake.eaten += 1
                    self._emit(events, GameEvent(FoodEaten=FoodEaten(snake_id, position)))

        # 6. One spawn attempt while below the target.
        if len(food) < setup.food_target:
            spawned = self._try_spawn_food()
            if spawned is not None:
                self._emit(events, GameEvent(FoodSpawned=FoodSpawned(spawned)))

        # 7. A goal, looked for on every tick of a team match: the first live snake (by id)
        # in the other team's goal wins (`TeamZones.scores`, inlined). Then the game
        # type's end condition, which changes only when a snake dies (or at a (re)start).
        goals = self._goals
        if goals is not None:
            right, depth = goals
            for snake_id, snake in self._live:
                x = snake.cells[0][0]
                if (x < depth) if snake.team_id else (x >= right):
                    self._end(events, snake_id)
                    break
        if self._end_check_due and not self._complete:
            self._check_end(events)
        self.tick = tick + 1

    def _try_spawn_food(self) -> Position | None:
        setup = self.setup
        x = setup.food_x_min + self._rng.next_u16() % setup.food_x_range
        y = self._rng.next_u16() % setup.height
        cell = (x, y)
        if cell in self._food or self._occupied[y * setup.width + x]:
            return None
        position = Position(x, y)
        self._food[cell] = position
        return position

    def _check_end(self, events: list[GameEventMessage]) -> None:
        """The end condition beyond a goal: it depends only on who is alive."""
        rule = self.setup.end_rule
        live = self._live
        self._end_check_due = False
        if rule is EndRule.SOLO:
            if live:
                return
            winner = None
        elif rule is EndRule.LAST_ALIVE:
            if len(live) > 1:
                return
            winner = live[0][0] if live else None
        else:
            alive_teams = {snake.team_id for _, snake in live}
            if len(alive_teams) > 1:
                return
            winner = live[0][0] if live else None
        self._end(events, winner)

    def _end(self, events: list[GameEventMessage], winner: int | None) -> None:
        self.winning_snake_id = winner
        self.status = status_complete(winner)
        self._complete = True
        self._emit(events, GameEvent(StatusUpdated=StatusUpdated(status=self.status)))

    # --- events and snapshots ---------------------------------------------------------------

    def _emit(self, events: list[GameEventMessage], event: GameEvent) -> None:
        # Events of tick T carry T: `self.tick` only moves on once the tick is done.
        # `user_id` is null on every event, as the original server sends it (a command's
        # sender is in its command ids).
        self._sequence += 1
        events.append(GameEventMessage(self.game_id, self.tick, self._sequence, None, event))

    def snapshot_event(self) -> GameEventMessage:
        """A Snapshot of the state now (before tick `tick`). It takes no sequence number of
        its own: it carries the state's `event_sequence` (the last event it includes), as
        the original server did, so members never see gaps in the event numbers."""
        return GameEventMessage(self.game_id, self.tick, self._sequence, None, GameEvent(Snapshot=Snapshot(self.state)))

    @property
    def state(self) -> GameState:
        """The wire state: built fresh, so it is safe to keep while the game goes on."""
        setup = self.setup
        return GameState(
            tick=self.tick,
            status=self.status,
            game_type=self.game_type,
            start_ms=self.start_ms,
            event_sequence=self._sequence,
            arena=Arena(
                width=setup.width,
                height=setup.height,
                snakes=[snake.to_wire() for snake in self._snakes],
                food=list(self._food.values()),
                team_zone_config=self._zone_config,
            ),
            properties=self._properties,
            command_queue=CommandQueueState(queue=self._commands.pending(), active_ids=[], tombstone_ids=[]),
            players=dict(self._player_entries),
            rng=RngState(self._rng.state),
            game_code=self.game_code,
            host_user_id=self.host_user_id,
            usernames=dict(self._seats),
        )

    # --- the recording -------------------------------------------------------------------

    def _record(self, entry: Input) -> None:
        if self._inputs is not None:
            self._inputs.append(entry)

    def recording(self) -> Recording | None:
        """What a replay needs, as played so far (take it when the game ends); None for a
        game resumed from a state, whose beginning this process never saw."""
        if self._inputs is None:
            return None
        return Recording(
            rules_version=RULES_VERSION,
            game_id=self.game_id,
            game_type=self.game_type,
            seed=self.seed,
            tick_ms=self._tick_ms_given,
            server_id=self.server_id,
            game_code=self.game_code,
            host_user_id=self.host_user_id,
            inputs=tuple(self._inputs),
            final_tick=self.tick,
            final_sequence=self._sequence,
            final_digest=state_digest(self.state),
        )

    # --- results ------------------------------------------------------------------------

    def placements(self) -> list[int]:
        """User ids from best to worst: the winner, the other survivors, then later deaths first."""

        def rank(snake_id: int) -> tuple[int, int, int]:
            snake = self._snakes[snake_id]
            if snake_id == self.winning_snake_id:
                return (0, 0, snake_id)
            if snake.alive:
                return (1, 0, snake_id)
            return (2, -(snake.died_at or 0), snake_id)

        return [self._snakes[i].user_id for i in sorted(range(len(self._snakes)), key=rank)]

    def death_ticks(self) -> dict[int, int | None]:
        """user_id -> the tick their snake died in (None while alive): ties in `placements`
        (snakes that died in the same tick) are draws to a rating."""
        return {snake.user_id: snake.died_at for snake in self._snakes}

    def snake_lengths(self) -> dict[int, int]:
        """user_id -> body length: the score of a solo game."""
        return {snake.user_id: len(snake.cells) for snake in self._snakes}
