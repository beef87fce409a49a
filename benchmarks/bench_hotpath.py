"""The server's send and receive path alone: CPU per client-second, A against B in one run.

No engine, no database: `--clients` WebSocket connections over loopback (their
client side in a second process), grouped as games of `--group`. Each group is
woken by the game server's `TickSlots` every 100 ms and sends its share of event
frames (`--frames-per-client` a second of `--frame-bytes`, the duel traffic the
capacity benchmark measures) through a send function; each client sends
`--commands-per-client` game commands a second, which reach the server through
`GameServerConnection.take_now` (as the game server's in-place commands do), are
decoded as the server decodes them and answered to the whole group (as a
CommandScheduled is). The connections stay open while the send functions take
turns, window after window (`--rounds` of each), so that A and B see the same
clients, the same machine load and the same moment:

    python benchmarks/bench_hotpath.py --clients 1000 --seconds 6 --rounds 3

Reported: the server process's CPU µs per client-second and per frame written,
for `reference` (the send path as it was before issue 22's work: websockets'
`Frame.serialize` per tick, kept here as the yardstick) and `fanout`
(`snaketron.fanout.send_to_all` as it is now).

`--pure` measures the rooms' own Python instead, with no socket at all: `--clients`
players in real duel `Room`s (engine included, a new match when one ends), ticked
as `TickSlots` would, each player sending `--commands-per-client` turns a second
through `Room.command`; members' transports only count what they are given. Its
figure is CPU µs per player-second of the tick and command paths without the
system calls. To compare two versions of the server's code, run it alternately
with each on PYTHONPATH (`PYTHONPATH=<other worktree>/server`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections.abc import Callable, Iterable

from websockets.asyncio.client import connect
from websockets.asyncio.server import serve
from websockets.frames import Frame, Opcode
from websockets.protocol import SERVER, State

from snaketron import protocol
from snaketron.engine import CommandId, CommandRejected, Direction, GameCommand, GameCommandMessage, Turn
from snaketron.fanout import Outbox, send_to_all
from snaketron.tick_slots import TickSlots
from snaketron.ws_connection import GameServerConnection

TICK_MS = 100
SendToAll = Callable[..., int]


def reference_send_to_all(outboxes: Iterable[Outbox], *frames: bytes) -> int:
    """`fanout.send_to_all` as it was before issue 22's work (websockets builds each
    frame): the yardstick the current one is measured against."""
    wire: bytes | None = None
    sent = 0
    for outbox in outboxes:
        connection = outbox.connection
        protocol_ = connection.protocol
        if outbox.closing or protocol_.state is not State.OPEN:
            continue
        transport = connection.transport
        if transport.get_write_buffer_size() > outbox.limit_bytes:
            outbox.close(1008, "too slow")
            continue
        plain = (
            protocol_.side is SERVER
            and not protocol_.extensions
            and not protocol_.writes
            and not protocol_.expect_continuation_frame
            and connection.send_in_progress is None
        )
        if plain:
            if wire is None:
                wire = b"".join(Frame(Opcode.TEXT, frame).serialize(mask=False, extensions=[]) for frame in frames)
            transport.write(wire)
        else:
            for frame in frames:
                protocol_.send_text(frame)
            connection.send_data()
        sent += 1
    return sent


IMPLEMENTATIONS: dict[str, SendToAll] = {"reference": reference_send_to_all, "fanout": send_to_all}


def _event_frame(size: int) -> bytes:
    head = b'{"GameEvent":{"game_id":1,"tick":1,"sequence":1,"user_id":null,"event":{"Pad":"'
    return head + b"x" * max(0, size - len(head) - 4) + b'"}}}'


class HotPathServer:
    """The groups, their tick timers and the command answers, sending through `send`."""

    def __init__(self, group: int, frames_per_client_s: float, frame_bytes: int) -> None:
        self.group_size = group
        self.groups: list[list[Outbox]] = [[]]
        self.send: SendToAll = send_to_all
        self.frames_per_tick = frames_per_client_s * TICK_MS / 1000
        self.event = _event_frame(frame_bytes)
        self.answer = _event_frame(230)  # a CommandScheduled's size
        self.writes = 0
        self.commands = 0
        self._carry: dict[int, float] = {}
        self._deadlines: dict[int, int] = {}  # group -> its next tick's deadline
        self._slots: TickSlots[int] = TickSlots(self._tick, self.now_ms)

    def now_ms(self) -> int:
        return time.monotonic_ns() // 1_000_000

    async def handler(self, connection: GameServerConnection) -> None:
        members = self.groups[-1]
        members.append(Outbox(connection, 1 << 20))
        index = len(self.groups) - 1
        connection.take_now = lambda data: self._command(members, data)
        if len(members) == self.group_size:
            self.groups.append([])
            self._carry[index] = (index % 10) / 10 * self.frames_per_tick
            now = self.now_ms()
            self._deadlines[index] = now + TICK_MS
            self._slots.add(index, now + TICK_MS, TICK_MS, now)
        await connection.wait_closed()

    def _command(self, members: list[Outbox], data: bytes) -> bool:
        message = protocol.decode_client_message(data)
        if type(message) is not GameCommandMessage:
            return False
        self.commands += 1
        self.writes += self.send(members, self.answer)
        return True

    def _tick(self, index: int) -> int:
        carry = self._carry[index] + self.frames_per_tick
        frames = int(carry)
        self._carry[index] = carry - frames
        if frames:
            self.writes += self.send(self.groups[index], *([self.event] * frames))
        self._deadlines[index] += TICK_MS
        return self._deadlines[index]


async def run_server(args: argparse.Namespace) -> None:
    import uvloop  # noqa: F401  (the event loop is chosen by the caller)

    server = HotPathServer(args.group, args.frames_per_client, args.frame_bytes)
    async with serve(server.handler, "127.0.0.1", 0, compression=None, create_connection=GameServerConnection) as ws:
        port = ws.sockets[0].getsockname()[1]
        client = await asyncio.create_subprocess_exec(
            *(sys.executable, __file__, "--client", str(port), "--clients", str(args.clients)),
            *("--commands-per-client", str(args.commands_per_client)),
            stdout=asyncio.subprocess.PIPE,
        )
        assert client.stdout is not None
        await client.stdout.readline()  # "CONNECTED"
        await asyncio.sleep(2.0)  # past the handshakes
        results: dict[str, list[tuple[float, float]]] = {name: [] for name in args.impl}
        for _ in range(args.rounds):
            for name in args.impl:
                server.send = IMPLEMENTATIONS[name]
                await asyncio.sleep(0.5)  # the switch settles
                cpu0, writes0 = time.process_time(), server.writes
                await asyncio.sleep(args.seconds)
                cpu = time.process_time() - cpu0
                writes = server.writes - writes0
                per_client_s = cpu * 1e6 / (args.clients * args.seconds)
                results[name].append((per_client_s, cpu * 1e6 / max(1, writes)))
                print(
                    f"{name:10s} {per_client_s:6.1f} us CPU per client-second, {cpu * 1e6 / max(1, writes):5.2f} us per write"
                )
        client.terminate()
        await client.wait()
    summary: dict[str, object] = {
        name: {
            "us_per_client_s_median": round(statistics.median(r[0] for r in rows), 1),
            "us_per_write_median": round(statistics.median(r[1] for r in rows), 2),
        }
        for name, rows in results.items()
    }
    if len(args.impl) == 2:
        # Neighbouring windows share the machine's load best: the median of their ratios.
        a, b = args.impl
        ratios = [rb[0] / ra[0] for ra, rb in zip(results[a], results[b], strict=True)]
        summary[f"{b}/{a}"] = round(statistics.median(ratios), 3)
    print(json.dumps(summary))


async def run_clients(port: int, clients: int, commands_per_client_s: float) -> None:
    received = 0

    async def read(ws: object) -> None:
        nonlocal received
        async for _ in ws:  # type: ignore[attr-defined]
            received += 1

    sockets = []
    for _ in range(clients):
        ws = await connect(f"ws://127.0.0.1:{port}", compression=None, max_queue=None)
        sockets.append(ws)
        asyncio.get_running_loop().create_task(read(ws))
    print("CONNECTED", flush=True)
    sequence = 0
    interval_s = 0.01
    per_round = clients * commands_per_client_s * interval_s
    carry = 0.0
    at = 0
    directions = (Direction.UP, Direction.LEFT, Direction.DOWN, Direction.RIGHT)
    while True:
        await asyncio.sleep(interval_s)
        carry += per_round
        while carry >= 1:
            carry -= 1
            sequence += 1
            command = GameCommandMessage(
                command_id_client=CommandId(tick=sequence, user_id=at + 1, sequence_number=sequence),
                command_id_server=None,
                command=GameCommand(Turn=Turn(direction=directions[sequence % 4])),
            )
            await sockets[at].send(protocol.encode_client_message(command).decode())
            at = (at + 1) % clients


class _CountingTransport:
    """A member's transport that only counts what it is given (no system call)."""

    def __init__(self) -> None:
        self.writes = 0

    def write(self, data: bytes) -> None:
        self.writes += 1

    def get_write_buffer_size(self) -> int:
        return 0


