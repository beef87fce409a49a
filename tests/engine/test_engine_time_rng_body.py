"""Pure helpers: game time, the xorshift64 generator, body compression."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from snaketron.engine import Position
from snaketron.engine.body import compress, expand
from snaketron.engine.rng import ZERO_SEED_STATE, Xorshift64
from snaketron.engine.timing import committed_tick, target_tick, tick_deadline_ms

# --- time ---------------------------------------------------------------------------


@pytest.mark.parametrize(("now", "expected"), [(1_000, 0), (1_099, 0), (1_100, 1), (1_550, 5), (999, -1), (0, -10)])
def test_target_tick_floors_elapsed_time_by_tick_length(now: int, expected: int) -> None:
    assert target_tick(now, 1_000, 100) == expected


def test_tick_t_is_committed_once_now_reaches_start_plus_t_plus_6_ticks() -> None:
    start = 50_000
    assert committed_tick(start + 599, start, 100) == -1
    assert committed_tick(start + 600, start, 100) == 0
    assert committed_tick(start + 1_150, start, 100) == 5
    assert committed_tick(start - 5_000, start, 100) < 0


@pytest.mark.parametrize("tick", [0, 1, 7, 1_000])
def test_the_deadline_of_a_tick_is_the_first_moment_it_is_committed(tick: int) -> None:
    start, tick_ms = 123_456, 40
    deadline = tick_deadline_ms(tick, start, tick_ms)
    assert committed_tick(deadline, start, tick_ms) == tick
    assert committed_tick(deadline - 1, start, tick_ms) == tick - 1


# --- rng ----------------------------------------------------------------------------


def test_xorshift64_first_step_from_seed_1() -> None:
    # 1 ^ 1<<13 = 0x2001; >>17 adds nothing; 0x2001 ^ 0x2001<<5 = 0x42021.
    rng = Xorshift64(1)
    assert rng.next_u64() == 0x42021


def test_a_zero_seed_becomes_the_fixed_constant() -> None:
    assert Xorshift64(0).state == ZERO_SEED_STATE == 0x1234567890ABCDEF


def test_next_u32_is_the_high_half_and_next_u16_its_low_16_bits() -> None:
    a, b, c = Xorshift64(0xDEADBEEF), Xorshift64(0xDEADBEEF), Xorshift64(0xDEADBEEF)
    for _ in range(100):
        full = a.next_u64()
        assert full < 2**64
        assert b.next_u32() == full >> 32
        assert c.next_u16() == (full >> 32) & 0xFFFF


def test_the_state_stays_within_64_bits_and_never_zero() -> None:
    rng = Xorshift64(2**64 - 1)
    for _ in range(10_000):
        assert 0 < rng.next_u64() < 2**64


# --- body compression -----------------------------------------------------------------


def test_a_straight_body_is_head_and_tail() -> None:
    assert compress([(5, 5), (4, 5), (3, 5), (2, 5)]) == [Position(5, 5), Position(2, 5)]


def test_turn_points_are_kept_in_order() -> None:
    cells = [(5, 5), (5, 6), (5, 7), (4, 7), (3, 7), (3, 6)]
    assert compress(cells) == [Position(5, 5), Position(5, 7), Position(3, 7), Position(3, 6)]


def test_a_one_cell_body_repeats_its_head_as_the_tail() -> None:
    assert compress([(1, 1)]) == [Position(1, 1), Position(1, 1)]
    assert expand([Position(1, 1), Position(1, 1)]) == [(1, 1)]


def test_expand_refuses_diagonal_segments() -> None:
    with pytest.raises(ValueError):
        expand([Position(0, 0), Position(2, 2)])


_CLOCKWISE = [(1, 0), (0, 1), (-1, 0), (0, -1)]


@given(
    start=st.tuples(st.integers(0, 50), st.integers(0, 50)),
    heading=st.integers(0, 3),
    # Each step goes straight, turns right or turns left: a body never folds back.
    turns=st.lists(st.sampled_from([0, 1, 3]), max_size=30),
)
def test_compress_then_expand_gives_back_every_cell(start: tuple[int, int], heading: int, turns: list[int]) -> None:
    cells = [start]
    for turn in turns:
        heading = (heading + turn) % 4
        dx, dy = _CLOCKWISE[heading]
        x, y = cells[-1]
        cells.append((x + dx, y + dy))
    assert expand(compress(cells)) == cells
