"""bench_capacity's final table: each ratio of issue 22 judged against its target, and
the ceiling search in whole groups. Pure arithmetic: nothing here is timed."""

from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "benchmarks"))

from bench_broadcast_ceiling import CeilingStep, climb
from bench_capacity import CapacityStep, Figures, print_figures


def game_step(via: str, players: float, server_cpu_percent: float, holds: bool = True) -> CapacityStep:
    return CapacityStep(
        mode="duel",
        via=via,
        bots=1600,
        players_live=players,
        p50_ms=1.0,
        p99_ms=10.0 if holds else 80.0,
        command_p99_ms=5.0,
        late_ticks=0,
        max_lateness_ms=10,
        errors={},
        frames_per_client_s=3.6,
        bytes_per_frame=480.0,
        server_cpu_percent=server_cpu_percent,
        loadgen_cpu_percent=40.0,
        loadgen_cpu_percents=[20.0, 20.0],
        endpoint_cpu_percent=10.0,
        gc_max_ms=[1.0, 2.0, 0.0],
        loadgen_gc_max_ms=[1.0, 2.0, 0.0],
        games_finished_per_s=10.0,
        frames_per_write=1.2,
        db_requests_per_s={"transact_write_items": 30.0, "batch_write_item": 10.0},
        stalls=[],
        load="1.0 1.0 1.0 -> 1.0 1.0 1.0",
    )


def bare_step(clients: int, server_cpu_percent: float) -> CeilingStep:
    return CeilingStep(
        clients=clients,
        group=2,
        frames_per_client_s=3.6,
        frame_bytes=480,
        p50_ms=0.5,
        p99_ms=1.0,
        max_ms=2.0,
        frames_received_per_s=clients * 3.6,
        late_ticks=0,
        gc_max_ms=[0.0, 0.0, 0.0],
        max_lateness_ms=5.0,
        connected=clients,
        server_cpu_percent=server_cpu_percent,
        client_cpu_percent=20.0,
    )


def table(capsys: pytest.CaptureFixture[str], figures: Figures) -> dict[str, str]:
    print_figures(figures, list(figures.capacity))
    rows = [line.split(" | ") for line in capsys.readouterr().out.splitlines() if line.startswith("| ")]
    return {row[0].lstrip("| "): row[3] for row in rows[1:]}


def test_cpu_efficiency_is_bare_over_game_per_player_second(capsys: pytest.CaptureFixture[str]) -> None:
    # 1,600 players at 32% of a core: 200 us each; the bare server at 26%: 162.5 us, 0.81.
    figures = Figures("duel", once=True, capacity={"lobby": game_step("lobby", 1600, 32.0)})
    figures.bare = bare_step(1600, 26.0)
    assert figures.bare.server_us_per_client_s == pytest.approx(162.5)
    assert figures.capacity["lobby"].server_us_per_player_s == pytest.approx(200.0)
    verdicts = table(capsys, figures)
    assert verdicts["1. CPU efficiency (1600 clients, via lobby)"] == "met"
    figures.bare = bare_step(1600, 25.2)  # 157.5 us: 0.79
    assert table(capsys, figures)["1. CPU efficiency (1600 clients, via lobby)"] == "NOT MET"


@pytest.mark.parametrize(("matchmade", "verdict"), [(1440.0, "met"), (1420.0, "NOT MET"), (1700.0, "met")])
def test_matchmaking_within_ten_percent_of_lobby(
    capsys: pytest.CaptureFixture[str], matchmade: float, verdict: str
) -> None:
    figures = Figures(
        "duel",
        once=True,
        capacity={"lobby": game_step("lobby", 1600, 32.0), "matchmaking": game_step("matchmaking", matchmade, 30.0)},
    )
    assert table(capsys, figures)["3. capacity via matchmaking / via lobby"] == verdict


def test_matched_ceiling_ratio_and_a_ceiling_not_reached(capsys: pytest.CaptureFixture[str]) -> None:
    # A searched capacity (not --once): 1,600 players.
    figures = Figures("duel", once=False, capacity={"lobby": game_step("lobby", 1600, 32.0)}, cores=2)
    figures.matched_ceiling = 2000
    assert table(capsys, figures)["2. capacity / matched-clients ceiling"] == "met"
    figures.matched_ceiling, figures.matched_reached = 2400, False
    print_figures(figures, ["lobby"])
    out = capsys.readouterr().out
    assert "ceiling not reached: at least this" in out
    assert "<= 0.67 | NOT MET" in out
    # An unreached ceiling whose bound still meets the target proves nothing.
    figures.matched_ceiling = 1800
    assert table(capsys, figures)["2. capacity / matched-clients ceiling"] == "unknown (search higher)"


def test_a_once_count_is_bounded_by_the_machine(capsys: pytest.CaptureFixture[str]) -> None:
    # 1,600 players with server, bots and endpoint at 32 + 40 + 10 = 82% of a core: the two
    # cores would be full at 3,902 players, so no capacity above that is possible.
    step = game_step("lobby", 1600, 32.0)
    assert step.players_at_full_machine(2) == pytest.approx(1600 * 200 / 82)
    figures = Figures("duel", once=True, capacity={"lobby": step}, cores=2, matched_ceiling=9000, matched_reached=False)
    print_figures(figures, ["lobby"])
    out = capsys.readouterr().out
    assert "capacity not searched: at most 3902 players" in out
    assert "<= 0.43 | NOT MET" in out
    # A --once count against a reached ceiling the machine bound could still meet: unknown.
    figures.matched_ceiling, figures.matched_reached = 2400, True
    assert table(capsys, figures)["2. capacity / matched-clients ceiling"] == "unknown (search higher)"
    # ... unless the measured count alone meets it.
    figures.matched_ceiling = 1900
    assert table(capsys, figures)["2. capacity / matched-clients ceiling"] == "met"


def test_a_failed_once_step_is_flagged(capsys: pytest.CaptureFixture[str]) -> None:
    figures = Figures("duel", once=True, capacity={"lobby": game_step("lobby", 1600, 32.0, holds=False)})
    print_figures(figures, ["lobby"])
    assert "FAILED" in capsys.readouterr().out


class Held:
    def __init__(self, count: int, limit: int) -> None:
        self.count = count
        self.holds = count <= limit


def test_ceiling_search_keeps_whole_groups_and_its_bound() -> None:
    counts: list[int] = []

    def measure_at(count: int) -> Held:
        counts.append(count)
        return Held(count, limit=10_000)

    steps = climb(measure_at, start=1602, step=801, unit=6, floor=48, largest=20_000, max_steps=8)
    assert len(steps) == 8
    assert all(count % 6 == 0 for count in counts)
    # A limit inside the range: found to within an eighth of the start, in few steps.
    counts.clear()
    steps = climb(lambda c: measure_at(c) if c <= 2400 else Held(c, 2400), start=1600, step=800, unit=2, floor=50,
                  largest=20_000, max_steps=8)  # fmt: skip
    best = max(s.count for s in steps if s.holds)
    assert 2400 - 200 <= best <= 2400
