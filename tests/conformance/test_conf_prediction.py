"""The browser client's own prediction (web/static/js, run under node as the rules
tests run it) fed with the frames of a real solo game: it must read the game as solo
and must not end it before the server does (existing clients ended any game they did
not recognise as solo on its first predicted tick)."""

from __future__ import annotations

import asyncio
import json
import shutil
from asyncio.subprocess import PIPE
from pathlib import Path

import pytest
from wire import SOLO_GAME_TYPE, Peer, event_tag, state_of, tag_of

NODE = shutil.which("node")
HARNESS = Path(__file__).parent / "js" / "solo_prediction.mjs"

pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed: the client's code cannot run")


async def solo_game_frames(peer: Peer, turns: list[tuple[int, str]]) -> list[str]:
    """The raw frames of a solo game from the join Snapshot to game over; `turns` are
    (ticks after the join tick, direction), sent as the game goes."""
    await peer.send("CreateSoloGame")
    game_id = (await peer.next())["SoloGameCreated"]["game_id"]
    await peer.send({"JoinGame": game_id})
    raw: list[str] = []
    pending = list(turns)
    join_tick = None
    while True:
        text = await asyncio.wait_for(peer.client.connection.recv(), 20)
        raw.append(text)
        message = json.loads(text)["GameEvent"]
        if join_tick is None:
            join_tick = message["tick"]
            assert state_of(message)["game_type"] == SOLO_GAME_TYPE
        while pending and message["tick"] >= join_tick + pending[0][0] - 6:
            after, direction = pending.pop(0)
            await peer.send(
                {
                    "GameCommand": {
                        "command_id_client": {
                            "tick": join_tick + after,
                            "user_id": peer.user_id,
                            "sequence_number": after,
                        },
                        "command_id_server": None,
                        "command": {"Turn": {"direction": direction}},
                    }
                }
            )
        if event_tag(message) == "StatusUpdated" and tag_of(message["event"]["StatusUpdated"]["status"]) == "Complete":
            return raw


@pytest.mark.parametrize(
    "turns",
    [
        [],  # straight into the left wall
        [(8, "Up"), (20, "Right")],  # up, then right along the top half into the right wall
    ],
)
async def test_the_browser_clients_prediction_ends_a_solo_game_when_the_server_does(players, turns):
    peer = Peer(await players.new())
    frames = await solo_game_frames(peer, turns)
    node = await asyncio.create_subprocess_exec(NODE, str(HARNESS), stdin=PIPE, stdout=PIPE, stderr=PIPE)
    out, err = await asyncio.wait_for(node.communicate(json.dumps({"frames": frames}).encode()), 60)
    assert node.returncode == 0, err.decode()
    seen = json.loads(out)
    assert seen["end_rule"] == "solo"
    assert seen["server_end_tick"] is not None and seen["server_end_tick"] > 10
    # Not before the server: the client shows the game until its snake really dies.
    assert seen["predicted_end_tick"] == seen["server_end_tick"], seen
