"""What relaying costs: a client whose game lives on another server, against one that is local.

Two `snaketron serve` processes on the embedded endpoint: A hosts a lobby, B only
relays. Two figures, each direct (client on A) and relayed (client on B):

- round trip: a member sends `Chat` and waits for its own `ChatMessage` back from the
  host (sequentially, so it is pure latency); p50 and p99 over `--chats` messages;
- relaying CPU: `--watchers` spectators receive the chat of four chatters (each
  chat is one frame to every member). The CPU time the relaying server B spends
  (user + system, from /proc) per frame it passes on, against what the host A
  spends per frame it sends to local watchers.

    python benchmarks/bench_relay.py
    python benchmarks/bench_relay.py --watchers 100 --seconds 8

The two cores are shared by the servers, the endpoint and this load generator.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from cluster.fleet import Cluster, ServerFleet, ServerProcess
from snaketron import protocol
from snaketron.client import GameClient
from snaketron.db import open_database
from snaketron.db.client import DynamoClient
from snaketron.db.embedded import EmbeddedEndpoint
from snaketron.db.tables import ensure_tables
from snaketron.engine import CustomGameSettings, GameEventMessage
from support.dynamo_settings import make_settings, unique_prefix

LOBBY = CustomGameSettings(arena_width=40, arena_height=20, max_players=2, is_private=False)
CHATTERS = 4
CHAT_RATE_PER_S = 30  # under the per-connection message budget (40/s)
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(server: ServerProcess) -> float:
    fields = Path(f"/proc/{server.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime


async def spectate(client: GameClient, game_id: int) -> None:
    await client.send(protocol.SpectateGame(game_id=game_id))
    await client.expect(protocol.SpectatorJoined)
    await client.expect(GameEventMessage)


async def round_trip(member: GameClient, text: str) -> float:
    """ms from sending a Chat to receiving it back from the game's host."""
    sent = time.perf_counter()
    await member.send(protocol.Chat(text=text))
    while True:
        message = await member.recv()
        if isinstance(message, protocol.ChatMessage) and message.text == text:
            return (time.perf_counter() - sent) * 1000


async def count_frames(client: GameClient, stop: asyncio.Event, window: dict[str, bool]) -> int:
    """Frames received while the measuring window is open."""
    frames = 0
    while not stop.is_set():
        try:
            await client.recv(timeout=0.2)
        except TimeoutError:
            continue
        frames += window["open"]
    return frames


async def chat_steadily(member: GameClient, stop: asyncio.Event) -> None:
    i = 0
    while not stop.is_set():
        await member.send(protocol.Chat(text=f"load {i}"))
        i += 1
        await asyncio.sleep(1 / CHAT_RATE_PER_S)


async def fan_out(
    cluster: Cluster, game_id: int, chatters: list[GameClient], via: ServerProcess, measured: ServerProcess, args
) -> tuple[float, int]:
    """Watchers on `via` receive the chatters' frames for `args.seconds`; returns the CPU
    µs `measured` spent per frame the watchers received, and the frame count."""
    watchers = [await cluster.player(via) for _ in range(args.watchers)]
    await asyncio.gather(*(spectate(w, game_id) for w in watchers))
    stop, window = asyncio.Event(), {"open": False}
    counters = [asyncio.create_task(count_frames(w, stop, window)) for w in watchers]
    talkers = [asyncio.create_task(chat_steadily(c, stop)) for c in chatters]
    await asyncio.sleep(1.0)  # warm-up
    window["open"] = True
    cpu_before = cpu_seconds(measured)
    await asyncio.sleep(args.seconds)
    cpu_spent = cpu_seconds(measured) - cpu_before
    window["open"] = False
    stop.set()
    await asyncio.gather(*talkers)
    frames = sum(await asyncio.gather(*counters))
    for w in watchers:
        await w.close()
    return cpu_spent * 1e6 / max(1, frames), frames


async def run(args: argparse.Namespace) -> None:
    endpoint = EmbeddedEndpoint()
    url = await asyncio.to_thread(endpoint.start)
    prefix = unique_prefix()
    try:
        async with DynamoClient(make_settings(url, "admin"), url) as admin:
            await ensure_tables(admin, prefix)
        logs = tempfile.mkdtemp(prefix="bench-relay-")  # the servers' logs, kept for a look afterwards
        async with open_database(make_settings(url, prefix)) as db:
            fleet = ServerFleet(url, prefix, Path(logs))
            cluster = Cluster(fleet, db)
            try:
                env = {"SNAKETRON_LOG_LEVEL": "warning", "SNAKETRON_MAX_CONN_PER_IP": "100000"}
                a, b = await fleet.start_many("A", "B", **env)
                host = await cluster.player(a)
                await host.send(protocol.CreateCustomGame(settings=LOBBY))
                created = await host.expect(protocol.CustomGameCreated)
                lobby = await db.get_lobby(created.game_code, now_ms=0)
                assert lobby.server_id == a.server_id, "the lobby should stay on its creator's server"
                direct, relayed = await cluster.player(a), await cluster.player(b)
                for member in (direct, relayed):
                    await spectate(member, created.game_id)

                print(f"bench_relay: {args.chats} chat round trips each, {args.watchers} watchers for {args.seconds}s")
                print("| path | round trip p50 | p99 |")
                print("|---|---|---|")
                samples: dict[str, list[float]] = {"direct (client on the host)": [], "relayed (client on B)": []}
                for i in range(args.chats):  # interleaved, so both see the same machine
                    for (label, found), member in zip(samples.items(), (direct, relayed), strict=True):
                        found.append(await round_trip(member, f"{label} {i}"))
                        await asyncio.sleep(1 / CHAT_RATE_PER_S)
                for label, found in samples.items():
                    p50, p99 = statistics.median(found), statistics.quantiles(found, n=100)[98]
                    print(f"| {label} | {p50:.2f} ms | {p99:.2f} ms |")

                chatters = [host, *[await cluster.player(a) for _ in range(CHATTERS - 1)]]
                for chatter in chatters[1:]:
                    await spectate(chatter, created.game_id)
                print()
                print("| watchers on | server measured | frames received | CPU per frame |")
                print("|---|---|---|---|")
                for via, measured in ((a, a), (b, b)):
                    per_frame, frames = await fan_out(cluster, created.game_id, chatters, via, measured, args)
                    role = "host, sends" if via is a else "relay, receives + sends"
                    print(f"| {via.name} | {measured.name} ({role}) | {frames:,} | {per_frame:.1f} µs |")
                print(f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
            finally:
                await cluster.close()
    finally:
        await asyncio.to_thread(endpoint.stop)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chats", type=int, default=300)
    parser.add_argument("--watchers", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=5.0)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
