"""The case-collision policy on its own: valid, free, deterministic names."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from snaketron.auth import validate_username
from snaketron.migrate.usernames import (
    CandidatesExhausted,
    LegacyAccountName,
    candidates_for,
    plan_renames,
    renamed_candidate,
)

legacy_names = st.text(min_size=1, max_size=255)  # varchar(255), anything went


@given(legacy_names, st.integers(min_value=2, max_value=100_000))
def test_a_renamed_candidate_is_always_a_valid_username(name: str, n: int) -> None:
    assert validate_username(renamed_candidate(name, n)) == []


def test_candidates_keep_what_they_can_of_the_name() -> None:
    assert renamed_candidate("Alice", 2) == "Alice_2"
    assert renamed_candidate("-weird name-", 3) == "weird_name_3"
    assert renamed_candidate("TwentyCharactersName", 10) == "TwentyCharactersN_10"
    assert renamed_candidate("___", 2) == "player_2"


def _account(user_id: int, name: str, created: int) -> LegacyAccountName:
    return LegacyAccountName(user_id=user_id, username=name, created_at_ms=created)


def _plan(groups: list[list[LegacyAccountName]], taken: set[str]) -> list:
    checked = candidates_for(groups, spare=4)
    return plan_renames(groups, taken=taken & checked, checked=checked)


def test_the_oldest_keeps_the_name_ties_broken_by_id() -> None:
    group = [_account(9, "BOB", 5), _account(3, "bob", 5), _account(1, "Bob", 7)]
    renames = _plan([group], set())
    assert {r.user_id: r.new_username for r in renames} == {9: "BOB_2", 1: "Bob_3"}
    assert {r.name_kept_by_user_id for r in renames} == {3}


def test_names_held_by_legacy_accounts_or_earlier_renames_are_skipped() -> None:
    groups = [[_account(1, "ann", 1), _account(2, "Ann", 2)], [_account(3, "ann_2", 3), _account(4, "ANN_2", 4)]]
    renames = _plan(groups, {"ann_2", "ann_3"})
    assert [(r.user_id, r.new_username) for r in renames] == [(2, "Ann_4"), (4, "ANN_2_2")]


@given(st.lists(st.sampled_from(["kim", "Kim", "KIM", "kIm", "kim_2", "Kim_3"]), min_size=2, max_size=12))
def test_plans_do_not_depend_on_input_order(names: list[str]) -> None:
    accounts = [_account(i + 1, name, (i * 7919) % 13) for i, name in enumerate(names)]
    groups: dict[str, list[LegacyAccountName]] = {}
    for a in accounts:
        groups.setdefault(a.username.lower(), []).append(a)
    collided = [g for g in groups.values() if len(g) > 1]
    taken = {a.username.lower() for a in accounts}
    plan = _plan(collided, taken)
    shuffled = [random.sample(g, len(g)) for g in reversed(collided)]
    assert _plan(shuffled, taken) == plan
    new = [r.new_username.lower() for r in plan]
    assert len(set(new)) == len(new) and not set(new) & taken


def test_a_plan_asks_for_more_names_rather_than_guess() -> None:
    group = [_account(1, "zoe", 1), _account(2, "Zoe", 2)]
    checked = {"zoe_2"}
    try:
        plan_renames([group], taken={"zoe_2"}, checked=checked)
    except CandidatesExhausted as exc:
        assert str(exc) == "zoe_3"
    else:
        raise AssertionError("a name whose status is unknown was handed out")
