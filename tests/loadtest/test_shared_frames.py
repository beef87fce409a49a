"""The fan-out writes one prebuilt WebSocket frame to every plain connection (a
performance fix found while load testing): that frame must be exactly what
websockets itself would send, and a connection that negotiated compression must
still get frames it can read."""

from __future__ import annotations

import pytest
from websockets.frames import Frame, Opcode
from websockets.protocol import State
from websockets.server import ServerProtocol

from snaketron import protocol
from snaketron.client import AccountClient, GameClient
from snaketron.engine import SOLO, CustomGameSettings, GameEventMessage


@pytest.mark.parametrize("size", [0, 125, 126, 65_535, 65_536])
def test_shared_frame_is_the_frame_websockets_sends(size):
    payload = b'{"GameEvent":' + b"x" * size + b"}"
    server_side = ServerProtocol()
    server_side.state = State.OPEN
    server_side.send_text(payload)
    assert b"".join(server_side.data_to_send()) == Frame(Opcode.TEXT, payload).serialize(mask=False, extensions=[])


async def test_plain_and_compressed_spectators_read_the_same_events(start_server):
    server = await start_server(ws_compression=True)
    async with AccountClient(server.api_url) as accounts:
        names = ("sharedplayer", "sharedplain", "sharedzip")
        tokens = [(await accounts.register(name, "secret1")).token for name in names]
    player = await GameClient.connect(server.ws_url)
    plain = await GameClient.connect(server.ws_url)
    zipped = await GameClient.connect(server.ws_url, compression="deflate")
    try:
        for client, token in zip((player, plain, zipped), tokens, strict=True):
            await client.authenticate(token)
        # A public one-player custom game (a solo game admits no spectators).
        public_solo = CustomGameSettings(game_mode=SOLO, max_players=1, is_private=False)
        await player.send(protocol.CreateCustomGame(settings=public_solo))
        created = await player.expect(protocol.CustomGameCreated)
        await player.send(protocol.StartCustomGame())
        await player.expect(protocol.CustomGameStarting)
        for watcher in (plain, zipped):
            await watcher.send(protocol.SpectateGame(game_id=created.game_id))
            await watcher.expect(protocol.SpectatorJoined)
        assert zipped.connection.protocol.extensions, "compression was negotiated"
        seen = []
        for watcher in (plain, zipped):
            # The periodic Snapshots of ticks 10 and 20 (both joined around tick 0).
            snapshots: list[tuple[int, int]] = []
            while not snapshots or snapshots[-1][0] < 20:
                event = await watcher.expect(GameEventMessage, timeout=5)
                if event.event.Snapshot is not None and event.tick >= 10:
                    snapshots.append((event.tick, event.sequence))
            seen.append(snapshots)
        assert seen[0] == seen[1]
        assert [tick for tick, _ in seen[0]] == [10, 20]
    finally:
        for client in (player, plain, zipped):
            await client.close()
