"""The pure rules of matchmaking: windows, forming, team splits, finishing order,
rating arithmetic. No clock, no endpoint."""

from __future__ import annotations

import pytest

from snaketron import rating
from snaketron.db.models import MatchTicket
from snaketron.engine import type_free_for_all, type_team_match
from snaketron.leaderboard.seasons import soft_reset
from snaketron.matchmaking import RULES, WindowSchedule, form_matches, rule_for
from snaketron.matchmaking.forming import estimate_wait_s, split_teams
from snaketron.rooms.ratings import PlayerOutcome, RatedSeats, finishing_order, rating_updates

WINDOWS = WindowSchedule.parse("0:100,5000:250,10000:500,20000:1000")


def t(user_id: int, mmr: int, at: int = 0, queue: str = "ffa2") -> MatchTicket:
    return MatchTicket(
        region="r", queue_key=queue, user_id=user_id, username=f"u{user_id}", mmr=mmr, server_id=1, enqueued_at_ms=at
    )


def groups(matches) -> list[list[int]]:
    return [m.user_ids for m in matches]


# --- windows ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("waited_ms", "window"),
    [(0, 100), (4_999, 100), (5_000, 250), (9_999, 250), (10_000, 500), (19_999, 500), (20_000, 1000), (10**9, 1000)],
)
def test_the_window_widens_with_waiting_time(waited_ms, window):
    assert WINDOWS.window(waited_ms) == window


def test_window_schedules_are_checked():
    assert WindowSchedule.parse(" 5000:250, 0:100 ").steps == ((0, 100), (5000, 250))
    for bad in ("", "100", "5000:250", "0:x", "0:-1"):
        with pytest.raises(ValueError):
            WindowSchedule.parse(bad)
    assert WINDOWS.next_widening_ms(3_000) == 2_000
    assert WINDOWS.next_widening_ms(25_000) is None


# --- forming -----------------------------------------------------------------------------------


def test_closest_ratings_pair_first():
    tickets = [t(1, 1400, 0), t(2, 1480, 1), t(3, 1420, 2), t(4, 1500, 3)]
    assert groups(form_matches(tickets, RULES["ffa2"], WINDOWS, 100, partial_after_ms=10_000)) == [[1, 3], [2, 4]]


def test_a_pair_outside_the_window_waits_until_it_widens():
    tickets = [t(1, 1000, 0), t(2, 1200, 0)]
    rule = RULES["ffa2"]
    assert form_matches(tickets, rule, WINDOWS, 4_999, partial_after_ms=10_000) == []
    assert groups(form_matches(tickets, rule, WINDOWS, 5_000, partial_after_ms=10_000)) == [[1, 2]]


def test_an_anchor_that_cannot_play_stays_available_to_younger_ones():
    # 1 and 3 are 180 apart (too far at first), but 2 sits between them.
    tickets = [t(1, 1000, 0, "ffa3"), t(2, 1090, 1, "ffa3"), t(3, 1180, 2, "ffa3")]
    assert groups(form_matches(tickets, RULES["ffa3"], WINDOWS, 100, partial_after_ms=10_000)) == [[2, 1, 3]]


def test_free_for_all_waits_for_a_full_game_then_takes_two_or_more_after_ten_seconds():
    rule = RULES["ffa4"]
    three = [t(u, 1000, u, "ffa4") for u in (1, 2, 3)]
    assert form_matches(three, rule, WINDOWS, 9_000, partial_after_ms=10_000) == []
    assert groups(form_matches(three, rule, WINDOWS, 10_001, partial_after_ms=10_000)) == [[1, 2, 3]]
    assert groups(form_matches(three[:2], rule, WINDOWS, 10_001, partial_after_ms=10_000)) == [[1, 2]]
    assert form_matches(three[:1], rule, WINDOWS, 60_000, partial_after_ms=10_000) == []
    # A full game forms at once, with the closest four of five.
    five = [*three, t(4, 1050, 4, "ffa4"), t(5, 1099, 5, "ffa4")]
    assert groups(form_matches(five, rule, WINDOWS, 10, partial_after_ms=10_000)) == [[1, 2, 3, 4]]


