"""The human queue's rules: which agent is offered a ticket, and how long a buyer should expect
to wait."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from store.domain.model import Agent

DEFAULT_HANDLING = timedelta(minutes=5)
"""Assumed handling time until there is history to measure it."""

_NEVER = datetime.min.replace(tzinfo=UTC)


def least_recently_busy(agent: Agent) -> tuple[int, datetime, int]:
    """The order agents are offered tickets in, as a sort key: fewest open tickets first;
    among equals, whoever was given one longest ago (never, first); then the lower id."""
    return (agent.open_tickets, agent.last_assigned_at or _NEVER, agent.user_id)


def expected_wait_seconds(
    position: int, handled_seconds: Sequence[float], slots: int
) -> int | None:
    """The wait for the ticket at `position` (1 = next): the median of recent handling times
    (or `DEFAULT_HANDLING` without any) times the position, shared over the agents' `slots`
    (their capacities summed). None when no agent is on duty to serve it."""
    if slots <= 0:
        return None
    per_ticket = (
        statistics.median(handled_seconds) if handled_seconds else DEFAULT_HANDLING.total_seconds()
    )
    return int(position * per_ticket / slots)