class _Connection:
    """What the fan-out reads of a websockets connection, open and plain."""

    def __init__(self) -> None:
        from websockets.protocol import OPEN
        from websockets.server import ServerProtocol

        self.protocol = ServerProtocol(state=OPEN)
        self.transport = _CountingTransport()
        self.send_in_progress = None


class _Member:
    def __init__(self, user_id: int) -> None:
        self.user_id = user_id
        self.outbox = Outbox(_Connection(), 1 << 20)  # type: ignore[arg-type]


class _NoWrites:
    """Persistence that keeps nothing: the database is not what is measured here."""

    def save_game(self, game: object, players: object) -> None:
        return None

    def spectator_added(self, spectator: object) -> None:
        return None

    def player_removed(self, game_id: int, user_id: int) -> None:
        return None

    def game_discarded(self, game_id: int, player_ids: object, spectator_ids: object) -> None:
        return None

    async def record_result(self, game: object, players: object, ratings: object, result: object = None) -> bool:
        return True

    async def read_ratings(self, user_ids: object) -> dict:
        return {}

    def known_rating(self, user_id: int) -> None:
        return None


async def run_pure(args: argparse.Namespace) -> None:
    from snaketron.db.models import MatchTicket
    from snaketron.engine.bot import choose_direction_on_board
    from snaketron.engine.types import type_team_match
    from snaketron.games import Rooms
    from snaketron.histograms import TickTimings
    from snaketron.tasks import BackgroundTasks

    clock = [1_000_000_000]
    rooms = Rooms(_NoWrites(), BackgroundTasks(), clock_ms=lambda: clock[0])  # type: ignore[arg-type]
    rooms.tick_timings = TickTimings()  # as when metrics are served (bench_capacity.py)
    next_id = [0]

    def new_match(members: list[_Member]) -> object:
        next_id[0] += 1
        tickets = [
            MatchTicket(
                region="",
                queue_key="team1",
                user_id=m.user_id,
                username=f"p{m.user_id}",
                mmr=1000,
                server_id=0,
                enqueued_at_ms=0,
            )
            for m in members
        ]
        room = rooms.open_match(next_id[0], type_team_match(1), tickets, clock[0])
        for member in members:
            room.join(member, "player")
        return room

    groups = [[_Member(2 * g + 1), _Member(2 * g + 2)] for g in range(args.clients // 2)]
    live = [new_match(members) for members in groups]
    # The engine's bot steers each snake (as the load test's pilot does) so that games
    # last as real ones do; that steering is not what is measured: only the time spent
    # in `Room.tick` and `Room.command` counts.
    sequence = 0
    cpu = 0.0
    ticks_run = 0
    matches = len(live)
    seconds = args.seconds
    turns: list[tuple[int, _Member, Direction]] = []
    for _ in range(int(seconds * 1000 / TICK_MS)):
        clock[0] += TICK_MS
        began = time.process_time()
        for g, member, direction in turns:
            room = live[g]
            sequence += 1
            command = GameCommandMessage(
                command_id_client=CommandId(tick=room.game.tick, user_id=member.user_id, sequence_number=sequence),  # type: ignore[attr-defined]
                command_id_server=None,
                command=GameCommand(Turn=Turn(direction=direction)),
            )
            try:
                room.command(member.user_id, command)  # type: ignore[attr-defined]
            except CommandRejected:
                pass
        for room in live:
            room.tick()  # type: ignore[attr-defined]
            ticks_run += 1
        cpu += time.process_time() - began
        turns = []
        for g, room in enumerate(live):
            if room.finished:  # type: ignore[attr-defined]
                live[g] = room = new_match(groups[g])
                matches += 1
            game = room.game  # type: ignore[attr-defined]
            for member in groups[g]:
                snake_id = game.snake_of(member.user_id)
                road = game.road_ahead(snake_id, 8) if snake_id is not None else None
                if road is not None and road <= 2:
                    direction = choose_direction_on_board(game, snake_id)
                    if direction is not None:
                        turns.append((g, member, direction))
        await asyncio.sleep(0)  # the result writes of finished games run
    us = round(cpu * 1e6 / (args.clients * seconds), 2)
    print(json.dumps({"us_per_player_s": us, "ticks": ticks_run, "matches": matches, "commands": sequence}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--group", type=int, default=2)
    parser.add_argument("--frames-per-client", type=float, default=3.0, help="event frames a second per client")
    parser.add_argument("--frame-bytes", type=int, default=300)
    parser.add_argument("--commands-per-client", type=float, default=1.0)
    parser.add_argument("--seconds", type=float, default=6.0, help="one measured window")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--impl", nargs="+", default=list(IMPLEMENTATIONS), choices=list(IMPLEMENTATIONS))
    parser.add_argument("--pure", action="store_true", help="the rooms' Python alone, no sockets")
    parser.add_argument("--client", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    import uvloop

    if args.client:
        uvloop.run(run_clients(args.client, args.clients, args.commands_per_client))
    elif args.pure:
        uvloop.run(run_pure(args))
    else:
        uvloop.run(run_server(args))


if __name__ == "__main__":
    main()