def test_team_matches_never_form_short_and_split_into_close_teams():
    rule = RULES["team2"]
    three = [t(u, 1000, u, "team2") for u in (1, 2, 3)]
    assert form_matches(three, rule, WINDOWS, 60_000, partial_after_ms=10_000) == []
    four = [t(1, 1000, 0), t(2, 1090, 1), t(3, 1010, 2), t(4, 1080, 3)]
    (match,) = form_matches(four, rule, WINDOWS, 10, partial_after_ms=10_000)
    seats = match.user_ids
    team0, team1 = seats[0::2], seats[1::2]  # the engine's teams: 0, 1, 0, 1
    mmr = {1: 1000, 2: 1090, 3: 1010, 4: 1080}
    assert abs(sum(mmr[u] for u in team0) - sum(mmr[u] for u in team1)) == 0
    assert sorted(team0 + team1) == [1, 2, 3, 4]


def test_split_teams_is_exhaustive_for_three_a_side():
    six = [t(u, m) for u, m in enumerate((1500, 1000, 1400, 1100, 1300, 1100), start=1)]
    team0, team1 = split_teams(six, 3)
    assert abs(sum(x.mmr for x in team0) - sum(x.mmr for x in team1)) == 0
    assert team0[0].user_id == 1 and len(team0) == len(team1) == 3


def test_queue_rules_cover_exactly_the_offered_types():
    assert rule_for(type_free_for_all(6)).players == 6
    assert rule_for(type_team_match(3)).players == 6 and rule_for(type_team_match(3)).is_team
    assert [rule_for(type_free_for_all(n)).players for n in (2, 5, 8, 16)] == [2, 5, 8, 16]
    assert rule_for(type_team_match(4)).players == 8
    assert rule_for(type_free_for_all(1)) is None and rule_for(type_free_for_all(17)) is None
    assert rule_for(type_team_match(0)) is None and rule_for(type_team_match(5)) is None
    assert rule_for("Solo") is None  # a solo game is made at once, never queued


def test_wait_estimates():
    rule = RULES["ffa4"]
    common = {"windows": WINDOWS, "partial_after_ms": 10_000}
    assert estimate_wait_s(rule, waiting=4, waited_ms=0, typical_wait_s=None, **common) == 1
    assert estimate_wait_s(rule, waiting=2, waited_ms=3_000, typical_wait_s=None, **common) == 7
    assert estimate_wait_s(rule, waiting=2, waited_ms=3_000, typical_wait_s=12.0, **common) == 9
    assert estimate_wait_s(rule, waiting=1, waited_ms=1_000, typical_wait_s=None, **common) == 4


# --- finishing order -------------------------------------------------------------------------


def o(user_id, *, team=None, won=False, died=None, left=False) -> PlayerOutcome:
    return PlayerOutcome(user_id=user_id, team_id=team, won=won, died_at=died, left=left)


def test_free_for_all_order_is_winner_then_later_deaths_with_same_tick_deaths_tied():
    order = finishing_order([o(1, died=5), o(2, won=True), o(3, died=9), o(4, died=5)], teams=False)
    assert order == [([2], 1), ([3], 2), ([1], 3), ([4], 3)]


def test_a_draw_without_winner():
    assert finishing_order([o(1, died=7), o(2, died=7)], teams=False) == [([1], 1), ([2], 1)]


def test_a_player_who_left_counts_as_last_even_if_their_snake_outlived_others():
    order = finishing_order([o(1, won=True, left=True), o(2, died=3), o(3, died=8)], teams=False)
    assert order == [([3], 1), ([2], 2), ([1], 3)]


def test_team_order_and_leavers_of_a_team():
    outcomes = [o(1, team=0, won=True), o(2, team=1, died=4), o(3, team=0, died=2), o(4, team=1, left=True)]
    assert finishing_order(outcomes, teams=True) == [([1, 3], 1), ([2], 2), ([4], 3)]
    draw = [o(1, team=0, died=6), o(2, team=1, died=6)]
    assert finishing_order(draw, teams=True) == [([1], 1), ([2], 1)]


