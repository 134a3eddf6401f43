"""The human queue's rules: which agent is offered a ticket, and the expected wait."""

from __future__ import annotations

from datetime import timedelta

from store.domain.queue import DEFAULT_HANDLING, expected_wait_seconds, least_recently_busy
from tests.factories import PAID_AT, agent


def test_with_no_agent_on_duty_there_is_no_expected_wait() -> None:
    assert expected_wait_seconds(1, [60.0], slots=0) is None


def test_without_history_the_default_handling_time_is_assumed() -> None:
    assert expected_wait_seconds(1, [], slots=1) == DEFAULT_HANDLING.total_seconds() == 300


def test_the_wait_is_the_median_handling_time_times_the_place_shared_over_the_slots() -> None:
    handled = [60.0, 600.0, 120.0]  # median 120, whatever the outlier
    assert expected_wait_seconds(3, handled, slots=2) == 180
    assert expected_wait_seconds(3, [*handled, 180.0], slots=2) == 225  # median of four: 150


def test_an_expected_wait_is_whole_seconds_rounded_down() -> None:
    assert expected_wait_seconds(1, [], slots=4) == 75
    assert expected_wait_seconds(1, [100.0], slots=3) == 33


def test_the_agent_with_fewest_open_tickets_is_offered_first() -> None:
    busy, idle = agent(1, open_tickets=2), agent(2, open_tickets=1)
    assert min([busy, idle], key=least_recently_busy) == idle


def test_among_equally_busy_agents_whoever_was_given_one_longest_ago_goes_first() -> None:
    recent = agent(1, open_tickets=1, last_assigned_at=PAID_AT)
    earlier = agent(2, open_tickets=1, last_assigned_at=PAID_AT - timedelta(minutes=1))
    never = agent(3, open_tickets=1)
    assert sorted([recent, earlier, never], key=least_recently_busy) == [never, earlier, recent]


def test_agents_alike_in_everything_are_offered_by_id() -> None:
    assert min([agent(9), agent(4)], key=least_recently_busy) == agent(4)


def test_an_agent_has_room_only_on_duty_and_below_capacity() -> None:
    assert agent(capacity=3, open_tickets=2).has_room
    assert not agent(capacity=3, open_tickets=3).has_room
    assert not agent(on_duty=False, open_tickets=0).has_room
