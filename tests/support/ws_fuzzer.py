"""The WebSocket fuzzer: seats in every connection state, and frame campaigns on them.

A campaign sends hostile frames one at a time and checks each answer against
`hostile_frames.expected_replies`: a hypothesis campaign (which shrinks a failing
frame) and a seeded random one. Run as a process of its own,

    python -m support.ws_fuzzer '{"ws_url": ..., "game_id": ..., "tokens": {seat: token}, ...}'

it opens every seat, runs both campaigns on each and prints the tallies as JSON: the
server under test then shares neither the GIL nor the garbage collector with the
fuzzer, so its tick figures are its own. A failed check exits non-zero with the
falsifying frame on stderr.
"""

from __future__ import annotations

import json
import random
import sys
from collections import Counter
from dataclasses import dataclass, field

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from snaketron import protocol
from support.hostile_frames import (
    SEATS,
    Frame,
    HypothesisChooser,
    RandomChooser,
    Seat,
    expected_replies,
    hostile_frame,
    reply_label,
)
from support.sync_ws import SyncPlayer

LOBBY = protocol.CustomGameSettings(arena_width=20, arena_height=20, max_players=4)


def open_seat(ws_url: str, seat: Seat, token: str, game_id: int) -> SyncPlayer:
    """A connection in `seat`. The player seat rejoins game `game_id`, whose player the
    token's user must already be; the spectator watches it; the lobby host makes a lobby."""
    player = SyncPlayer(ws_url)
    if seat == "unauthenticated":
        return player
    player.authenticate(token)
    if seat == "lobby_host":
        player.send(protocol.CreateCustomGame(settings=LOBBY))
        player.expect(protocol.CustomGameCreated)
    elif seat == "player":
        player.send(protocol.JoinGame(game_id=game_id))  # answered by a Snapshot
    elif seat == "spectator":
        player.send(protocol.SpectateGame(game_id=game_id, game_code=None))
        player.expect(protocol.SpectatorJoined)
    return player


@dataclass
class Tally:
    """What one seat was sent and answered."""

    answers: Counter = field(default_factory=Counter)  # reply label -> frames
    kinds: Counter = field(default_factory=Counter)  # generator kind -> frames answered
    skipped: int = 0  # valid requests that would have changed the seat's state

    @property
    def sent(self) -> int:
        return sum(self.answers.values())


def check_one(player: SyncPlayer, seat: Seat, frame: Frame, max_frame: int, tally: Tally) -> None:
    expected = expected_replies(frame, seat, max_frame)
    if expected is None:
        tally.skipped += 1
        return
    replies = player.replies_to(frame.data)
    labels = [reply_label(r) for r in replies] or ["none"]
    assert len(labels) == 1 and labels[0] in expected, (seat, frame, labels, sorted(expected))
    tally.answers[labels[0]] += 1
    tally.kinds[frame.kind] += 1


def hypothesis_campaign(player: SyncPlayer, seat: Seat, max_frame: int, examples: int, tally: Tally) -> None:
    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,  # the same frames on every run
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.data())
    def one_frame(data) -> None:
        check_one(player, seat, hostile_frame(HypothesisChooser(data), max_frame), max_frame, tally)

    one_frame()


def seeded_campaign(player: SyncPlayer, seat: Seat, max_frame: int, frames: int, seed: int, tally: Tally) -> None:
    chooser = RandomChooser(random.Random(f"{seed}-{seat}"))
    for _ in range(frames):
        check_one(player, seat, hostile_frame(chooser, max_frame), max_frame, tally)


def main(job: dict) -> dict:
    tallies: dict[str, dict] = {}
    for seat in SEATS:
        player = open_seat(job["ws_url"], seat, job["tokens"][seat], job["game_id"])
        tally = Tally()
        try:
            hypothesis_campaign(player, seat, job["max_frame"], job["examples"], tally)
            seeded_campaign(player, seat, job["max_frame"], job["seeded"], job["seed"], tally)
        finally:
            player.close()
        tallies[seat] = {
            "answers": dict(tally.answers),
            "kinds": dict(tally.kinds),
            "skipped": tally.skipped,
            "sent": tally.sent,
        }
    return tallies


if __name__ == "__main__":
    print(json.dumps(main(json.loads(sys.argv[1]))))
