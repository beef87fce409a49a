"""The engine as it was before issue 22's fast paths, kept as the reference the fast
engine is checked against (test_engine_fast_paths.py): the tick, the end check,
command scheduling, the command queue and snapshots computed the plain way, with
no cache. Do not optimise it; change it only when the rules change (and then
RULES_VERSION too).
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Iterator, Sequence

from snaketron.engine import body
from snaketron.engine.arena import EndRule, GameSetup, setup_for, start_positions
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


class CommandQueue:
    """The queue as it was: a heap, popped by a generator."""

    __slots__ = ("_heap", "_received")

    def __init__(self) -> None:
        # (tick, user_id, sequence_number, message): the server stamp is unique per
        # game, so the message itself is never compared.
        self._heap: list[tuple[int, int, int, GameCommandMessage]] = []
        self._received = 0

    def stamp(self, user_id: int, client_tick: int, earliest_tick: int, latest_tick: int) -> CommandId:
        """The server's id of a command just received: its effective tick and receive order.

        A command for a tick already computed runs at `earliest_tick` (the next
        computed tick); one stamped beyond `latest_tick` is clamped to it.
        """
        tick = min(max(client_tick, earliest_tick), latest_tick)
        command_id = CommandId(tick=tick, user_id=user_id, sequence_number=self._received)
        self._received += 1
        return command_id

    def push(self, message: GameCommandMessage) -> None:
        server_id = message.command_id_server
        assert server_id is not None, "only stamped commands are queued"
        heapq.heappush(self._heap, (server_id.tick, server_id.user_id, server_id.sequence_number, message))
        # A queue restored from a snapshot keeps its stamps unique.
        self._received = max(self._received, server_id.sequence_number + 1)

    def pop_due(self, tick: int) -> Iterator[GameCommandMessage]:
        """Remove and yield, in order, every command whose effective tick is <= `tick`."""
        heap = self._heap
        while heap and heap[0][0] <= tick:
            yield heapq.heappop(heap)[3]

    def pending(self) -> list[GameCommandMessage]:
        return [entry[3] for entry in sorted(self._heap, key=lambda entry: entry[:3])]

    def __len__(self) -> int:
        return len(self._heap)


def _compress(cells: Sequence[Cell]) -> list[Position]:
    """body.compress as it was."""
    points = [Position(*cells[0])]
    for i in range(1, len(cells) - 1):
        (ax, ay), (bx, by), (cx, cy) = cells[i - 1], cells[i], cells[i + 1]
        if (ax - bx, ay - by) != (bx - cx, by - cy):
            points.append(Position(bx, by))
    points.append(Position(*cells[-1]))
    return points


SNAPSHOT_EVERY_TICKS = 10
INITIAL_FOOD_ATTEMPTS = 1000
# A command stamped further ahead of real time than this is clamped.
MAX_COMMAND_LEAD_MS = 1000

Cell = tuple[int, int]


class BoardSnake:
    """A snake as the tick sees it: every cell, head first."""

    __slots__ = ("alive", "cells", "died_at", "direction", "eaten", "food", "last_move", "team_id", "user_id")

    def __init__(self, user_id: int, cells: list[Cell], direction: Direction, team_id: int | None) -> None:
        self.user_id = user_id
        self.cells: deque[Cell] = deque(cells)
        self.direction = direction
        # The reversal rule is judged against the last step, not the last turn.
        self.last_move = direction
        self.alive = True
        self.food = 0  # pending growth
        self.eaten = 0
        self.team_id = team_id
        self.died_at: int | None = None

    def to_wire(self) -> Snake:
        return Snake(
            body=_compress(self.cells),
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


class ReferenceGame:
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
        self._snakes: list[BoardSnake] = []
        self._food: dict[Cell, None] = {}  # insertion-ordered set
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
    def from_state(cls, game_id: int, state: GameState, *, server_id: int = 0) -> ReferenceGame:
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
        game._food = {(p.x, p.y): None for p in state.arena.food}
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
        return game

    # --- seats --------------------------------------------------------------------

    @property
    def tick_ms(self) -> int:
        return self.setup.tick_ms

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
        return self.status != STOPPED and self.status.Complete is not None

    def snake_of(self, user_id: int) -> int | None:
        for snake_id, (seated, _) in enumerate(self._seats):
            if seated == user_id:
                return snake_id
        return None

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
        if not self.is_started:
            return events
        while self.tick <= target_tick and not self.is_complete:
            self._compute_tick(events)
        return events

    def abandon(self) -> list[GameEventMessage]:
        """End the game now with no winner (its host is going away). Emits StatusUpdated
        (Complete with no winner) so that every member knows nobody will play on."""
        if self.is_complete:
            return []
        self.status = status_complete(None)
        self.winning_snake_id = None
        self._record(Abandoned(self.tick))
        events: list[GameEventMessage] = []
        self._emit(events, GameEvent(StatusUpdated=StatusUpdated(status=self.status)))
        return events

    # --- commands ---------------------------------------------------------------------

    def schedule_command(self, user_id: int, msg: GameCommandMessage) -> GameEventMessage:
        """Check, stamp and queue a client's command; returns the CommandScheduled event."""
        if not self.is_started:
            raise CommandRejected("the game has not started")
        if self.is_complete:
            raise CommandRejected("the game is over")
        own_snake = self.snake_of(user_id)
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
        lead_ticks = COMMIT_DELAY_TICKS + 1 + -(-MAX_COMMAND_LEAD_MS // self.setup.tick_ms)
        server_id = self._commands.stamp(
            user_id, msg.command_id_client.tick, earliest_tick=self.tick, latest_tick=self.tick + lead_ticks
        )
        stamped = GameCommandMessage(
            command_id_client=msg.command_id_client,
            command_id_server=server_id,
            command=GameCommand(Turn=Turn(snake_id=own_snake, direction=turn.direction)),
        )
        self._commands.push(stamped)
        self._record(command_input(self.tick, user_id, msg.command_id_client, turn.snake_id, turn.direction))
        events: list[GameEventMessage] = []
        self._emit(events, GameEvent(CommandScheduled=CommandScheduled(command_message=stamped)))
        return events[0]

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
        snakes = self._snakes
        setup = self.setup
        w, h = setup.width, setup.height
        occupied = self._occupied

        # 2. Commands due by this tick, in (tick, user, sequence) order.
        for message in self._commands.pop_due(tick):
            turn = message.command.Turn
            if turn is None or turn.snake_id is None or turn.snake_id >= len(snakes):
                continue
            snake = snakes[turn.snake_id]
            direction = turn.direction
            if not snake.alive or direction is snake.direction or direction is snake.last_move.opposite:
                continue
            snake.direction = direction
            self._emit(events, GameEvent(SnakeTurned=SnakeTurned(snake_id=turn.snake_id, direction=direction)))

        # 3. Move every live snake one cell; growth keeps the tail.
        # (snake_id, snake, vacated tail or None when it grew)
        moved: list[tuple[int, BoardSnake, Cell | None]] = []
        for snake_id, snake in enumerate(snakes):
            if not snake.alive:
                continue
            hx, hy = snake.cells[0]
            dx, dy = snake.direction.delta
            nx, ny = hx + dx, hy + dy
            snake.cells.appendleft((nx, ny))
            snake.last_move = snake.direction
            if 0 <= nx < w and 0 <= ny < h:
                occupied[ny * w + nx] += 1
            if snake.food > 0:
                snake.food -= 1
                vacated = None
            else:
                vacated = snake.cells.pop()
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
            self._emit(events, GameEvent(SnakeDied=SnakeDied(snake_id=snake_id)))

        # 5. Food under a live head is eaten.
        food = self._food
        if food:
            for snake_id, snake, _ in moved:
                if not snake.alive:
                    continue
                head = snake.cells[0]
                if head in food:
                    del food[head]
                    snake.food += 1
                    snake.eaten += 1
                    self._emit(events, GameEvent(FoodEaten=FoodEaten(snake_id=snake_id, position=Position(*head))))

        # 6. One spawn attempt while below the target.
        if len(food) < setup.food_target:
            spawned = self._try_spawn_food()
            if spawned is not None:
                self._emit(events, GameEvent(FoodSpawned=FoodSpawned(position=Position(*spawned))))

        # 7. Goal, then the game type's end condition.
        self._check_end(events)
        self.tick = tick + 1

    def _try_spawn_food(self) -> Cell | None:
        setup = self.setup
        x = setup.food_x_min + self._rng.next_u16() % setup.food_x_range
        y = self._rng.next_u16() % setup.height
        cell = (x, y)
        if cell in self._food or self._occupied[y * setup.width + x]:
            return None
        self._food[cell] = None
        return cell

    def _check_end(self, events: list[GameEventMessage]) -> None:
        rule = self.setup.end_rule
        snakes = self._snakes
        alive = [snake_id for snake_id, snake in enumerate(snakes) if snake.alive]
        if rule is EndRule.SOLO:
            if alive:
                return
            winner = None
        elif rule is EndRule.LAST_ALIVE:
            if len(alive) > 1:
                return
            winner = alive[0] if alive else None
        else:
            zones = self.setup.zones
            assert zones is not None
            scorer = next((i for i in alive if zones.scores(snakes[i].team_id or 0, snakes[i].cells[0][0])), None)
            if scorer is not None:
                winner = scorer
            else:
                alive_teams = {snakes[i].team_id for i in alive}
                if len(alive_teams) > 1:
                    return
                winner = alive[0] if alive else None
        self.winning_snake_id = winner
        self.status = status_complete(winner)
        self._emit(events, GameEvent(StatusUpdated=StatusUpdated(status=self.status)))

    # --- events and snapshots ---------------------------------------------------------------

    def _emit(self, events: list[GameEventMessage], event: GameEvent) -> None:
        # Events of tick T carry T: `self.tick` only moves on once the tick is done.
        # `user_id` is null on every event, as the original server sends it (a command's
        # sender is in its command ids).
        self._sequence += 1
        events.append(
            GameEventMessage(
                game_id=self.game_id,
                tick=self.tick,
                sequence=self._sequence,
                user_id=None,
                event=event,
            )
        )

    def snapshot_event(self) -> GameEventMessage:
        """A Snapshot of the state now (before tick `tick`). It takes no sequence number of
        its own: it carries the state's `event_sequence` (the last event it includes), as
        the original server did, so members never see gaps in the event numbers."""
        return GameEventMessage(
            game_id=self.game_id,
            tick=self.tick,
            sequence=self._sequence,
            user_id=None,
            event=GameEvent(Snapshot=Snapshot(game_state=self.state)),
        )

    @property
    def state(self) -> GameState:
        """The wire state: built fresh, so it is safe to keep while the game goes on."""
        setup = self.setup
        zones = setup.zones
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
                food=[Position(x, y) for x, y in self._food],
                team_zone_config=None
                if zones is None
                else TeamZoneConfig(end_zone_depth=zones.depth, goal_width=zones.goal_width),
            ),
            properties=GameProperties(available_food_target=setup.food_target, tick_duration_ms=setup.tick_ms),
            command_queue=CommandQueueState(queue=self._commands.pending(), active_ids=[], tombstone_ids=[]),
            players={
                user_id: PlayerEntry(user_id=user_id, snake_id=snake_id)
                for snake_id, (user_id, _) in enumerate(self._seats)
            },
            rng=RngState(state=self._rng.state),
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