# --- rating arithmetic -----------------------------------------------------------------------


def test_mmr_and_skill_map_onto_each_other():
    for mmr in (0, 700, 1000, 1234, 2500):
        assert rating.mmr_of(rating.skill_from_mmr(mmr)) == mmr
    assert rating.skill_of(1000, None, None) == rating.Skill(rating.DEFAULT_MU, rating.DEFAULT_SIGMA)
    assert rating.skill_of(1000, 30.0, 2.0) == rating.Skill(30.0, 2.0)


def test_an_upset_moves_ratings_more_than_an_expected_result():
    strong, weak = rating.Skill(30.0, 3.0), rating.Skill(20.0, 3.0)
    (s1,), (w1,) = rating.rate([[strong], [weak]], [1, 2])
    (s2,), (w2,) = rating.rate([[strong], [weak]], [2, 1])
    assert s1.mu > strong.mu and w1.mu < weak.mu
    assert s2.mu < strong.mu and w2.mu > weak.mu
    assert strong.mu - s2.mu > s1.mu - strong.mu


def test_rate_needs_two_groups_and_one_rank_each():
    with pytest.raises(ValueError):
        rating.rate([[rating.skill_from_mmr(1000)]], [1])
    with pytest.raises(ValueError):
        rating.rate([[rating.skill_from_mmr(1000)], [rating.skill_from_mmr(1000)]], [1])


def rated_ticket(user_id: int, mmr: int, season: str | None) -> MatchTicket:
    skill = rating.skill_from_mmr(mmr)
    return MatchTicket(
        region="r",
        queue_key="team1",
        user_id=user_id,
        username=f"u{user_id}",
        mmr=mmr,
        server_id=1,
        enqueued_at_ms=0,
        rating_mu=skill.mu,
        rating_sigma=skill.sigma / 2,
        games_played=5,
        rating_season=season,
    )


def test_a_rating_of_an_earlier_season_is_soft_reset_and_tagged_with_the_new_one():
    old, fresh = rated_ticket(1, 1400, "2026-11"), rated_ticket(2, 1400, "2026-12")
    tickets = {1: old, 2: fresh}
    seats = RatedSeats.of([old, fresh])
    assert seats.mmr_before(1, "2026-12") == 1200  # half way back to 1000
    assert seats.mmr_before(2, "2026-12") == 1400  # already this season's: no reset
    # A draw between the two: each starts from what mmr_before says.
    updates = {u.user_id: u for u in rating_updates([([1], 1), ([2], 1)], tickets, "2026-12")}
    expected = rating.rate(
        [
            [soft_reset(rating.skill_of(1400, old.rating_mu, old.rating_sigma))],
            [rating.Skill(fresh.rating_mu, fresh.rating_sigma)],
        ],
        [1, 1],
    )
    assert [updates[1].mmr, updates[2].mmr] == [rating.mmr_of(g[0]) for g in expected]
    assert updates[1].rating_season == updates[2].rating_season == "2026-12"
    # Each write is guarded on the stored state the ticket carried, not the reset one.
    for user_id, ticket in tickets.items():
        guard = (
            updates[user_id].games_played_before,
            updates[user_id].rating_mu_before,
            updates[user_id].rating_sigma_before,
        )
        assert guard == (ticket.games_played, ticket.rating_mu, ticket.rating_sigma)


def test_no_season_counts_as_current_and_a_season_never_goes_back():
    unknown, ahead = rated_ticket(1, 1400, None), rated_ticket(2, 1400, "2027-01")
    seats = RatedSeats.of([unknown, ahead])
    assert seats.mmr_before(1, "2026-12") == seats.mmr_before(2, "2026-12") == 1400
    updates = {u.user_id: u for u in rating_updates([([1], 1), ([2], 2)], {1: unknown, 2: ahead}, "2026-12")}
    # A game ended on a lagging clock keeps the newer season, so nothing resets twice.
    assert (updates[1].rating_season, updates[2].rating_season) == ("2026-12", "2027-01")
